// Fuzzes the client side of the opening handshake: response parsing, its
// validation against the request the client sent (subprotocols, extension
// answers), and reading a refusal's body, in two pieces split where the
// input's first byte says.
#include <duplex/protocol/client_handshake.hpp>
#include <duplex/protocol/handshake_keys.hpp>
#include <duplex/protocol/permessage_deflate.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace duplex::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::string> protocols{"chat", "superchat"};
  static const PerMessageDeflate deflate({.enabled = true});
  static const PerMessageExtension* const extensions[] = {&deflate};
  if (size == 0) return 0;
  ClientHandshake client({.max_head_bytes = 4096, .max_headers = 32}, 1024);
  OutputQueue out;
  if (client.start({.host = "example.com",
                    .target = "/",
                    .subprotocols = protocols,
                    .extensions = extensions},
                   out)) {
    std::abort();
  }
  // Unless the input brings its own, a correct accept line is spliced in
  // after the status line, so the fuzzer gets past the accept check.
  std::string in(reinterpret_cast<const char*>(data + 1), size - 1);
  if (in.find("Accept:") == std::string::npos) {
    const std::size_t eol = in.find("\r\n");
    if (eol != std::string::npos) {
      in.insert(eol + 2, "Sec-WebSocket-Accept: " + compute_accept_key(client.key()) + "\r\n");
    }
  }
  const std::size_t split = data[0] % (in.size() + 1);
  std::vector<std::uint8_t> wire(in.begin(), in.end());
  std::span<std::uint8_t> a(wire.data(), split), b(wire.data() + split, wire.size() - split);
  HandshakeEvent event = client.receive(a);
  if (event == HandshakeEvent::none) event = client.receive(b);
  if (event == HandshakeEvent::none) event = client.end_of_input();
  switch (event) {
    case HandshakeEvent::opened: {
      const std::string& chosen = client.agreement().subprotocol;
      if (!chosen.empty() && chosen != "chat" && chosen != "superchat") std::abort();
      if (!client.agreement().extensions.empty() && !client.agreement().transform) std::abort();
      break;
    }
    case HandshakeEvent::rejected:
      if (client.status() == 101 || client.body().size() > 1024) std::abort();
      for (const HttpHeader& h : client.headers().fields()) (void)h.name.size();
      break;
    case HandshakeEvent::failed:
      if (client.error().value() == 0) std::abort();
      break;
    case HandshakeEvent::none: break;
    default: std::abort();
  }
  return 0;
}
