#include "header_text.hpp"

#include <duplex/protocol/error.hpp>
#include <duplex/protocol/handshake_keys.hpp>
#include <duplex/protocol/http_response.hpp>
#include <duplex/protocol/server_handshake.hpp>

#include <algorithm>

namespace duplex::protocol {
namespace {

std::string_view as_text(std::span<const std::uint8_t> bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// True when the request asks for a WebSocket (Upgrade lists "websocket"):
// upgrades and plain HTTP requests share the port.
bool wants_websocket_upgrade(const HttpRequestHead& head) noexcept {
  return head.headers.has_token("Upgrade", "websocket");
}

// RFC 6455 4.2.1: checks that the parsed head is a valid upgrade and fills
// in the other fields.
std::error_code validate_upgrade(UpgradeRequest& out) {
  const HttpRequestHead& head = out.head;
  const HttpHeaders& h = head.headers;
  if (head.method != "GET") return HandshakeError::method_not_get;
  if (head.version_minor != 1) return HandshakeError::http_version_not_1_1;
  if (h.count("Host") != 1 || h.get("Host").empty()) return HandshakeError::missing_host;
  if (!h.has_token("Upgrade", "websocket") || !h.has_token("Connection", "upgrade")) {
    return HandshakeError::not_an_upgrade;
  }
  if (head.target.empty() || head.target.front() != '/') return HandshakeError::http_malformed;
  // Version before key: a client speaking an older draft deserves the 426
  // that tells it which version to use.
  if (h.count("Sec-WebSocket-Version") != 1 || h.get("Sec-WebSocket-Version") != "13") {
    return HandshakeError::unsupported_version;
  }
  if (h.count("Sec-WebSocket-Key") != 1 || !is_valid_client_key(h.get("Sec-WebSocket-Key"))) {
    return HandshakeError::invalid_key;
  }
  if (h.count("Origin") > 1) return HandshakeError::http_malformed;

  out.host = h.get("Host");
  out.key = h.get("Sec-WebSocket-Key");
  out.origin = h.get("Origin");
  out.subprotocols.clear();
  bool bad_protocol = false;
  h.for_each_token("Sec-WebSocket-Protocol", [&](std::string_view p) {
    if (!detail::is_token(p)) bad_protocol = true;
    out.subprotocols.push_back(p);
  });
  if (bad_protocol) return HandshakeError::http_malformed;
  out.extensions.clear();
  for (const HttpHeader& field : h.fields()) {
    if (!iequals(field.name, "Sec-WebSocket-Extensions")) continue;
    if (auto ec = parse_extension_list(field.value, out.extensions)) return ec;
  }
  return {};
}

bool origin_allowed(const ServerPolicy& policy, const UpgradeRequest& request) {
  if (policy.allowed_origins.empty()) return true;
  if (!request.head.headers.contains("Origin")) return policy.allow_missing_origin;
  return std::any_of(policy.allowed_origins.begin(), policy.allowed_origins.end(),
                     [&](const std::string& allowed) { return iequals(allowed, request.origin); });
}

// The status a handshake failure is answered with: 405 for a method other
// than GET, 426 for an unsupported version, 431 for oversized heads, 403
// for a refused Origin, 400 for the rest.
int status_for(std::error_code ec) noexcept {
  if (ec.category() != handshake_category()) return 400;
  switch (static_cast<HandshakeError>(ec.value())) {
    case HandshakeError::method_not_get: return 405;
    case HandshakeError::unsupported_version: return 426;
    case HandshakeError::http_headers_too_large:
    case HandshakeError::http_too_many_headers: return 431;
    case HandshakeError::origin_not_allowed: return 403;
    default: return 400;
  }
}

}  // namespace

HandshakeEvent ServerHandshake::receive(std::span<std::uint8_t>& input, OutputQueue& out) {
  if (done_) return HandshakeEvent::none;
  // Parse straight from the caller's buffer in the common case of a head
  // that arrived whole; collect the pieces otherwise.
  std::span<std::uint8_t> data = input;
  if (!collected_.empty()) {
    collected_.append(input);
    data = collected_.span();
  }
  const std::error_code ec = parse_request_head(as_text(data), policy_->limits, upgrade_.head);
  if (ec == HandshakeError::http_incomplete) {
    if (collected_.empty()) collected_.append(input);
    input = input.subspan(input.size());
    return HandshakeEvent::none;
  }
  done_ = true;
  input = data.subspan(std::min(upgrade_.head.head_size, data.size()));
  if (ec) return fail(ec, out);
  if (!wants_websocket_upgrade(upgrade_.head)) return HandshakeEvent::http_request;
  if (auto bad = validate_upgrade(upgrade_)) return fail(bad, out);
  if (!origin_allowed(*policy_, upgrade_)) return fail(HandshakeError::origin_not_allowed, out);
  return HandshakeEvent::upgrade_request;
}

HandshakeEvent ServerHandshake::fail(std::error_code ec, OutputQueue& out) {
  error_ = ec;
  const int status = status_for(ec);
  // The headers the RFC asks for with these statuses.
  std::vector<HttpHeader> headers;
  if (status == 426) {
    headers.push_back({"Sec-WebSocket-Version", "13"});
    headers.push_back({"Upgrade", "websocket"});
  }
  if (status == 405) headers.push_back({"Allow", "GET"});
  out.append(plain_http_response(status, ec.message() + "\n", headers));
  return HandshakeEvent::failed;
}

std::error_code ServerHandshake::accept(const AcceptOptions& options, OutputQueue& out,
                                        Agreement& agreed) {
  const auto& offered = upgrade_.subprotocols;
  if (!options.subprotocol.empty() &&
      std::find(offered.begin(), offered.end(), options.subprotocol) == offered.end()) {
    return UsageError::invalid_subprotocol;
  }
  std::string response;
  response.reserve(192);
  response.append("HTTP/1.1 101 Switching Protocols\r\n");
  detail::append_header(response, "Upgrade", "websocket");
  detail::append_header(response, "Connection", "Upgrade");
  detail::append_header(response, "Sec-WebSocket-Accept", compute_accept_key(upgrade_.key));
  if (!options.subprotocol.empty()) {
    detail::append_header(response, "Sec-WebSocket-Protocol", options.subprotocol);
  }
  if (!detail::append_user_headers(response, options.headers)) return UsageError::invalid_header;

  Agreement result;
  result.subprotocol = std::string(options.subprotocol);
  for (const PerMessageExtension* extension : options.extensions) {
    Extension answer;
    result.transform = extension->negotiate(upgrade_.extensions, answer);
    if (result.transform) {
      result.extensions = format_extension(answer);
      break;
    }
  }
  if (!result.extensions.empty()) {
    detail::append_header(response, "Sec-WebSocket-Extensions", result.extensions);
  }
  response.append("\r\n");
  out.append(response);
  agreed = std::move(result);
  return {};
}

std::error_code ServerHandshake::reject(int status, std::string_view body,
                                        std::span<const HttpHeader> headers, OutputQueue& out) {
  if (status < 400 || status > 599) status = 403;
  std::string response;
  if (auto ec = write_http_response(status, body, headers, "text/plain; charset=utf-8", response)) {
    return ec;
  }
  out.append(response);
  return {};
}

}  // namespace duplex::protocol
