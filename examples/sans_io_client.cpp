// Duplex's protocol core on a plain blocking socket, without Duplex's event
// loops: the same sans-I/O objects the library runs (the opening handshake,
// then frames) driven by ordinary connect(), send() and recv(). Useful to
// see what the core does, or to put WebSocket on a transport of your own.
//
//   sans_io_client HOST PORT PATH TEXT     (sends TEXT, prints the answer,
//                                           closes with 1000)
#include <duplex/protocol/client_protocol.hpp>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace {

using namespace duplex::protocol;

// Writes everything the protocol queued (the request, frames) to the socket.
bool write_out(int fd, OutputQueue& out) {
  std::string bytes;
  out.drain_to(bytes);
  for (std::size_t at = 0; at < bytes.size();) {
    const ssize_t n = ::send(fd, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
    if (n <= 0) return false;
    at += static_cast<std::size_t>(n);
  }
  return true;
}

int connect_to(const char* host, const char* port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host, port, &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: sans_io_client HOST PORT PATH TEXT\n");
    return 2;
  }
  const int fd = connect_to(argv[1], argv[2]);
  if (fd < 0) {
    std::fprintf(stderr, "sans_io_client: cannot connect to %s:%s\n", argv[1], argv[2]);
    return 1;
  }
  ClientProtocol ws;
  const std::string host = std::string(argv[1]) + ":" + argv[2];
  if (const auto ec = ws.start({.host = host, .target = argv[3]});
      ec || !write_out(fd, ws.output())) {
    std::fprintf(stderr, "sans_io_client: cannot send the request\n");
    return 1;
  }
  bool sent = false, closing = false;
  std::uint8_t buffer[16 * 1024];
  while (true) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;  // the server ended the connection
    std::span<std::uint8_t> input(buffer, static_cast<std::size_t>(n));
    while (const LifecycleEvent e = ws.receive(input)) {
      if (e.handshake == HandshakeEvent::rejected) {
        std::printf("rejected: %d %s\n", ws.handshake().status(),
                    std::string(ws.handshake().body()).c_str());
        return 1;
      }
      if (e.handshake == HandshakeEvent::failed) {
        std::printf("handshake failed: %s\n", ws.handshake().error().message().c_str());
        return 1;
      }
      if (e.frame.type == EventType::message) {
        std::printf("%.*s\n", static_cast<int>(e.frame.payload.size()),
                    reinterpret_cast<const char*>(e.frame.payload.data()));
        if (!closing) {
          closing = true;
          (void)ws.connection().close(duplex::CloseCode::normal, "thanks");
        }
      }
      if (e.frame.type == EventType::close) {
        std::printf("closed: %u\n", static_cast<unsigned>(e.frame.code));
      }
    }
    if (ws.is_open() && !sent) {
      sent = true;
      (void)ws.connection().send_text(argv[4]);
    }
    if (!write_out(fd, ws.output())) break;
  }
  ::close(fd);
  return closing ? 0 : 1;
}
