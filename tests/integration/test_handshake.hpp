// The opening handshake for tests that play one side by hand over a raw
// socket, done with Duplex's own sans-I/O handshake objects.
#pragma once

#include <duplex/protocol/client_handshake.hpp>
#include <duplex/protocol/server_handshake.hpp>

#include <optional>
#include <span>
#include <string>

namespace duplex::test {

inline std::string take_all(protocol::OutputQueue& q) {
  std::string out;
  q.drain_to(out);
  return out;
}

// An upgrade request as Duplex's client would send it.
inline std::string upgrade_request(const protocol::ClientRequest& request) {
  protocol::ClientHandshake hs;
  protocol::OutputQueue out;
  hs.start(request, out);
  return take_all(out);
}

// The 101 a server sends for `request`, or nothing when it is not a valid
// upgrade.
inline std::optional<std::string> accept_upgrade(std::string request) {
  const protocol::ServerPolicy policy;
  protocol::ServerHandshake hs(policy);
  protocol::OutputQueue out;
  std::span<std::uint8_t> in(reinterpret_cast<std::uint8_t*>(request.data()), request.size());
  if (hs.receive(in, out) != protocol::HandshakeEvent::upgrade_request) return std::nullopt;
  protocol::Agreement agreed;
  if (hs.accept({}, out, agreed)) return std::nullopt;
  return take_all(out);
}

}  // namespace duplex::test
