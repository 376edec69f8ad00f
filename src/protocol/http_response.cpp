#include "header_text.hpp"

#include <duplex/protocol/error.hpp>
#include <duplex/protocol/http_response.hpp>

namespace duplex::protocol {

std::error_code write_http_response_head(int status, std::size_t content_length,
                                         std::string_view content_type,
                                         std::span<const HttpHeader> headers, std::string& out) {
  if (!detail::is_safe_value(content_type)) return UsageError::invalid_header;
  std::string head;
  head.reserve(160);
  head.append("HTTP/1.1 ").append(std::to_string(status)).append(" ");
  head.append(http_reason_phrase(status)).append("\r\n");
  detail::append_header(head, "Content-Type", content_type);
  detail::append_header(head, "Content-Length", std::to_string(content_length));
  detail::append_header(head, "Connection", "close");
  if (!detail::append_user_headers(head, headers)) return UsageError::invalid_header;
  head.append("\r\n");
  out.append(head);
  return {};
}

std::error_code write_http_response(int status, std::string_view body,
                                    std::span<const HttpHeader> headers,
                                    std::string_view content_type, std::string& out) {
  if (auto ec = write_http_response_head(status, body.size(), content_type, headers, out)) {
    return ec;
  }
  out.append(body);
  return {};
}

std::string plain_http_response(int status, std::string_view body,
                                std::span<const HttpHeader> headers) {
  std::string out;
  if (write_http_response(status, body, headers, "text/plain; charset=utf-8", out)) {
    // Only the caller's constant headers could fail; answer without them.
    out.clear();
    write_http_response(status, body, {}, "text/plain; charset=utf-8", out);
  }
  return out;
}

}  // namespace duplex::protocol
