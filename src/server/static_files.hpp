// Serving files from a directory for GET/HEAD: safe path mapping (no way out
// of the root through "..", encoded dots or symbolic links) and Content-Type
// by file extension.
#pragma once

#include <duplex/protocol/output_queue.hpp>

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

// Appends a complete HTTP response for `request_path` to `out`: the file with
// 200, or 404. `head_only` leaves the body out.
void serve_static(const std::string& root, std::string_view request_path, bool head_only,
                  protocol::OutputQueue& out);

}  // namespace duplex::server
