/// @file
/// WebSocket close status codes (RFC 6455 section 7.4) and the rules for which
/// of them may appear on the wire.
#pragma once

#include <cstdint>
#include <string_view>

namespace duplex {

/// A close status code. Codes outside the named ones (3000-4999 for libraries
/// and applications) are carried as plain values of this type.
enum class CloseCode : std::uint16_t {
  normal = 1000,
  going_away = 1001,
  protocol_error = 1002,
  unsupported_data = 1003,
  no_status = 1005,  ///< never on the wire: "the close frame had no code"
  abnormal = 1006,   ///< never on the wire: "the connection dropped without a close frame"
  invalid_payload = 1007,
  policy_violation = 1008,
  message_too_big = 1009,
  mandatory_extension = 1010,
  internal_error = 1011,
  service_restart = 1012,
  try_again_later = 1013,
  bad_gateway = 1014,
  tls_handshake = 1015,  ///< never on the wire
};

/// True when `code` may appear in a close frame: 1000-1003, 1007-1014 and
/// 3000-4999. Everything else received on the wire is a protocol error (1002),
/// and the same set is all an application may send.
constexpr bool is_valid_wire_close_code(std::uint16_t code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

/// A short English name for the well-known codes ("normal closure", ...), or
/// an empty view for the application-defined ones.
std::string_view close_code_name(CloseCode code) noexcept;

}  // namespace duplex
