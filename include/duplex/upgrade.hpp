/// @file
/// The upgrade request as a server route's `on_upgrade` hook sees it, and
/// the hook's decision: accept (with a subprotocol and extra headers) or
/// reject (with a status and a body).
#pragma once

#include <duplex/protocol/extensions.hpp>
#include <duplex/protocol/http.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace duplex {

namespace detail {
struct DataAccess;
}

/// A validated WebSocket upgrade request. Every view is valid during the
/// `on_upgrade` call only. Not calling `reject()` accepts.
class Upgrade {
 public:
  /// The request's method ("GET"), path ("/chat") and query ("room=1",
  /// without the '?').
  /// @{
  virtual std::string_view method() const noexcept = 0;
  virtual std::string_view path() const noexcept = 0;
  virtual std::string_view query() const noexcept = 0;
  /// @}
  /// The first header field of that name (case-insensitive), or empty.
  virtual std::string_view header(std::string_view name) const noexcept = 0;
  /// Every header field, in arrival order.
  virtual const std::vector<protocol::HttpHeader>& headers() const noexcept = 0;
  /// The Origin header (browsers send one), or empty.
  virtual std::string_view origin() const noexcept = 0;
  /// The client's address: "127.0.0.1:54321", "[::1]:54321".
  virtual std::string remote_address() const = 0;
  /// The subprotocols offered, in the client's order of preference.
  virtual std::span<const std::string_view> subprotocols() const noexcept = 0;
  /// The extensions offered, in order.
  virtual const std::vector<protocol::Extension>& extensions() const noexcept = 0;
  /// The host name the client asked for in TLS (SNI), or empty.
  virtual std::string_view server_name() const noexcept = 0;

  /// Accepts, selecting one of the offered subprotocols (or none).
  virtual void accept(std::string_view subprotocol = {}) = 0;
  /// Refuses with an HTTP status (400-599; others become 403) and a
  /// plain-text body.
  virtual void reject(int status, std::string_view body = {}) = 0;
  /// An extra header on the 101 response (or on the refusal).
  virtual void add_header(std::string name, std::string value) = 0;

 protected:
  virtual ~Upgrade() = default;
  /// The connection's data, for a route declared with a data type, or null.
  void* data_ = nullptr;

 private:
  friend struct detail::DataAccess;
};

}  // namespace duplex
