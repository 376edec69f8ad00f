/// @file
/// HTTP/1.1 responses for requests that are not upgrades (and for refusals):
/// status line, Content-Type, Content-Length, `Connection: close`, extra
/// headers, body. Header text from the application is checked, so it cannot
/// end the head early or add headers of its own.
#pragma once

#include <duplex/protocol/http.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace duplex::protocol {

/// Appends a response head (through the blank line) to `out`: for HEAD
/// requests and bodies written separately. `UsageError::invalid_header`,
/// with nothing appended, when the content type or a header cannot be sent.
std::error_code write_http_response_head(int status, std::size_t content_length,
                                         std::string_view content_type,
                                         std::span<const HttpHeader> headers, std::string& out);

/// Appends a complete response with `body` to `out` (see
/// `write_http_response_head`).
std::error_code write_http_response(int status, std::string_view body,
                                    std::span<const HttpHeader> headers,
                                    std::string_view content_type, std::string& out);

/// A complete plain-text response from constant parts the caller knows to be
/// valid (a status and a body of its own): for refusals.
std::string plain_http_response(int status, std::string_view body,
                                std::span<const HttpHeader> headers = {});

}  // namespace duplex::protocol
