// The subcommands of the duplex tool. Each registers its options on the
// CLI11 app and returns the function that runs it (after parsing).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace duplex::cli {

using Run = std::function<int()>;

Run add_tour_command(CLI::App& app);
Run add_serve_command(CLI::App& app);
Run add_connect_command(CLI::App& app);
Run add_bench_command(CLI::App& app);

}  // namespace duplex::cli
