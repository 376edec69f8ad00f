// An echo server over TLS (wss://) with permessage-deflate: the two options
// most public servers want. Without context takeover (the default), one
// compressor per thread serves every connection.
//
//   tls_deflate_server CERT.pem KEY.pem [PORT]     (default port 9443)
#include <duplex/server.hpp>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: tls_deflate_server CERT.pem KEY.pem [PORT]\n");
    return 2;
  }
  duplex::ServerOptions options;
  options.port = static_cast<std::uint16_t>(argc > 3 ? std::atoi(argv[3]) : 9443);
  options.tls = {.cert_file = argv[1], .key_file = argv[2]};
  options.deflate.enabled = true;
  duplex::Server server(options);
  server.websocket("/echo", {
                                .on_open =
                                    [](duplex::WebSocket& ws) {
                                      // What was agreed, for the curious.
                                      ws.send("extensions: " + std::string(ws.extensions()));
                                    },
                                .on_message = [](duplex::WebSocket& ws,
                                                 duplex::Message m) { ws.send(m.data, m.opcode); },
                            });
  if (const duplex::Status listening = server.listen(); !listening) {
    // A certificate OpenSSL cannot use says which file and why.
    std::fprintf(stderr, "tls_deflate_server: %s\n", listening.message().c_str());
    return 1;
  }
  std::printf("listening on wss://localhost:%u/echo\n", server.port());
  std::fflush(stdout);
  return server.run() ? 0 : 1;
}
