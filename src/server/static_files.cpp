#include "static_files.hpp"

#include <duplex/protocol/http_response.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <vector>

namespace duplex::server {
namespace {

constexpr off_t max_static_file = 64 * 1024 * 1024;

bool ends_with(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes; false for malformed escapes or a decoded NUL.
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    const char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return false;
    out += c;
    i += 2;
  }
  return true;
}

std::string real_path(const std::string& path) {
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf)) return {};
  return buf;
}

bool within(const std::string& root, const std::string& path) {
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          path[root.size()] == '/');
}

}  // namespace

std::string_view content_type_for(std::string_view name) noexcept {
  struct Entry {
    std::string_view ext;
    std::string_view type;
  };
  static constexpr Entry types[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/markdown; charset=utf-8"},
      {".xml", "application/xml"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".wasm", "application/wasm"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".pdf", "application/pdf"},
  };
  for (const Entry& e : types) {
    if (ends_with(name, e.ext)) return e.type;
  }
  return "application/octet-stream";
}

std::string resolve_static_path(const std::string& root, std::string_view request_path) {
  std::string decoded;
  if (request_path.empty() || request_path.front() != '/' ||
      !percent_decode(request_path, decoded)) {
    return {};
  }
  // Rebuild the path from its segments, refusing "..": it is the one way
  // out of the root that the segments themselves could express.
  std::string relative;
  std::size_t at = 0;
  while (at <= decoded.size()) {
    std::size_t slash = decoded.find('/', at);
    if (slash == std::string::npos) slash = decoded.size();
    const std::string_view segment(decoded.data() + at, slash - at);
    if (segment == "..") return {};
    if (!segment.empty() && segment != ".") {
      relative += '/';
      relative += segment;
    }
    at = slash + 1;
  }
  std::string candidate = root + relative;
  struct stat st;
  if (::stat(candidate.c_str(), &st) != 0) return {};
  if (S_ISDIR(st.st_mode)) {
    candidate += "/index.html";
    if (::stat(candidate.c_str(), &st) != 0) return {};
  }
  if (!S_ISREG(st.st_mode)) return {};
  // Symbolic links may point anywhere: judge where the file really is.
  std::string resolved = real_path(candidate);
  if (resolved.empty() || !within(root, resolved)) return {};
  return resolved;
}

void serve_static(const std::string& root, std::string_view request_path, bool head_only,
                  protocol::OutputQueue& out) {
  const std::string path = resolve_static_path(root, request_path);
  const int fd = path.empty() ? -1 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0 || st.st_size > max_static_file) {
    if (fd >= 0) ::close(fd);
    const std::string_view body = "not found\n";
    std::string head;
    protocol::write_http_response_head(404, body.size(), "text/plain; charset=utf-8", {}, head);
    out.append(head);
    if (!head_only) out.append(body);
    return;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  std::string head;
  protocol::write_http_response_head(200, size, content_type_for(path), {}, head);
  out.append(head);
  if (!head_only && size > 0) {
    std::uint8_t* dst = out.prepare(size);
    std::size_t done = 0;
    while (done < size) {
      const ssize_t n = ::read(fd, dst + done, size - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    // A file that shrank while being read: pad so Content-Length stays true.
    if (done < size) std::fill(dst + done, dst + size, std::uint8_t{0});
    out.commit(size);
  }
  ::close(fd);
}

}  // namespace duplex::server
