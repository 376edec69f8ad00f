/// @file
/// The errors of the sans-I/O core, in three categories: what a peer's frames
/// did wrong (`ProtocolError`), what went wrong in the opening handshake
/// (`HandshakeError`), and requests from the application that cannot be
/// honoured (`UsageError`). Each converts to `std::error_code` and matches a
/// `duplex::Condition`.
#pragma once

#include <duplex/close_code.hpp>
#include <duplex/status.hpp>

#include <system_error>

namespace duplex {

/// Received frames that break RFC 6455 (or RFC 7692); each fails the
/// connection with the close code `close_code_for()` gives.
/// Condition: `protocol_violation`.
enum class ProtocolError {
  reserved_bits_set = 1,     ///< RSV1-3 set without an extension that defines them
  unknown_opcode,            ///< opcodes 3-7 and 0xB-0xF
  control_frame_too_long,    ///< control frame payload over 125 bytes
  fragmented_control_frame,  ///< control frame without FIN
  unexpected_continuation,   ///< continuation frame with no message in progress
  expected_continuation,     ///< new data frame inside a fragmented message
  unmasked_frame,            ///< a server received a frame without a mask
  masked_frame,              ///< a client received a masked frame
  length_out_of_range,       ///< 64-bit length with its most significant bit set
  invalid_close_payload,     ///< close frame with a 1-byte payload
  invalid_close_code,        ///< close code that must not appear on the wire
  invalid_close_reason,      ///< close reason that is not UTF-8
  invalid_utf8,              ///< text message that is not UTF-8
  frame_too_big,             ///< frame over the configured maximum
  message_too_big,           ///< message over the configured maximum
  invalid_compressed_data,   ///< a compressed message that does not inflate
  too_many_fragments,        ///< message in more frames than the configured maximum
};

/// The opening handshake (RFC 6455 section 4), either side.
/// Condition: `handshake_failed`.
enum class HandshakeError {
  http_incomplete = 1,         ///< not a failure: the head needs more bytes
  http_malformed,              ///< request or response is not valid HTTP/1.1
  http_headers_too_large,      ///< header block over the configured limit
  http_too_many_headers,       ///< more header fields than the configured limit
  method_not_get,              ///< upgrade request that is not GET
  http_version_not_1_1,        ///< not HTTP/1.1
  missing_host,                ///< no (or more than one) Host header
  not_an_upgrade,              ///< Upgrade: websocket / Connection: upgrade missing
  invalid_key,                 ///< Sec-WebSocket-Key not 16 bytes of base64
  unsupported_version,         ///< Sec-WebSocket-Version other than 13
  origin_not_allowed,          ///< Origin not on the allow-list
  invalid_extension_header,    ///< Sec-WebSocket-Extensions does not parse
  rejected,                    ///< the server answered with a status other than 101
  invalid_accept,              ///< Sec-WebSocket-Accept does not match the key
  unexpected_subprotocol,      ///< the server picked a subprotocol we did not offer
  unexpected_extension,        ///< the server accepted an extension we did not offer
  invalid_extension_response,  ///< the server answered an offer with parameters it may not use
  http_bare_line_feed,         ///< a line of the head ends in LF without CR
};

/// Calls the application made that cannot be honoured. Condition:
/// `connection_closed` for `connection_closed`, `invalid_argument` for the rest.
enum class UsageError {
  connection_closed = 1,     ///< send after the close handshake began (or the connection ended)
  control_payload_too_long,  ///< ping/pong payload or close reason over 125 bytes
  invalid_close_code,        ///< a close code that may not be sent (or a reason without a code)
  invalid_close_reason,      ///< a close reason that is not UTF-8
  message_in_progress,       ///< a new message while a fragmented send is open
  no_message_in_progress,    ///< a continuation without a started message
  invalid_opcode,            ///< not text or binary where a message is expected
  invalid_header,            ///< a header name or value that would break the HTTP head
  invalid_subprotocol,       ///< a subprotocol that is not a token, or was not offered
  invalid_request_target,    ///< a request target that is not an absolute path
  not_supported,             ///< not available on this kind of connection (pub/sub on a client)
  server_running,            ///< routes added after the server started listening
  not_running,               ///< the server or client has no event loop running
};

/// The categories of the core's errors: "duplex.protocol",
/// "duplex.handshake", "duplex.usage".
const std::error_category& protocol_category() noexcept;
/// @copydoc protocol_category()
const std::error_category& handshake_category() noexcept;
/// @copydoc protocol_category()
const std::error_category& usage_category() noexcept;

/// Makes the core's error values usable as `std::error_code`.
/// @{
inline std::error_code make_error_code(ProtocolError e) noexcept {
  return {static_cast<int>(e), protocol_category()};
}
inline std::error_code make_error_code(HandshakeError e) noexcept {
  return {static_cast<int>(e), handshake_category()};
}
inline std::error_code make_error_code(UsageError e) noexcept {
  return {static_cast<int>(e), usage_category()};
}
/// @}

/// The close code a received-frame error is reported to the peer with:
/// 1007 for bad UTF-8 and bad compressed data, 1009 for size limits, 1002
/// for the rest.
CloseCode close_code_for(ProtocolError e) noexcept;

}  // namespace duplex

/// @cond
template <>
struct std::is_error_code_enum<duplex::ProtocolError> : std::true_type {};
template <>
struct std::is_error_code_enum<duplex::HandshakeError> : std::true_type {};
template <>
struct std::is_error_code_enum<duplex::UsageError> : std::true_type {};
/// @endcond
