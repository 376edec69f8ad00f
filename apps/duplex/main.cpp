// duplex: the WebSocket command-line tool.
#include "commands.hpp"

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char** argv) {
  // A log or output reader that goes away (`duplex serve | head -1`) must
  // not end the process: writes to it fail with EPIPE instead, and are
  // dropped. (Sockets never raise SIGPIPE: they are written with
  // MSG_NOSIGNAL.)
  std::signal(SIGPIPE, SIG_IGN);
  // Signals that mean nothing to Duplex must not end a server that holds
  // thousands of connections (`serve` stops gracefully on SIGINT, SIGTERM
  // and SIGQUIT, and reads its configuration again on SIGHUP).
  std::signal(SIGUSR1, SIG_IGN);
  std::signal(SIGUSR2, SIG_IGN);
  CLI::App app{"duplex: WebSocket (RFC 6455) server, client and tools"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "duplex 0.1.0");
  // A bad argument gets one line naming it, and a non-zero exit.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("duplex: ") + e.what() + " (see --help)\n";
  });

  duplex::cli::Run run;
  const std::pair<const char*, duplex::cli::Run> commands[] = {
      {"serve", duplex::cli::add_serve_command(app)},
      {"connect", duplex::cli::add_connect_command(app)},
      {"bench", duplex::cli::add_bench_command(app)},

      {"tour", duplex::cli::add_tour_command(app)},
  };
  for (const auto& [name, fn] : commands) {
    app.get_subcommand(name)->callback([&run, f = fn] { run = f; });
  }

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
