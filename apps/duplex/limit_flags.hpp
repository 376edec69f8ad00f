// The limits and timers of `duplex serve` on its command line: connections,
// messages, HTTP, backpressure, timeouts and the TLS policy (the table in
// the README lists them with their defaults).
#pragma once

#include <duplex/server.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>

namespace duplex::cli {

// What the flags hold: the server's defaults until given.
struct LimitArgs {
  ServerOptions options;  // only the limits are read from it
  double handshake_timeout = 10;
  double idle_timeout = 120;
  double ping_interval = 30;
  double close_timeout = 5;
  double shutdown_timeout = 5;
};

// Adds the flags to `cmd`, bound to `args`.
void add_limit_flags(CLI::App* cmd, LimitArgs& args);
// Copies the limits `args` holds into `options`.
void apply_limit_flags(const LimitArgs& args, ServerOptions& options);

}  // namespace duplex::cli
