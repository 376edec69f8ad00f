#include <duplex/protocol/error.hpp>
#include <duplex/protocol/handshake.hpp>
#include <duplex/protocol/handshake_keys.hpp>

#include <algorithm>
#include <stdexcept>

namespace duplex::protocol {
namespace {

bool is_token_char(char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

// Header values we emit must not be able to end the header early.
bool safe_value(std::string_view v) noexcept {
  return std::none_of(v.begin(), v.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7F;
  });
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

void append_user_headers(std::string& out, std::span<const HttpHeader> headers) {
  for (const HttpHeader& h : headers) {
    if (!is_token(h.name) || !safe_value(h.value)) {
      throw std::invalid_argument("invalid HTTP header: " + std::string(h.name));
    }
    append_header(out, h.name, h.value);
  }
}

}  // namespace

bool wants_websocket_upgrade(const HttpRequestHead& head) noexcept {
  return head.headers.has_token("Upgrade", "websocket");
}

std::error_code validate_upgrade_request(UpgradeRequest& out) {
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
    if (!is_token(p)) bad_protocol = true;
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

std::error_code parse_upgrade_request(std::string_view in, const HttpLimits& limits,
                                      UpgradeRequest& out) {
  if (auto ec = parse_request_head(in, limits, out.head)) return ec;
  return validate_upgrade_request(out);
}

int handshake_status(std::error_code ec) noexcept {
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

std::string build_accept_response(const UpgradeRequest& request, const AcceptOptions& options) {
  if (!options.subprotocol.empty() &&
      std::find(request.subprotocols.begin(), request.subprotocols.end(), options.subprotocol) ==
          request.subprotocols.end()) {
    throw std::invalid_argument("subprotocol was not offered by the client: " +
                                std::string(options.subprotocol));
  }
  if (!safe_value(options.extensions)) throw std::invalid_argument("invalid extensions value");
  std::string out;
  out.reserve(160 + options.extensions.size());
  out.append("HTTP/1.1 101 Switching Protocols\r\n");
  append_header(out, "Upgrade", "websocket");
  append_header(out, "Connection", "Upgrade");
  append_header(out, "Sec-WebSocket-Accept", compute_accept_key(request.key));
  if (!options.subprotocol.empty())
    append_header(out, "Sec-WebSocket-Protocol", options.subprotocol);
  if (!options.extensions.empty())
    append_header(out, "Sec-WebSocket-Extensions", options.extensions);
  append_user_headers(out, options.headers);
  out.append("\r\n");
  return out;
}

std::string build_http_response_head(int status, std::size_t content_length,
                                     std::string_view content_type,
                                     std::span<const HttpHeader> headers) {
  std::string out;
  out.reserve(160);
  out.append("HTTP/1.1 ").append(std::to_string(status)).append(" ");
  out.append(http_reason_phrase(status)).append("\r\n");
  if (!safe_value(content_type)) throw std::invalid_argument("invalid Content-Type");
  append_header(out, "Content-Type", content_type);
  append_header(out, "Content-Length", std::to_string(content_length));
  append_header(out, "Connection", "close");
  append_user_headers(out, headers);
  out.append("\r\n");
  return out;
}

std::string build_http_response(int status, std::string_view body,
                                std::span<const HttpHeader> headers,
                                std::string_view content_type) {
  std::string out = build_http_response_head(status, body.size(), content_type, headers);
  out.append(body);
  return out;
}

std::string build_handshake_rejection(std::error_code ec) {
  const int status = handshake_status(ec);
  std::vector<HttpHeader> headers;
  if (status == 426) {
    headers.push_back({"Sec-WebSocket-Version", "13"});
    headers.push_back({"Upgrade", "websocket"});
  }
  if (status == 405) headers.push_back({"Allow", "GET"});
  return build_http_response(status, ec.message() + "\n", headers);
}

std::string ClientHandshake::start(const ClientRequestOptions& options) {
  if (options.host.empty() || !safe_value(options.host)) {
    throw std::invalid_argument("invalid Host");
  }
  if (options.target.empty() || options.target.front() != '/' ||
      std::any_of(options.target.begin(), options.target.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F; })) {
    throw std::invalid_argument("invalid request target: " + std::string(options.target));
  }
  key_ = generate_client_key();
  expected_accept_ = compute_accept_key(key_);
  offered_subprotocols_.assign(options.subprotocols.begin(), options.subprotocols.end());
  offered_extensions_.clear();

  std::string out;
  out.reserve(256);
  out.append("GET ").append(options.target).append(" HTTP/1.1\r\n");
  append_header(out, "Host", options.host);
  append_header(out, "Upgrade", "websocket");
  append_header(out, "Connection", "Upgrade");
  append_header(out, "Sec-WebSocket-Key", key_);
  append_header(out, "Sec-WebSocket-Version", "13");
  if (!options.origin.empty()) {
    if (!safe_value(options.origin)) throw std::invalid_argument("invalid Origin");
    append_header(out, "Origin", options.origin);
  }
  if (!options.subprotocols.empty()) {
    std::string list;
    for (const std::string& p : options.subprotocols) {
      if (!is_token(p)) throw std::invalid_argument("invalid subprotocol: " + p);
      if (!list.empty()) list += ", ";
      list += p;
    }
    append_header(out, "Sec-WebSocket-Protocol", list);
  }
  if (!options.extensions.empty()) {
    std::string list;
    for (const Extension& e : options.extensions) {
      if (!is_token(e.name)) throw std::invalid_argument("invalid extension name: " + e.name);
      if (!list.empty()) list += ", ";
      list += format_extension(e);
      offered_extensions_.push_back(e.name);
    }
    if (!safe_value(list)) throw std::invalid_argument("invalid extension offer");
    append_header(out, "Sec-WebSocket-Extensions", list);
  }
  append_user_headers(out, options.headers);
  out.append("\r\n");
  return out;
}

std::error_code ClientHandshake::finish(std::string_view in, ClientHandshakeResult& out,
                                        const HttpLimits& limits) const {
  if (auto ec = parse_response_head(in, limits, out.head)) return ec;
  out.consumed = out.head.head_size;
  const HttpHeaders& h = out.head.headers;
  if (out.head.status != 101) return HandshakeError::rejected;
  if (!h.has_token("Upgrade", "websocket") || !h.has_token("Connection", "upgrade")) {
    return HandshakeError::not_an_upgrade;
  }
  if (h.count("Sec-WebSocket-Accept") != 1 || h.get("Sec-WebSocket-Accept") != expected_accept_) {
    return HandshakeError::invalid_accept;
  }

  out.subprotocol.clear();
  const std::size_t protocol_fields = h.count("Sec-WebSocket-Protocol");
  if (protocol_fields > 1) return HandshakeError::unexpected_subprotocol;
  if (protocol_fields == 1) {
    const std::string_view chosen = h.get("Sec-WebSocket-Protocol");
    if (std::find(offered_subprotocols_.begin(), offered_subprotocols_.end(), chosen) ==
        offered_subprotocols_.end()) {
      return HandshakeError::unexpected_subprotocol;
    }
    out.subprotocol = std::string(chosen);
  }

  out.extensions.clear();
  for (const HttpHeader& field : h.fields()) {
    if (!iequals(field.name, "Sec-WebSocket-Extensions")) continue;
    if (auto ec = parse_extension_list(field.value, out.extensions)) return ec;
  }
  for (std::size_t i = 0; i < out.extensions.size(); ++i) {
    const std::string& name = out.extensions[i].name;
    const bool offered = std::any_of(offered_extensions_.begin(), offered_extensions_.end(),
                                     [&](const std::string& o) { return iequals(o, name); });
    if (!offered) return HandshakeError::unexpected_extension;
    for (std::size_t j = 0; j < i; ++j) {
      if (iequals(out.extensions[j].name, name)) return HandshakeError::unexpected_extension;
    }
  }
  return {};
}

}  // namespace duplex::protocol
