/// @file
/// Strict HTTP/1.1 message-head parsing (RFC 9112) for the opening handshake
/// and for plain HTTP requests on the same port. Parsed values are views into
/// the caller's buffer, which must outlive them.
#pragma once

#include <cstddef>
#include <string_view>
#include <system_error>
#include <vector>

namespace duplex::protocol {

/// One header field (views into the message's bytes).
struct HttpHeader {
  std::string_view name;   ///< as sent (compare case-insensitively)
  std::string_view value;  ///< without surrounding whitespace
};

/// What a head may hold before it is refused (431).
struct HttpLimits {
  std::size_t max_head_bytes = 16 * 1024;  ///< request/status line and all fields
  std::size_t max_headers = 100;           ///< header fields
};

/// Header fields in arrival order, looked up case-insensitively.
class HttpHeaders {
 public:
  /// Every field, in arrival order.
  ///@{
  std::vector<HttpHeader>& fields() noexcept { return fields_; }
  const std::vector<HttpHeader>& fields() const noexcept { return fields_; }
  ///@}
  /// Value of the first field named `name`, or an empty view.
  std::string_view get(std::string_view name) const noexcept;
  /// Whether, and how many times, a field named `name` is present.
  ///@{
  bool contains(std::string_view name) const noexcept;
  std::size_t count(std::string_view name) const noexcept;
  ///@}
  /// Calls fn(token) for each comma-separated element of every field named
  /// `name` (the way list-valued fields combine), trimmed, empty ones skipped.
  template <typename Fn>
  void for_each_token(std::string_view name, Fn&& fn) const;
  /// True when some field named `name` lists `token` (case-insensitive).
  bool has_token(std::string_view name, std::string_view token) const noexcept;

 private:
  std::vector<HttpHeader> fields_;
};

/// A parsed request line and header block.
struct HttpRequestHead {
  std::string_view method;    ///< "GET", ...
  std::string_view target;    ///< as sent: "/path?query"
  std::string_view path;      ///< target up to '?'
  std::string_view query;     ///< after '?', without it
  int version_minor = 1;      ///< the x of HTTP/1.x
  HttpHeaders headers;        ///< the header fields
  std::size_t head_size = 0;  ///< bytes up to and including the blank line
};

/// A parsed status line and header block.
struct HttpResponseHead {
  int version_minor = 1;      ///< the x of HTTP/1.x
  int status = 0;             ///< 101, 404, ...
  std::string_view reason;    ///< the reason phrase, as sent
  HttpHeaders headers;        ///< the header fields
  std::size_t head_size = 0;  ///< bytes up to and including the blank line
};

/// Parse the head at the start of `in`. Returns HandshakeError::http_incomplete while
/// the blank line has not arrived (and the head is still within the limit),
/// http_headers_too_large / http_too_many_headers past the limits, and
/// http_malformed for anything that is not strict HTTP/1.x (bare LF line ends,
/// folded lines, whitespace before a colon, control characters, ...).
///@{
std::error_code parse_request_head(std::string_view in, const HttpLimits& limits,
                                   HttpRequestHead& out);
std::error_code parse_response_head(std::string_view in, const HttpLimits& limits,
                                    HttpResponseHead& out);
///@}

/// Case-insensitive ASCII comparison.
bool iequals(std::string_view a, std::string_view b) noexcept;
/// Trims spaces and tabs from both ends.
std::string_view trim_ows(std::string_view s) noexcept;
/// Standard reason phrase for a status code ("Bad Request"), or "Unknown".
std::string_view http_reason_phrase(int status) noexcept;

template <typename Fn>
void HttpHeaders::for_each_token(std::string_view name, Fn&& fn) const {
  for (const HttpHeader& h : fields_) {
    if (!iequals(h.name, name)) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view item = trim_ows(rest.substr(0, comma));
      if (!item.empty()) fn(item);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
}

}  // namespace duplex::protocol
