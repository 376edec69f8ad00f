#include <duplex/client_error.hpp>
#include <duplex/url.hpp>

#include <arpa/inet.h>

#include <cctype>

namespace duplex {
namespace {

bool is_reg_name_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~' || c == '%' || c == '!' ||
         c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' ||
         c == ',' || c == ';' || c == '=';
}

bool is_target_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7F && c != '#';
}

Status fail(const char* reason) {
  return {ClientError::invalid_url, reason};
}

}  // namespace

Status parse_websocket_url(std::string_view text, WebSocketUrl& out) {
  out = WebSocketUrl{};
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return fail("expected ws://host[:port][/path]");
  std::string scheme(text.substr(0, scheme_end));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme == "ws") {
    out.secure = false;
  } else if (scheme == "wss") {
    out.secure = true;
  } else {
    return {ClientError::unsupported_scheme, "scheme \"" + scheme + "\" is not ws or wss"};
  }
  std::string_view rest = text.substr(scheme_end + 3);
  if (rest.find('#') != std::string_view::npos) return ClientError::url_has_fragment;

  const std::size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  std::string_view target =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return fail("user information is not allowed in WebSocket URLs");
  }

  std::string_view host;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("unexpected text after IPv6 address");
      port_text = after.substr(1);
      if (port_text.empty()) return fail("empty port");
    }
    in6_addr probe;
    if (::inet_pton(AF_INET6, std::string(host).c_str(), &probe) != 1) {
      return fail("invalid IPv6 address");
    }
  } else {
    const std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return fail("empty port");
    }
    for (char c : host) {
      if (!is_reg_name_char(c)) return fail("invalid character in host");
    }
  }
  if (host.empty()) return fail("missing host");

  out.port = out.secure ? 443 : 80;
  if (!port_text.empty()) {
    unsigned long port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || port > 65535) return fail("invalid port");
      port = port * 10 + static_cast<unsigned long>(c - '0');
    }
    if (port == 0 || port > 65535) return fail("port out of range");
    out.port = static_cast<std::uint16_t>(port);
  }
  for (char c : target) {
    if (!is_target_char(c)) return fail("invalid character in path or query");
  }
  out.host = std::string(host);
  if (target.empty()) {
    out.target = "/";
  } else if (target.front() == '?') {
    out.target = "/" + std::string(target);
  } else {
    out.target = std::string(target);
  }
  return {};
}

std::string WebSocketUrl::host_header() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + host + "]" : host;
  if (port != (secure ? 443 : 80)) h += ":" + std::to_string(port);
  return h;
}

std::string WebSocketUrl::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(secure ? "wss://" : "ws://") + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port) + target;
}

}  // namespace duplex
