/// @file
/// How Duplex reports failures: a `std::error_code` whose category names the
/// domain (protocol, handshake, usage, transport, client), error conditions
/// that group codes across domains, and `Status` for calls that can say more
/// than a code.
///
/// Test a code against a condition rather than against every value that
/// could cause it:
///
///     if (error == duplex::Condition::timed_out) retry_later();
#pragma once

#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace duplex {

/// Groups of error codes a caller can test for, across domains. A code from
/// the system (`std::errc`) or the resolver matches the condition it belongs
/// to as well: `ECONNREFUSED` is a `connection_failed`, `ETIMEDOUT` a `timed_out`.
enum class Condition {
  protocol_violation =
      1,  ///< The peer broke RFC 6455/7692 in a frame (we closed with 1002, 1007 or 1009).
  handshake_failed,  ///< The opening handshake failed: malformed, refused, or rejected by the
                     ///< server.
  timed_out,         ///< A timer ran out: connect, handshake, close, pong; or the system's timeout.
  tls_failed,        ///< TLS could not be set up: certificate, key, verification, TLS handshake.
  connection_failed,  ///< Name resolution, refused, unreachable, reset, or the peer left too early.
  connection_closed,  ///< The connection is closing or closed: nothing more can be sent on it.
  invalid_argument,   ///< The application asked for something invalid (URL, close code, header,
                      ///< ...).
};

/// The category of `Condition` values ("duplex").
const std::error_category& condition_category() noexcept;

/// Makes `Condition` values comparable with `std::error_code`.
inline std::error_condition make_error_condition(Condition c) noexcept {
  return {static_cast<int>(c), condition_category()};
}

/// The outcome of a call that can fail: empty on success; otherwise the
/// error, and sometimes a detail the code cannot carry (which file OpenSSL
/// could not use, and why).
struct Status {
  /// Success.
  Status() = default;
  /// A failure (or success, with an empty code), and what more there is to say.
  Status(std::error_code code, std::string why = {}) : error(code), detail(std::move(why)) {}
  /// A failure given as one of Duplex's error enums.
  template <typename E>
  requires std::is_error_code_enum_v<E> Status(E code, std::string why = {})
      : error(make_error_code(code)), detail(std::move(why)) {}

  std::error_code error;  ///< Empty on success.
  std::string detail;     ///< More about the failure, or empty.

  /// True on success.
  bool ok() const noexcept { return !error; }
  /// Also true on success.
  explicit operator bool() const noexcept { return ok(); }
  /// "error message: detail" (or just the message), for logs and users.
  std::string message() const;
};

}  // namespace duplex

/// @cond
template <>
struct std::is_error_condition_enum<duplex::Condition> : std::true_type {};
/// @endcond
