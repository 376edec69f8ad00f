// Loopback endpoints that misbehave on purpose, for client tests: a port
// where nobody listens, and a listener that never accepts.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace duplex::test {

// A loopback port where nobody listens.
inline std::string refused_url() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return "ws://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/";
}

// A listening socket that never accepts: connections to it hang in their
// handshake.
struct SilentPeer {
  SilentPeer() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 8);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    url = "ws://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/";
  }
  ~SilentPeer() { ::close(fd); }
  int fd;
  std::string url;
};

}  // namespace duplex::test
