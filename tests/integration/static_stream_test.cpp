// Static files streamed from disk: a slow reader gets every byte, however
// long it takes, while a reader that stops is dropped once nothing moves for
// the handshake timeout; clients that do not read cost a bounded queue each,
// not the file; files of any size; ranges and conditional requests.
#include "raw_client.hpp"
#include "running_server.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

namespace duplex::test {
namespace {

using namespace std::chrono_literals;

// Deterministic bytes that differ along the file, so a part out of place
// or repeated shows.
std::string file_bytes(std::size_t n) {
  std::string s(n, '\0');
  std::uint32_t x = 2463534242u;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s[i] = static_cast<char>(x);
  }
  return s;
}

struct Response {
  std::string status_line;
  std::map<std::string, std::string> headers;
  std::string body;
  bool complete = false;  // the server ended the connection

  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

Response parse_response(const std::string& raw, bool complete) {
  Response r;
  r.complete = complete;
  const std::size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return r;
  std::size_t at = raw.find("\r\n");
  r.status_line = raw.substr(0, at);
  while (at < end) {
    const std::size_t next = raw.find("\r\n", at + 2);
    const std::string line = raw.substr(at + 2, next - at - 2);
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos) r.headers[line.substr(0, colon)] = line.substr(colon + 2);
    at = next;
  }
  r.body = raw.substr(end + 4);
  return r;
}

// Resident memory of this process (the server runs in it), in bytes.
std::size_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6)) * 1024;
  }
  return 0;
}

class StaticStreaming : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("duplex-stream-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(root_);
    std::ofstream(root_ / "data.txt") << "0123456789abcdef";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void write_file(const std::string& name, const std::string& bytes) {
    std::ofstream(root_ / name, std::ios::binary) << bytes;
  }
  // A sparse file of `size` bytes ending in `tail`.
  void sparse_file(const std::string& name, std::uint64_t size, std::string_view tail) {
    const std::string path = (root_ / name).string();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
    ASSERT_EQ(::pwrite(fd, tail.data(), tail.size(), static_cast<off_t>(size - tail.size())),
              static_cast<ssize_t>(tail.size()));
    ::close(fd);
  }

  ServerOptions options() const {
    ServerOptions o;
    o.static_dir = root_.string();
    return o;
  }

  // One request (with `headers`, each ending in CRLF), read to the server's
  // end of the connection.
  static Response request(std::uint16_t port, std::string_view method, std::string_view path,
                          std::string_view headers = {}) {
    RawClient c(port);
    c.send(std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: h\r\n" +
           std::string(headers) + "\r\n");
    std::string raw;
    const bool closed = c.closed_within(20s, &raw);
    return parse_response(raw, closed);
  }

  std::filesystem::path root_;
};

