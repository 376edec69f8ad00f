// A blocking TCP client for tests that need to control every byte: send a
// partial request, never read, answer pings or not, read raw frames.
#pragma once

#include "../unit/test_frames.hpp"

#include <duplex/protocol/handshake_keys.hpp>
#include "test_handshake.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace duplex::test {

class RawClient {
 public:
  // `receive_buffer` > 0 sets SO_RCVBUF before connecting (where it also
  // limits the window the peer may fill).
  explicit RawClient(std::uint16_t port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (receive_buffer > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("connect failed");
    }
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

  void send(std::string_view bytes) {
    send_bytes({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  }
  void send_bytes(std::span<const std::uint8_t> bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      done += static_cast<std::size_t>(n);
    }
  }

  // Reads what arrives within `timeout`; empty on timeout. `eof` is set when
  // the peer closed the connection.
  std::string read_some(std::chrono::milliseconds timeout, bool* eof = nullptr) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return {};
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      if (eof) *eof = true;
      return {};
    }
    return std::string(buf, static_cast<std::size_t>(n));
  }

  // True when the server closed the connection within `timeout` (reading and
  // discarding whatever came before the end).
  bool closed_within(std::chrono::milliseconds timeout, std::string* received = nullptr) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      bool eof = false;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      std::string got = read_some(std::max(left, std::chrono::milliseconds(1)), &eof);
      if (received) *received += got;
      if (eof) return true;
    }
    return false;
  }

  // Reads until the HTTP head and `body_bytes` more have arrived.
  std::string read_http_response(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::string got;
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      bool eof = false;
      got += read_some(std::chrono::milliseconds(50), &eof);
      const std::size_t end = got.find("\r\n\r\n");
      if (end != std::string::npos) {
        const std::size_t cl = got.find("Content-Length: ");
        std::size_t body = 0;
        if (cl != std::string::npos && cl < end) body = std::stoul(got.substr(cl + 16));
        if (got.size() >= end + 4 + body && got.find("HTTP/1.1 101") == 0) return got;
        if (got.size() >= end + 4 + body) return got;
      }
      if (eof) break;
    }
    return got;
  }

  // Completes a WebSocket handshake on `path`; returns the bytes that
  // followed the 101 response.
  std::string upgrade(std::string_view path = "/", std::string_view extra_headers = {}) {
    protocol::ClientHandshake hs;
    protocol::OutputQueue out;
    if (hs.start({.host = "127.0.0.1", .target = path}, out)) {
      throw std::runtime_error("cannot make a request for " + std::string(path));
    }
    std::string request = take_all(out);
    request.insert(request.size() - 2, extra_headers);
    send(request);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::string seen;
    while (std::chrono::steady_clock::now() < until) {
      std::string got = read_some(std::chrono::milliseconds(50));
      seen += got;
      std::span<std::uint8_t> in(reinterpret_cast<std::uint8_t*>(got.data()), got.size());
      switch (hs.receive(in)) {
        case protocol::HandshakeEvent::none: continue;
        case protocol::HandshakeEvent::opened:
          return std::string(reinterpret_cast<const char*>(in.data()), in.size());
        default:
          throw std::runtime_error("handshake failed: " + hs.error().message() + "\n" + seen);
      }
    }
    throw std::runtime_error("handshake timed out");
  }

  // Sends one masked frame, as a client must.
  void send_frame(Opcode op, std::string_view payload, bool fin = true) {
    send_bytes(frame({.opcode = op, .fin = fin, .masked = true}, payload));
  }

  // Reads frames until one arrives (or the timeout passes).
  std::optional<DecodedFrame> read_frame(
      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto frames = decode_all(Bytes(pending_.begin(), pending_.end()));
      if (!frames.empty()) {
        const DecodedFrame f = frames.front();
        const std::size_t size =
            protocol::frame_header_size(f.header.payload_length, f.header.masked) +
            f.header.payload_length;
        pending_.erase(0, size);
        return f;
      }
      if (std::chrono::steady_clock::now() >= until) return std::nullopt;
      bool eof = false;
      pending_ += read_some(std::chrono::milliseconds(20), &eof);
      if (eof && pending_.empty()) return std::nullopt;
    }
  }
  void prepend_pending(std::string bytes) { pending_ = bytes + pending_; }

 private:
  int fd_ = -1;
  std::string pending_;
};

inline std::uint16_t close_code_of(const DecodedFrame& f) {
  if (f.payload.size() < 2) return 1005;
  return static_cast<std::uint16_t>((static_cast<unsigned char>(f.payload[0]) << 8) |
                                    static_cast<unsigned char>(f.payload[1]));
}

}  // namespace duplex::test
