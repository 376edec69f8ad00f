// duplex: the WebSocket command-line tool.
#include "commands.hpp"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  CLI::App app{"duplex: WebSocket (RFC 6455) server, client and tools"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "duplex 0.1.0");

  duplex::cli::Run run;
  const auto tour = duplex::cli::add_tour_command(app);
  app.get_subcommand("tour")->callback([&] { run = tour; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return run ? run() : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "duplex: %s\n", e.what());
    return 1;
  }
}