TEST_F(StaticStreaming, ASlowReaderGetsEveryByteLongAfterTheHandshakeTimeout) {
  const std::string content = file_bytes(8 * 1024 * 1024);
  write_file("big.bin", content);
  ServerOptions o = options();
  o.handshake_timeout = 300ms;
  RunningServer rs(o, [](Server&) {});
  // A small receive window, so that the server's queue, not the kernel's
  // buffers, holds what the reader has not taken yet.
  RawClient c(rs.port(), 16 * 1024);
  c.send("GET /big.bin HTTP/1.1\r\nHost: h\r\n\r\n");
  std::string raw;
  bool eof = false;
  char buf[8192];
  // A few KiB at a time with a pause: several handshake timeouts long.
  const auto give_up = std::chrono::steady_clock::now() + 120s;
  for (int reads = 0; reads < 200'000 && !eof && std::chrono::steady_clock::now() < give_up;
       ++reads) {
    pollfd p{c.fd(), POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(c.fd(), buf, sizeof buf, 0);
    if (n <= 0) {
      eof = true;
      break;
    }
    raw.append(buf, static_cast<std::size_t>(n));
    std::this_thread::sleep_for(1ms);
  }
  const Response r = parse_response(raw, eof);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(r.header("Content-Length"), std::to_string(content.size()));
  ASSERT_EQ(r.body.size(), content.size());
  EXPECT_TRUE(r.body == content) << "the bytes differ";
}

TEST_F(StaticStreaming, AReaderThatStopsIsDroppedAfterTheTimeoutWithoutProgress) {
  write_file("big.bin", file_bytes(16 * 1024 * 1024));
  std::mutex m;
  std::condition_variable cv;
  bool dropped = false;
  ServerOptions o = options();
  o.handshake_timeout = 300ms;
  o.log = [&](LogLevel, std::string_view text) {
    if (text.find("no progress") == std::string_view::npos) return;
    std::lock_guard lock(m);
    dropped = true;
    cv.notify_all();
  };
  RunningServer rs(o, [](Server&) {});
  RawClient c(rs.port(), 16 * 1024);
  c.send("GET /big.bin HTTP/1.1\r\nHost: h\r\n\r\n");
  {
    std::unique_lock lock(m);
    EXPECT_TRUE(cv.wait_for(lock, 60s, [&] { return dropped; }));
  }
  // What the kernel still held arrives, then the end: short of the file.
  std::string raw;
  EXPECT_TRUE(c.closed_within(30s, &raw));
  EXPECT_LT(raw.size(), 16u * 1024 * 1024);
}

TEST_F(StaticStreaming, ClientsThatDoNotReadHoldABoundedQueueNotTheFile) {
  constexpr std::uint64_t size = 64ull * 1024 * 1024;
  constexpr int clients = 8;
  sparse_file("large.bin", size, "end");
  RunningServer rs(options(), [](Server&) {});
  const std::size_t before = resident_bytes();
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < clients; ++i) {
    auto c = std::make_unique<RawClient>(rs.port(), 16 * 1024);
    c->send("GET /large.bin HTTP/1.1\r\nHost: h\r\n\r\n");
    // The head has come (and a little of the body): the answer is under
    // way. Then this client reads nothing more.
    std::string got;
    for (int reads = 0; reads < 100 && got.find("\r\n\r\n") == std::string::npos; ++reads) {
      got += c->read_some(100ms);
    }
    ASSERT_NE(got.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << got.substr(0, 200);
    ASSERT_NE(got.find("Content-Length: " + std::to_string(size) + "\r\n"), std::string::npos);
    idle.push_back(std::move(c));
  }
  const std::size_t after = resident_bytes();
  const std::size_t grown = after > before ? after - before : 0;
  // 512 MiB if each answer were held whole; a small bound each instead.
  EXPECT_LT(grown, 48u * 1024 * 1024) << "resident memory grew by " << grown << " bytes";
}

TEST_F(StaticStreaming, FilesOver64MiBAreServedWholeAndInRanges) {
  constexpr std::uint64_t size = 100ull * 1024 * 1024;
  sparse_file("huge.bin", size, "THE END");
  RunningServer rs(options(), [](Server&) {});
  const Response head = request(rs.port(), "HEAD", "/huge.bin");
  EXPECT_EQ(head.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(head.header("Content-Length"), std::to_string(size));
  EXPECT_EQ(head.body, "");
  const Response tail = request(rs.port(), "GET", "/huge.bin", "Range: bytes=-7\r\n");
  EXPECT_EQ(tail.status_line, "HTTP/1.1 206 Partial Content");
  EXPECT_EQ(tail.header("Content-Range"), "bytes " + std::to_string(size - 7) + "-" +
                                              std::to_string(size - 1) + "/" +
                                              std::to_string(size));
  EXPECT_EQ(tail.body, "THE END");
  const Response end =
      request(rs.port(), "GET", "/huge.bin", "Range: bytes=" + std::to_string(size - 3) + "-\r\n");
  EXPECT_EQ(end.body, "END");
}

TEST_F(StaticStreaming, SingleRangesAndWhatIsNotSatisfiable) {
  RunningServer rs(options(), [](Server&) {});
  const std::uint16_t port = rs.port();
  const Response whole = request(port, "GET", "/data.txt");
  EXPECT_EQ(whole.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(whole.header("Accept-Ranges"), "bytes");
  EXPECT_EQ(whole.body, "0123456789abcdef");
  struct Case {
    std::string range;
    std::string content_range;
    std::string body;
  };
  for (const Case& c : std::vector<Case>{{"bytes=2-5", "bytes 2-5/16", "2345"},
                                         {"bytes=10-", "bytes 10-15/16", "abcdef"},
                                         {"bytes=-3", "bytes 13-15/16", "def"},
                                         {"bytes=-100", "bytes 0-15/16", "0123456789abcdef"},
                                         {"bytes=5-100", "bytes 5-15/16", "56789abcdef"},
                                         {"bytes=15-15", "bytes 15-15/16", "f"}}) {
    const Response r = request(port, "GET", "/data.txt", "Range: " + c.range + "\r\n");
    EXPECT_EQ(r.status_line, "HTTP/1.1 206 Partial Content") << c.range;
    EXPECT_EQ(r.header("Content-Range"), c.content_range) << c.range;
    EXPECT_EQ(r.header("Content-Length"), std::to_string(c.body.size())) << c.range;
    EXPECT_EQ(r.body, c.body) << c.range;
  }
  for (std::string_view range : {"bytes=16-", "bytes=100-200", "bytes=-0"}) {
    const Response r = request(port, "GET", "/data.txt", "Range: " + std::string(range) + "\r\n");
    EXPECT_EQ(r.status_line, "HTTP/1.1 416 Range Not Satisfiable") << range;
    EXPECT_EQ(r.header("Content-Range"), "bytes */16") << range;
  }
  // Several ranges, or one that makes no sense: the whole file.
  for (std::string_view range : {"bytes=0-1,4-5", "bytes=5-2", "items=0-1", "bytes=x-"}) {
    const Response r = request(port, "GET", "/data.txt", "Range: " + std::string(range) + "\r\n");
    EXPECT_EQ(r.status_line, "HTTP/1.1 200 OK") << range;
    EXPECT_EQ(r.body, "0123456789abcdef") << range;
  }
  const Response head = request(port, "HEAD", "/data.txt", "Range: bytes=2-5\r\n");
  EXPECT_EQ(head.status_line, "HTTP/1.1 206 Partial Content");
  EXPECT_EQ(head.header("Content-Length"), "4");
  EXPECT_EQ(head.body, "");
}

TEST_F(StaticStreaming, ConditionalRequests) {
  RunningServer rs(options(), [](Server&) {});
  const std::uint16_t port = rs.port();
  const Response first = request(port, "GET", "/data.txt");
  const std::string etag = first.headers.at("ETag");
  const std::string modified = first.headers.at("Last-Modified");
  EXPECT_EQ(etag.front(), '"');
  EXPECT_EQ(etag.back(), '"');
  EXPECT_EQ(modified.size(), 29u) << modified;  // IMF-fixdate
  EXPECT_EQ(modified.substr(26), "GMT");
  const auto status_with = [&](const std::string& headers, std::string* body = nullptr) {
    const Response r = request(port, "GET", "/data.txt", headers);
    if (body) *body = r.body;
    return r.status_line;
  };
  std::string body;
  EXPECT_EQ(status_with("If-None-Match: " + etag + "\r\n", &body), "HTTP/1.1 304 Not Modified");
  EXPECT_EQ(body, "");
  EXPECT_EQ(status_with("If-None-Match: \"other\", W/" + etag + "\r\n"),
            "HTTP/1.1 304 Not Modified");
  EXPECT_EQ(status_with("If-None-Match: *\r\n"), "HTTP/1.1 304 Not Modified");
  EXPECT_EQ(status_with("If-None-Match: \"other\"\r\n", &body), "HTTP/1.1 200 OK");
  EXPECT_EQ(body, "0123456789abcdef");
  EXPECT_EQ(status_with("If-Modified-Since: " + modified + "\r\n"), "HTTP/1.1 304 Not Modified");
  EXPECT_EQ(status_with("If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"), "HTTP/1.1 200 OK");
  EXPECT_EQ(status_with("If-Modified-Since: yesterday\r\n"), "HTTP/1.1 200 OK");
  // If-None-Match decides when both are there.
  EXPECT_EQ(status_with("If-None-Match: \"other\"\r\nIf-Modified-Since: " + modified + "\r\n"),
            "HTTP/1.1 200 OK");
  // If-Range: the range for the version the client has, else the whole.
  EXPECT_EQ(status_with("Range: bytes=2-5\r\nIf-Range: " + etag + "\r\n", &body),
            "HTTP/1.1 206 Partial Content");
  EXPECT_EQ(body, "2345");
  EXPECT_EQ(status_with("Range: bytes=2-5\r\nIf-Range: " + modified + "\r\n"),
            "HTTP/1.1 206 Partial Content");
  EXPECT_EQ(status_with("Range: bytes=2-5\r\nIf-Range: \"stale\"\r\n", &body), "HTTP/1.1 200 OK");
  EXPECT_EQ(body, "0123456789abcdef");
  EXPECT_EQ(status_with("Range: bytes=2-5\r\nIf-Range: W/" + etag + "\r\n"), "HTTP/1.1 200 OK");
  // A changed file has a new validator.
  std::ofstream(root_ / "data.txt") << "changed, and longer";
  EXPECT_EQ(status_with("If-None-Match: " + etag + "\r\n", &body), "HTTP/1.1 200 OK");
  EXPECT_EQ(body, "changed, and longer");
}

}  // namespace
}  // namespace duplex::test
