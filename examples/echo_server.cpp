// The smallest useful Duplex server: every message goes back to its sender.
//
//   echo_server [PORT]     (default 9002; 0 picks a free port)
//
// It prints the URL it listens on; Ctrl-C (or SIGTERM) closes every
// connection with 1001 and ends it.
#include <duplex/server.hpp>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  const auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 9002);
  duplex::Server server({.port = port});
  server.websocket("/echo", {
                                .on_message =
                                    [](duplex::WebSocket& ws, duplex::Message m) {
                                      ws.send(m.data, m.opcode);  // text stays text
                                    },
                            });
  if (const duplex::Status listening = server.listen(); !listening) {
    std::fprintf(stderr, "echo_server: %s\n", listening.message().c_str());
    return 1;
  }
  std::printf("listening on ws://127.0.0.1:%u/echo\n", server.port());
  std::fflush(stdout);
  return server.run() ? 0 : 1;
}
