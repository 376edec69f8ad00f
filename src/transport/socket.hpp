// Thin, non-blocking socket helpers (Linux): listening, accepting, connecting,
// and address formatting. Errors come back as std::error_code, never thrown.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace duplex::transport {

// An IPv4 or IPv6 socket address, 32 bytes (sockaddr_storage would take 132
// in every connection).
union SocketAddress {
  sockaddr base;
  sockaddr_in v4;
  sockaddr_in6 v6;
};

struct Address {
  SocketAddress storage{};
  socklen_t length = 0;

  int family() const noexcept { return storage.base.sa_family; }

  std::uint16_t port() const noexcept;
  // "127.0.0.1:9002", "[::1]:9002".
  std::string to_string() const;
  // The host part alone: "127.0.0.1", "::1".
  std::string host() const;
};

// Parses a numeric IPv4/IPv6 host (no brackets) and port. Returns false if
// `host` is not an IP literal.
bool parse_numeric_address(std::string_view host, std::uint16_t port, Address& out);

// Resolves synchronously (getaddrinfo): for use off the event loop only.
std::error_code resolve_blocking(const std::string& host, std::uint16_t port, Address& out);

struct ListenOptions {
  bool reuse_port = false;  // several loops share the port (SO_REUSEPORT)
  int backlog = 1024;
};

// A bound, listening, non-blocking socket; IPv6 listeners also accept IPv4.
int listen_tcp(const Address& address, const ListenOptions& options, std::error_code& ec);

// accept4() with non-blocking and close-on-exec set, TCP_NODELAY on.
int accept_tcp(int listen_fd, Address& peer, std::error_code& ec);

// Starts a non-blocking connect; ec is clear when it completed or is in
// progress (wait for writability, then check connect_result()).
int connect_tcp(const Address& address, std::error_code& ec);
std::error_code connect_result(int fd);

Address local_address(int fd);

void set_nodelay(int fd) noexcept;

// Bytes the kernel holds for the peer of a TCP socket, sent or not, that
// the peer has not acknowledged yet (SIOCOUTQ); 0 when it cannot tell.
std::size_t unacknowledged_bytes(int fd) noexcept;

// The error a failed getaddrinfo() reports, as an error_code.
const std::error_category& resolver_category() noexcept;

}  // namespace duplex::transport
