#include "static_files.hpp"

#include <duplex/protocol/http_response.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

namespace duplex::server {
namespace {

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

constexpr std::string_view day_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Decimal digits only (at least one); values past 2^64 - 1 saturate.
bool parse_count(std::string_view s, std::uint64_t& value) noexcept {
  if (s.empty()) return false;
  value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    value = value > (UINT64_MAX - digit) / 10 ? UINT64_MAX : value * 10 + digit;
  }
  return true;
}

// Two-digit (or four-digit) fields of a date; -1 when not digits.
int digits(std::string_view s) noexcept {
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

// Size and modification time to the nanosecond: what changes when the
// file does (an edit within the same second included, where the file
// system keeps nanoseconds).
std::string make_etag(const struct stat& st) {
  char text[64];
  const auto ns = static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1'000'000'000ULL +
                  static_cast<unsigned long long>(st.st_mtim.tv_nsec);
  std::snprintf(text, sizeof text, "\"%llx-%llx\"", static_cast<unsigned long long>(st.st_size),
                ns);
  return text;
}

// Whether `etag` is in an If-None-Match list ("*" or entity tags, weak
// comparison: W/ is ignored).
bool etag_listed(std::string_view list, std::string_view etag) noexcept {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view tag = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (tag == "*") return true;
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
  }
  return false;
}

// RFC 9110 section 13.2.2: If-None-Match decides when present (ignoring
// If-Modified-Since); else If-Modified-Since, when it is a date we read.
bool not_modified(const protocol::HttpHeaders& h, std::string_view etag, std::int64_t mtime) {
  if (h.contains("If-None-Match")) return etag_listed(h.get("If-None-Match"), etag);
  if (!h.contains("If-Modified-Since")) return false;
  const auto since = parse_http_date(h.get("If-Modified-Since"));
  return since && mtime <= *since;
}

// If-Range: the range applies only to the version the client has (strong
// comparison of the entity tag, or the exact Last-Modified date).
bool range_applies(const protocol::HttpHeaders& h, std::string_view etag, std::int64_t mtime) {
  if (!h.contains("If-Range")) return true;
  const std::string_view v = h.get("If-Range");
  if (v.starts_with("\"") || v.starts_with("W/")) return v == etag;
  const auto date = parse_http_date(v);
  return date && *date == mtime;
}

// Reads a file's bytes with pread(), a part at a time; owns the descriptor.
class FileBody final : public session::ResponseBody {
 public:
  explicit FileBody(int fd) noexcept : fd_(fd) {}
  ~FileBody() override { ::close(fd_); }
  FileBody(const FileBody&) = delete;
  FileBody& operator=(const FileBody&) = delete;

  void set_range(ByteRange range) noexcept {
    at_ = range.first;
    left_ = range.length;
  }

  Fill fill(protocol::OutputQueue& out, std::size_t max) override {
    if (left_ == 0) return Fill::done;
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(max, left_));
    std::uint8_t* dst = out.prepare(want);
    ssize_t n;
    do {
      n = ::pread(fd_, dst, want, static_cast<off_t>(at_));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return Fill::failed;  // a read error, or the file shrank
    out.commit(static_cast<std::size_t>(n));
    at_ += static_cast<std::uint64_t>(n);
    left_ -= static_cast<std::uint64_t>(n);
    return left_ == 0 ? Fill::done : Fill::more;
  }

