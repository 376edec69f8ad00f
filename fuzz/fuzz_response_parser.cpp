// Fuzzes the client side of the opening handshake: response parsing and
// validation against the request the client sent.
#include <duplex/protocol/handshake.hpp>
#include <duplex/protocol/handshake_keys.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace duplex::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::string> protocols{"chat", "superchat"};
  static const std::vector<Extension> extensions{{"permessage-deflate", {{"client_max_window_bits", {}}}}};
  ClientHandshake client;
  client.start({.host = "example.com", .target = "/", .subprotocols = protocols, .extensions = extensions});
  // Unless the input brings its own, a correct accept line is spliced in
  // after the status line, so the fuzzer gets past the accept check.
  std::string in(reinterpret_cast<const char*>(data), size);
  if (in.find("Accept:") == std::string::npos) {
    const std::size_t eol = in.find("\r\n");
    if (eol != std::string::npos) {
      in.insert(eol + 2, "Sec-WebSocket-Accept: " + compute_accept_key(client.key()) + "\r\n");
    }
  }
  ClientHandshakeResult result;
  const std::error_code ec = client.finish(in, result, {.max_head_bytes = 4096, .max_headers = 32});
  if (!ec) {
    if (result.consumed > in.size()) std::abort();
    if (!result.subprotocol.empty() && result.subprotocol != "chat" && result.subprotocol != "superchat") {
      std::abort();
    }
    for (const Extension& e : result.extensions) {
      if (!iequals(e.name, "permessage-deflate")) std::abort();
    }
  }
  return 0;
}
