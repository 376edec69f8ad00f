// Fuzzes the server side of the opening handshake: HTTP request parsing,
// upgrade validation, extension parsing, and building the answer.
#include <duplex/protocol/handshake.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace duplex::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  UpgradeRequest request;
  const HttpLimits limits{.max_head_bytes = 4096, .max_headers = 32};
  const std::error_code ec = parse_upgrade_request(in, limits, request);
  if (ec) {
    const int status = handshake_status(ec);
    if (status < 400 || status > 499) std::abort();
    (void)build_handshake_rejection(ec);
    return 0;
  }
  // Everything parsed must lie inside the input and the head.
  if (request.head.head_size > size) std::abort();
  for (const HttpHeader& h : request.head.headers.fields()) {
    if (h.name.data() < in.data() || h.value.data() + h.value.size() > in.data() + size) std::abort();
  }
  const std::string_view chosen = request.subprotocols.empty() ? std::string_view{} : request.subprotocols[0];
  const std::string response = build_accept_response(request, {.subprotocol = chosen});
  // Our own response must satisfy a client that sent this key.
  HttpResponseHead head;
  if (parse_response_head(response, {}, head) || head.status != 101) std::abort();
  for (const Extension& e : request.extensions) (void)format_extension(e);
  return 0;
}