 private:
  int fd_;
  std::uint64_t at_ = 0;
  std::uint64_t left_ = 0;
};

void answer_plain(int status, std::string_view body, std::span<const protocol::HttpHeader> headers,
                  bool head_only, protocol::OutputQueue& out) {
  std::string head;
  protocol::write_http_response_head(status, body.size(), "text/plain; charset=utf-8", headers,
                                     head);
  out.append(head);
  if (!head_only) out.append(body);
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

RangeAnswer parse_range(std::string_view value, std::uint64_t size, ByteRange& range) noexcept {
  value = trim(value);
  // Other units are not ours: the whole file.
  if (value.size() < 6 || !protocol::iequals(value.substr(0, 6), "bytes=")) {
    return RangeAnswer::whole;
  }
  value = value.substr(6);
  if (value.find(',') != std::string_view::npos) return RangeAnswer::whole;  // several
  const std::size_t dash = value.find('-');
  if (dash == std::string_view::npos) return RangeAnswer::whole;
  const std::string_view first_text = trim(value.substr(0, dash));
  const std::string_view last_text = trim(value.substr(dash + 1));
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  if (first_text.empty()) {
    // -n: the last n bytes.
    if (!parse_count(last_text, last)) return RangeAnswer::whole;
    if (last == 0 || size == 0) return RangeAnswer::unsatisfiable;
    const std::uint64_t length = std::min(last, size);
    range = {size - length, length};
    return RangeAnswer::partial;
  }
  if (!parse_count(first_text, first)) return RangeAnswer::whole;
  if (last_text.empty()) {
    last = UINT64_MAX;  // a-: to the end
  } else if (!parse_count(last_text, last) || last < first) {
    return RangeAnswer::whole;  // malformed: ignored
  }
  if (first >= size) return RangeAnswer::unsatisfiable;
  last = std::min(last, size - 1);
  range = {first, last - first + 1};
  return RangeAnswer::partial;
}

std::string format_http_date(std::int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[40];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                day_names[tm.tm_wday].data(), tm.tm_mday, month_names[tm.tm_mon].data(),
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return text;
}

std::optional<std::int64_t> parse_http_date(std::string_view s) noexcept {
  // Sun, 06 Nov 1994 08:49:37 GMT
  // 0123456789012345678901234567
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  if (std::find(std::begin(day_names), std::end(day_names), s.substr(0, 3)) ==
      std::end(day_names)) {
    return std::nullopt;
  }
  const auto month = std::find(std::begin(month_names), std::end(month_names), s.substr(8, 3));
  std::tm tm{};
  tm.tm_mday = digits(s.substr(5, 2));
  tm.tm_year = digits(s.substr(12, 4)) - 1900;
  tm.tm_hour = digits(s.substr(17, 2));
  tm.tm_min = digits(s.substr(20, 2));
  tm.tm_sec = digits(s.substr(23, 2));
  if (month == std::end(month_names) || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_year < 0 ||
      tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  tm.tm_mon = static_cast<int>(month - std::begin(month_names));
  return static_cast<std::int64_t>(::timegm(&tm));
}

std::unique_ptr<session::ResponseBody> serve_static(const std::string& root,
                                                    const protocol::HttpRequestHead& request,
                                                    protocol::OutputQueue& out) {
  const bool head_only = request.method == "HEAD";
  const std::string path = resolve_static_path(root, request.path);
  const int fd = path.empty() ? -1 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    answer_plain(404, "not found\n", {}, head_only, out);
    return nullptr;
  }
  auto body = std::make_unique<FileBody>(fd);  // closes it on every way out
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    answer_plain(404, "not found\n", {}, head_only, out);
    return nullptr;
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const std::int64_t mtime = st.st_mtim.tv_sec;
  const std::string etag = make_etag(st);
  const std::string modified = format_http_date(mtime);
  std::string content_range;
  protocol::HttpHeader headers[] = {
      {"Accept-Ranges", "bytes"}, {"ETag", etag}, {"Last-Modified", modified}, {}};
  std::span<const protocol::HttpHeader> validators(headers, 3);
  const protocol::HttpHeaders& h = request.headers;
  std::string head;
  if (not_modified(h, etag, mtime)) {
    // The length a 200 would have (RFC 9110 section 8.6), and no body.
    protocol::write_http_response_head(304, size, content_type_for(path), validators, head);
    out.append(head);
    return nullptr;
  }
  ByteRange range{0, size};
  RangeAnswer answer = RangeAnswer::whole;
  if (h.count("Range") == 1 && range_applies(h, etag, mtime)) {
    answer = parse_range(h.get("Range"), size, range);
  }
  if (answer == RangeAnswer::unsatisfiable) {
    content_range = "bytes */" + std::to_string(size);
    headers[3] = {"Content-Range", content_range};
    answer_plain(416, "range not satisfiable\n", headers, head_only, out);
    return nullptr;
  }
  int status = 200;
  if (answer == RangeAnswer::partial) {
    status = 206;
    content_range = "bytes " + std::to_string(range.first) + "-" +
                    std::to_string(range.first + range.length - 1) + "/" + std::to_string(size);
    headers[3] = {"Content-Range", content_range};
  }
  protocol::write_http_response_head(
      status, range.length, content_type_for(path),
      status == 206 ? std::span<const protocol::HttpHeader>(headers) : validators, head);
  out.append(head);
  if (head_only || range.length == 0) return nullptr;
  body->set_range(range);
  return body;
}

}  // namespace duplex::server
