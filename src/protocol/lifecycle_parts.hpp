// What ServerProtocol and ClientProtocol share once their connection is open.
#pragma once

#include <duplex/protocol/connection.hpp>

#include <span>

namespace duplex::protocol::detail {

inline ConnectionOptions with_role(ConnectionOptions options, Role role) {
  options.role = role;
  return options;
}

// Frames that arrived with the handshake (kept in `early`) are read before
// any later input.
inline Event receive_frames(Connection& connection, std::span<std::uint8_t>& early,
                            std::span<std::uint8_t>& input) {
  if (!early.empty()) {
    const Event e = connection.receive(early);
    if (e || !early.empty()) return e;
  }
  return connection.receive(input);
}

}  // namespace duplex::protocol::detail
