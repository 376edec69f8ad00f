/// @file
/// Errors of the transport: TLS and the byte stream under a WebSocket.
/// System errors (refused, reset, ...) stay `std::system_category()` codes.
#pragma once

#include <duplex/status.hpp>

#include <system_error>

namespace duplex {

/// Condition: `tls_failed` for the TLS errors, `connection_failed` for `connection_lost`.
enum class TransportError {
  connection_lost = 1,   ///< the peer closed the connection before the opening handshake ended
  tls_handshake_failed,  ///< the TLS handshake failed (certificate not trusted, wrong name, ...)
  tls_configuration,     ///< a certificate, key or CA file cannot be used
  tls_failed,            ///< TLS failed after its handshake (a bad record, an alert)
  plain_http_to_tls,     ///< a plain-HTTP request reached a TLS port
};

/// The category ("duplex.transport").
const std::error_category& transport_category() noexcept;

/// Makes `TransportError` values usable as `std::error_code`.
inline std::error_code make_error_code(TransportError e) noexcept {
  return {static_cast<int>(e), transport_category()};
}

}  // namespace duplex

/// @cond
template <>
struct std::is_error_code_enum<duplex::TransportError> : std::true_type {};
/// @endcond
