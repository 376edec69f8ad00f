#include "socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace duplex::transport {
namespace {

std::error_code last_error() {
  return {errno, std::system_category()};
}

class ResolverCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "resolver"; }
  std::string message(int value) const override { return ::gai_strerror(value); }
};

}  // namespace

const std::error_category& resolver_category() noexcept {
  static const ResolverCategory category;
  return category;
}

std::uint16_t Address::port() const noexcept {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(storage).sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(storage).sin6_port);
  return 0;
}

std::string Address::host() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(storage).sin_addr, buf, sizeof buf);
  } else if (family() == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(storage).sin6_addr, buf,
                sizeof buf);
  }
  return buf;
}

std::string Address::to_string() const {
  const std::string h = host();
  const std::string p = std::to_string(port());
  return family() == AF_INET6 ? "[" + h + "]:" + p : h + ":" + p;
}

bool parse_numeric_address(std::string_view host, std::uint16_t port, Address& out) {
  const std::string h(host);
  out = Address{};
  sockaddr_in v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    std::memcpy(&out.storage, &v4, sizeof v4);
    out.length = sizeof v4;
    return true;
  }
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET6, h.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    std::memcpy(&out.storage, &v6, sizeof v6);
    out.length = sizeof v6;
    return true;
  }
  return false;
}

std::error_code resolve_blocking(const std::string& host, std::uint16_t port, Address& out) {
  if (parse_numeric_address(host, port, out)) return {};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    if (rc == EAI_SYSTEM) return last_error();
    return {rc, resolver_category()};
  }
  const std::size_t size = std::min<std::size_t>(list->ai_addrlen, sizeof out.storage);
  std::memcpy(&out.storage, list->ai_addr, size);
  out.length = static_cast<socklen_t>(size);

  ::freeaddrinfo(list);
  return {};
}

void set_nodelay(int fd) noexcept {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

std::size_t unacknowledged_bytes(int fd) noexcept {
  int n = 0;
  if (::ioctl(fd, SIOCOUTQ, &n) != 0 || n < 0) return 0;
  return static_cast<std::size_t>(n);
}

int listen_tcp(const Address& address, const ListenOptions& options, std::error_code& ec) {
  const int fd = ::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ec = last_error();
    return -1;
  }
  const int one = 1;
  const int zero = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (options.reuse_port) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (address.family() == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address.storage), address.length) != 0 ||
      ::listen(fd, options.backlog) != 0) {
    ec = last_error();
    ::close(fd);
    return -1;
  }
  ec.clear();
  return fd;
}

int accept_tcp(int listen_fd, Address& peer, std::error_code& ec) {
  peer.length = sizeof peer.storage;
  const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer.storage), &peer.length,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    ec = last_error();
    return -1;
  }
  set_nodelay(fd);
  ec.clear();
  return fd;
}

int connect_tcp(const Address& address, std::error_code& ec) {
  const int fd = ::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ec = last_error();
    return -1;
  }
  set_nodelay(fd);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address.storage), address.length) != 0 &&
      errno != EINPROGRESS) {
    ec = last_error();
    ::close(fd);
    return -1;
  }
  ec.clear();
  return fd;
}

std::error_code connect_result(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return last_error();
  return {err, std::system_category()};
}

Address local_address(int fd) {
  Address a;
  a.length = sizeof a.storage;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a.storage), &a.length);
  return a;
}

}  // namespace duplex::transport
