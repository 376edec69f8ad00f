#include "token.hpp"

#include <duplex/protocol/error.hpp>
#include <duplex/protocol/http.hpp>

#include <array>

namespace duplex::protocol {
namespace {

using detail::is_token;
using detail::is_token_char;

// Field values may hold visible characters, spaces, tabs and obs-text.
bool is_field_value(std::string_view s) noexcept {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7F) return false;
  }
  return true;
}

// Request targets: visible ASCII only (no spaces, controls or raw bytes >= 0x80).
bool is_target(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7F) return false;
  }
  return true;
}

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// "HTTP/1.x" -> x, or -1.
int parse_version(std::string_view v) noexcept {
  if (v.size() != 8 || v.substr(0, 7) != "HTTP/1." || v[7] < '0' || v[7] > '9') return -1;
  return v[7] - '0';
}

// While a head is incomplete: can the bytes so far still begin a valid
// request line? A TLS ClientHello (first byte 0x16) or other binary is
// refused at once instead of waiting for a blank line that never comes.
bool plausible_request_start(std::string_view in) noexcept {
  std::size_t i = 0;
  for (; i < in.size() && in[i] != ' '; ++i) {
    if (!is_token_char(in[i])) return false;
  }
  for (; i < in.size() && in[i] != '\r' && in[i] != '\n'; ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x20 || c >= 0x7F) return false;
  }
  return true;
}

// Likewise for a status line: it must start with "HTTP/".
bool plausible_response_start(std::string_view in) noexcept {
  const std::string_view prefix = "HTTP/";
  const std::size_t n = std::min(in.size(), prefix.size());
  return in.substr(0, n) == prefix.substr(0, n);
}

// Finds the end of the head ("\r\n\r\n") within the limit.
std::error_code find_head_end(std::string_view in, const HttpLimits& limits, std::size_t& size) {
  const std::size_t window = std::min(in.size(), limits.max_head_bytes);
  const std::size_t at = in.substr(0, window).find("\r\n\r\n");
  // A line ended by LF alone would leave us waiting for a CRLF CRLF that
  // never comes (until the handshake timer): say what is wrong at once.
  const std::string_view scanned = in.substr(0, at == std::string_view::npos ? window : at);
  for (std::size_t lf = scanned.find('\n'); lf != std::string_view::npos;
       lf = scanned.find('\n', lf + 1)) {
    if (lf == 0 || scanned[lf - 1] != '\r') return HandshakeError::http_bare_line_feed;
  }
  if (at == std::string_view::npos) {
    return in.size() >= limits.max_head_bytes ? HandshakeError::http_headers_too_large
                                              : HandshakeError::http_incomplete;
  }
  size = at + 4;
  return {};
}

// Parses the field lines of `block` (each ending in CRLF, without the final
// blank line) into `headers`.
std::error_code parse_fields(std::string_view block, const HttpLimits& limits,
                             HttpHeaders& headers) {
  auto& fields = headers.fields();
  fields.clear();
  while (!block.empty()) {
    const std::size_t eol = block.find("\r\n");
    if (eol == std::string_view::npos) return HandshakeError::http_malformed;
    const std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol + 2);
    if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos) {
      return HandshakeError::http_malformed;  // bare CR or LF inside a line
    }
    // Obsolete line folding and whitespace before the colon are both refused
    // (RFC 9112 5.1/5.2): they are classic request-smuggling vectors.
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return HandshakeError::http_malformed;
    const std::string_view name = line.substr(0, colon);
    if (!is_token(name)) return HandshakeError::http_malformed;
    const std::string_view value = trim_ows(line.substr(colon + 1));
    if (!is_field_value(value)) return HandshakeError::http_malformed;
    if (fields.size() >= limits.max_headers) return HandshakeError::http_too_many_headers;
    fields.push_back({name, value});
  }
  return {};
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view HttpHeaders::get(std::string_view name) const noexcept {
  for (const HttpHeader& h : fields_) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

bool HttpHeaders::contains(std::string_view name) const noexcept {
  return count(name) > 0;
}

std::size_t HttpHeaders::count(std::string_view name) const noexcept {
  std::size_t n = 0;
  for (const HttpHeader& h : fields_) n += iequals(h.name, name) ? 1 : 0;
  return n;
}

bool HttpHeaders::has_token(std::string_view name, std::string_view token) const noexcept {
  bool found = false;
  for_each_token(name, [&](std::string_view item) { found = found || iequals(item, token); });
  return found;
}

std::error_code parse_request_head(std::string_view in, const HttpLimits& limits,
                                   HttpRequestHead& out) {
  std::size_t head_size = 0;
  if (auto ec = find_head_end(in, limits, head_size)) {
    if (ec == HandshakeError::http_incomplete && !plausible_request_start(in))
      return HandshakeError::http_malformed;
    return ec;
  }
  const std::string_view head = in.substr(0, head_size - 2);  // keep the last field's CRLF

  const std::size_t eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  // request-line = method SP request-target SP HTTP-version, single spaces.
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return HandshakeError::http_malformed;
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return HandshakeError::http_malformed;
  out.method = line.substr(0, sp1);
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const int minor = parse_version(line.substr(sp2 + 1));
  if (!is_token(out.method) || !is_target(out.target) || minor < 0)
    return HandshakeError::http_malformed;
  out.version_minor = minor;
  const std::size_t q = out.target.find('?');
  out.path = out.target.substr(0, q);
  out.query = q == std::string_view::npos ? std::string_view{} : out.target.substr(q + 1);

  if (auto ec = parse_fields(head.substr(eol + 2), limits, out.headers)) return ec;
  out.head_size = head_size;
  return {};
}

std::error_code parse_response_head(std::string_view in, const HttpLimits& limits,
                                    HttpResponseHead& out) {
  std::size_t head_size = 0;
  if (auto ec = find_head_end(in, limits, head_size)) {
    if (ec == HandshakeError::http_incomplete && !plausible_response_start(in))
      return HandshakeError::http_malformed;
    return ec;
  }

  const std::string_view head = in.substr(0, head_size - 2);

  const std::size_t eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  // status-line = HTTP-version SP 3DIGIT SP [reason-phrase]
  if (line.size() < 12 || line[8] != ' ') return HandshakeError::http_malformed;
  const int minor = parse_version(line.substr(0, 8));
  if (minor < 0) return HandshakeError::http_malformed;
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return HandshakeError::http_malformed;
    status = status * 10 + (line[i] - '0');
  }
  if (line.size() > 12 && line[12] != ' ') return HandshakeError::http_malformed;
  out.version_minor = minor;
  out.status = status;
  out.reason = line.size() > 13 ? line.substr(13) : std::string_view{};
  if (!is_field_value(out.reason)) return HandshakeError::http_malformed;

  if (auto ec = parse_fields(head.substr(eol + 2), limits, out.headers)) return ec;
  out.head_size = head_size;
  return {};
}

std::string_view http_reason_phrase(int status) noexcept {
  switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 416: return "Range Not Satisfiable";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

}  // namespace duplex::protocol
