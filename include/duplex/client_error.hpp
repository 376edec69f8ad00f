/// @file
/// Errors of the client: its URLs and its connecting.
#pragma once

#include <duplex/status.hpp>

#include <system_error>

namespace duplex {

/// Condition: `invalid_argument` for URL errors, `timed_out` for the
/// timeouts, `connection_failed` for `cancelled`.
enum class ClientError {
  invalid_url = 1,     ///< not a ws:// or wss:// URI
  unsupported_scheme,  ///< a scheme other than ws or wss
  url_has_fragment,    ///< RFC 6455 section 3: fragments are not allowed
  connect_timeout,     ///< the TCP connect did not complete in time
  handshake_timeout,   ///< the opening handshake (TLS included) did not complete in time
  cancelled,           ///< the client was stopped (or destroyed) before the connection opened
};

/// The category ("duplex.client").
const std::error_category& client_category() noexcept;

/// Makes `ClientError` values usable as `std::error_code`.
inline std::error_code make_error_code(ClientError e) noexcept {
  return {static_cast<int>(e), client_category()};
}

}  // namespace duplex

/// @cond
template <>
struct std::is_error_code_enum<duplex::ClientError> : std::true_type {};
/// @endcond
