// Fuzzes the server side of the opening handshake: request parsing (the
// input is fed in two pieces, split where its first byte says), upgrade
// validation, the Origin policy, extension negotiation, and the answer.
#include <duplex/protocol/http.hpp>
#include <duplex/protocol/permessage_deflate.hpp>
#include <duplex/protocol/server_handshake.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace duplex::protocol;

namespace {

std::string drain(OutputQueue& q) {
  std::string out;
  q.drain_to(out);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ServerPolicy policy{.limits = {.max_head_bytes = 4096, .max_headers = 32},
                                   .allowed_origins = {"https://a.example"}};
  static const PerMessageDeflate deflate({.enabled = true});
  static const PerMessageExtension* const extensions[] = {&deflate};
  if (size == 0) return 0;
  std::vector<std::uint8_t> wire(data + 1, data + size);
  const std::size_t split = wire.empty() ? 0 : data[0] % (wire.size() + 1);

  ServerHandshake hs(policy);
  OutputQueue out;
  HandshakeEvent event = HandshakeEvent::none;
  std::span<std::uint8_t> rest;
  std::span<std::uint8_t> first(wire.data(), split);
  event = hs.receive(first, out);
  if (event == HandshakeEvent::none) {
    if (!first.empty()) std::abort();  // an incomplete head is taken whole
    std::span<std::uint8_t> second(wire.data() + split, wire.size() - split);
    event = hs.receive(second, out);
    rest = second;
  } else {
    rest = first;
  }
  const std::string answer = drain(out);
  switch (event) {
    case HandshakeEvent::none:
      if (!answer.empty()) std::abort();
      return 0;
    case HandshakeEvent::failed: {
      // A refusal is a complete 4xx response that our own parser reads.
      HttpResponseHead head;
      if (parse_response_head(answer, {}, head) || head.status < 400 || head.status > 499) {
        std::abort();
      }
      if (hs.error().value() == 0) std::abort();
      return 0;
    }
    case HandshakeEvent::http_request:
      if (!answer.empty()) std::abort();
      return 0;
    case HandshakeEvent::upgrade_request: break;
    default: std::abort();
  }
  if (rest.size() > wire.size()) std::abort();
  const UpgradeRequest& request = hs.upgrade();
  for (const Extension& e : request.extensions) (void)format_extension(e);
  const std::string_view chosen =
      request.subprotocols.empty() ? std::string_view{} : request.subprotocols[0];
  Agreement agreed;
  if (hs.accept({.subprotocol = chosen, .extensions = extensions}, out, agreed)) std::abort();
  // Our own response must satisfy a client that sent this key.
  HttpResponseHead head;
  const std::string response = drain(out);
  if (parse_response_head(response, {}, head) || head.status != 101) std::abort();
  if (!agreed.extensions.empty() && !agreed.transform) std::abort();
  return 0;
}
