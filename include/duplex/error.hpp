// Every failure Duplex reports is a std::error_code in the "duplex" category,
// so callers can log it, compare it against these values, and (for protocol
// failures) learn which close code was sent to the peer.
#pragma once

#include <duplex/close_code.hpp>

#include <string>
#include <system_error>

namespace duplex {

enum class Error {
  // Received frames that break RFC 6455; each fails the connection.
  reserved_bits_set = 1,     // RSV1-3 set without an extension that defines them
  unknown_opcode,            // opcodes 3-7 and 0xB-0xF
  control_frame_too_long,    // control frame payload over 125 bytes
  fragmented_control_frame,  // control frame without FIN
  unexpected_continuation,   // continuation frame with no message in progress
  expected_continuation,     // new data frame inside a fragmented message
  unmasked_frame,            // a server received a frame without a mask
  masked_frame,              // a client received a masked frame
  length_out_of_range,       // 64-bit length with its most significant bit set
  invalid_close_payload,     // close frame with a 1-byte payload
  invalid_close_code,        // close code that must not appear on the wire
  invalid_close_reason,      // close reason that is not UTF-8
  invalid_utf8,              // text message that is not UTF-8
  frame_too_big,             // frame over the configured maximum
  message_too_big,           // message over the configured maximum
  invalid_compressed_data,   // a compressed message that does not inflate

  // Requests from the application that cannot be honoured.
  connection_closed = 100,     // send after the close handshake began
  control_payload_too_long,    // ping/pong payload or close reason too long
  invalid_close_code_to_send,  // close code that may not be sent
  message_in_progress,         // new message while a fragmented send is open
  no_message_in_progress,      // continuation without a started message

  // Opening handshake, either side.
  http_incomplete = 200,       // not an error: more bytes are needed
  http_malformed,              // request or response is not valid HTTP/1.1
  http_headers_too_large,      // header block over the configured limit
  http_too_many_headers,       // more header fields than the configured limit
  method_not_get,              // upgrade request that is not GET
  http_version_not_1_1,        // not HTTP/1.1
  missing_host,                // no (or more than one) Host header
  not_an_upgrade,              // Upgrade: websocket / Connection: upgrade missing
  invalid_key,                 // Sec-WebSocket-Key not 16 bytes of base64
  unsupported_version,         // Sec-WebSocket-Version other than 13
  origin_not_allowed,          // Origin not on the allow-list
  invalid_extension_header,    // Sec-WebSocket-Extensions does not parse
  handshake_rejected,          // server answered with a status other than 101
  invalid_accept,              // Sec-WebSocket-Accept does not match the key
  unexpected_subprotocol,      // server picked a subprotocol we did not offer
  unexpected_extension,        // server accepted an extension we did not offer
  invalid_extension_response,  // server answered an offer with parameters it may not use

  // Connecting (client side) and timers.
  invalid_url = 300,     // not a ws:// or wss:// URI
  unsupported_scheme,    // a scheme other than ws or wss
  url_has_fragment,      // RFC 6455 3: fragments are not allowed
  tls_not_supported,     // wss:// in a build without TLS support
  connect_timeout,       // TCP connect did not complete in time
  handshake_timeout,     // opening handshake did not complete in time
  connection_lost,       // the peer closed TCP before the handshake ended
  tls_handshake_failed,  // TLS handshake failed (certificate not trusted, wrong name, ...)
  tls_configuration,     // certificate, key or CA file cannot be used
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(Error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

// The close code a received-frame error is reported to the peer with
// (1002, 1007 or 1009); normal closure for anything else.
CloseCode close_code_for(Error e) noexcept;

}  // namespace duplex

template <>
struct std::is_error_code_enum<duplex::Error> : std::true_type {};
