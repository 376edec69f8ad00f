// Serving files from a directory for GET/HEAD: safe path mapping (no way out
// of the root through "..", encoded dots or symbolic links), Content-Type by
// file extension, validators (ETag, Last-Modified) and conditional requests,
// single byte ranges, and the body read from the file as the connection's
// output drains (see session::ResponseBody), whatever the file's size.
#pragma once

#include "../session/response_body.hpp"

#include <duplex/protocol/http.hpp>
#include <duplex/protocol/output_queue.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace duplex::server {

// The Content-Type for a file name ("text/html; charset=utf-8", ...).
std::string_view content_type_for(std::string_view file_name) noexcept;

// Maps a request path onto a file under `root` (already a real path).
// Returns the file's real path, or an empty string when the path is invalid,
// escapes the root, or names nothing readable. Directories map to their
// index.html.
std::string resolve_static_path(const std::string& root, std::string_view request_path);

// `length` bytes of a file from `first`.
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};

enum class RangeAnswer : std::uint8_t {
  whole,          // the whole file: what we do for several ranges or a malformed one
  partial,        // 206 with the range
  unsatisfiable,  // 416
};

// Reads a Range field's value for a file of `size` bytes: one range of
// bytes, `a-b`, `a-` or `-n` (RFC 9110 section 14.1.2).
RangeAnswer parse_range(std::string_view value, std::uint64_t size, ByteRange& range) noexcept;

// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") of a time in seconds since
// 1970, and back. Other date forms read as nothing (a condition with one is
// then ignored, and the file sent).
std::string format_http_date(std::int64_t unix_seconds);
std::optional<std::int64_t> parse_http_date(std::string_view text) noexcept;

// Answers a GET or HEAD of `request.path` under `root`: appends the head
// (and the short body of an error) to `out`, and returns what of the file
// is to follow it, or null when nothing is (HEAD, 304, 404, 416, empty).
// If-None-Match (first), If-Modified-Since, Range and If-Range are honoured.
std::unique_ptr<session::ResponseBody> serve_static(const std::string& root,
                                                    const protocol::HttpRequestHead& request,
                                                    protocol::OutputQueue& out);

}  // namespace duplex::server
