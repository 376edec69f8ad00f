/// @file
/// ws:// and wss:// URIs (RFC 6455 section 3).
#pragma once

#include <duplex/client_error.hpp>
#include <duplex/status.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace duplex {

/// A parsed ws:// or wss:// URL.
struct WebSocketUrl {
  bool secure = false;  ///< wss://
  std::string host;     ///< without brackets for IPv6 literals
  /// The port (80 or 443 when the URL names none).
  std::uint16_t port = 0;
  std::string target;  ///< path and query, "/" when empty

  /// The Host header value: host, bracketed if IPv6, with the port unless it
  /// is the scheme's default.
  std::string host_header() const;
  /// The URL again, normalised ("ws://host:port/target").
  std::string to_string() const;
};

/// Parses `text` as a WebSocket URI. Errors: `ClientError::invalid_url`
/// (with the reason as the status's detail), `ClientError::unsupported_scheme`,
/// `ClientError::url_has_fragment`. Thread-safe.
Status parse_websocket_url(std::string_view text, WebSocketUrl& out);

}  // namespace duplex
