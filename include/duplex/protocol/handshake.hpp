/// @file
/// What the two sides of the opening handshake (RFC 6455 section 4) have in
/// common: the steps they report, and what an opened connection agreed on.
/// The sides themselves are in server_handshake.hpp and client_handshake.hpp.
#pragma once

#include <duplex/protocol/extension.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace duplex::protocol {

/// What feeding bytes to a handshake produced.
enum class HandshakeEvent : std::uint8_t {
  none,             ///< more bytes are needed
  http_request,     ///< server: a plain HTTP request, not an upgrade
  upgrade_request,  ///< server: a valid upgrade the policy allows; accept or reject it
  opened,           ///< client: the server switched protocols; frames follow
  rejected,         ///< client: the server answered with another status (body read)
  failed,           ///< either side: the handshake failed; the error says why
};

/// What both ends agreed on when the connection opened.
struct Agreement {
  std::string subprotocol;  ///< the one chosen, or empty
  std::string extensions;   ///< the Sec-WebSocket-Extensions value that was agreed, or empty
  /// The agreed extension's per-connection transform (hand it to
  /// `Connection::set_transform`), or null.
  std::unique_ptr<MessageTransform> transform;
};

}  // namespace duplex::protocol
