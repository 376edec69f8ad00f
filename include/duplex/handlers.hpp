/// @file
/// One `Handlers` type for server routes and client connections: a function
/// per event, each optional. With a `Data` type, every connection gets its
/// own `Data` object (default-constructed when the connection is accepted or
/// started, destroyed after its `on_close`), and every handler receives it
/// next to the connection: no cast, no lookup per message.
///
///     struct Player { std::string name; };
///     server.websocket<Player>("/game", {
///         .on_upgrade = [](duplex::Upgrade& u, Player& p) { p.name = u.query(); },
///         .on_message = [](duplex::WebSocket& ws, Player& p, duplex::Message m) { ... },
///     });
///
/// Without one (`Handlers<>`), the handlers take no data argument:
///
///     .on_message = [](duplex::WebSocket& ws, duplex::Message m) { ... }
///
/// Every handler runs on the connection's loop thread. For each connection
/// that opened, `on_close` runs exactly once, whatever ends it (the peer,
/// `close()`, a timeout, `terminate()`, `Server::stop()`, `Client::stop()`,
/// destroying the client).
#pragma once

#include <duplex/close_code.hpp>
#include <duplex/upgrade.hpp>
#include <duplex/websocket.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace duplex {

/// Why a client connection never opened.
struct ConnectError {
  std::error_code error;  ///< refused, DNS failure, timeout, rejected handshake, TLS, ...
  int http_status = 0;    ///< the server's status when it rejected the upgrade
  /// The headers the server sent with its rejection.
  std::vector<std::pair<std::string, std::string>> http_headers;
  std::string http_body;  ///< and the body (at most 64 KiB of it)
  std::string detail;     ///< more about the failure (OpenSSL's reason for a TLS failure)

  /// One line for people: "server rejected the WebSocket upgrade: 401
  /// Unauthorized: log in first". Text from the server is escaped.
  std::string message() const;
};

namespace detail {

// The handler signatures, with the connection's data after the connection
// when there is a data type.
template <typename Data>
struct HandlerTypes {
  using Upgrade = std::function<void(duplex::Upgrade&, Data&)>;
  using Open = std::function<void(WebSocket&, Data&)>;
  using Receive = std::function<void(WebSocket&, Data&, Message)>;
  using Control = std::function<void(WebSocket&, Data&, std::string_view)>;
  using Close = std::function<void(WebSocket&, Data&, CloseCode, std::string_view)>;
};
template <>
struct HandlerTypes<void> {
  using Upgrade = std::function<void(duplex::Upgrade&)>;
  using Open = std::function<void(WebSocket&)>;
  using Receive = std::function<void(WebSocket&, Message)>;
  using Control = std::function<void(WebSocket&, std::string_view)>;
  using Close = std::function<void(WebSocket&, CloseCode, std::string_view)>;
};

}  // namespace detail

/// The event handlers of a server route or a client connection. With a
/// `Data` type each one (but `on_error`) also gets the connection's `Data&`
/// after the connection (or after the `Upgrade&`).
template <typename Data = void>
struct Handlers {
  /// The handler signatures for `Data`.
  using Types = detail::HandlerTypes<Data>;

  /// Server routes only: inspect the request, accept or reject it, fill in
  /// the connection's data. Without it every valid upgrade is accepted.
  typename Types::Upgrade on_upgrade;
  /// The connection is open (after the 101).
  typename Types::Open on_open;
  /// A whole message arrived (its data is valid during the call).
  typename Types::Receive on_message;
  /// A ping arrived (it is answered by itself); the payload is valid
  /// during the call.
  typename Types::Control on_ping;
  /// A pong arrived; the payload is valid during the call.
  typename Types::Control on_pong;
  /// Output that had piled up past the backpressure limit went out.
  typename Types::Open on_drain;
  /// The connection ended: the code the peer closed with (or the one we
  /// closed with when it broke the protocol, 1006 when it dropped). The
  /// reason is valid during the call.
  typename Types::Close on_close;
  /// Client connections only: the connection never opened.
  std::function<void(const ConnectError&)> on_error;
};

namespace detail {

// Reaches the data the library keeps for a connection or an upgrade.
struct DataAccess {
  static void* of(const WebSocket& ws) noexcept { return ws.data_; }
  static void* of(const Upgrade& u) noexcept { return u.data_; }
};

/// Handlers with their data type erased, as the library calls them. One
/// object per route or client connection, shared by its connections.
class Callbacks {
 public:
  virtual ~Callbacks() = default;
  virtual void upgrade(Upgrade& request) const = 0;
  virtual void open(WebSocket& ws) const = 0;
  virtual void message(WebSocket& ws, Message m) const = 0;
  virtual void ping(WebSocket& ws, std::string_view payload) const = 0;
  virtual void pong(WebSocket& ws, std::string_view payload) const = 0;
  virtual void drain(WebSocket& ws) const = 0;
  virtual void close(WebSocket& ws, CloseCode code, std::string_view reason) const = 0;
  virtual void error(const ConnectError& e) const = 0;
  /// A new per-connection object (null without a data type), and its end.
  virtual void* make_data() const = 0;
  virtual void destroy_data(void* data) const noexcept = 0;
};

template <typename Data>
class TypedCallbacks final : public Callbacks {
 public:
  explicit TypedCallbacks(Handlers<Data> h) : h_(std::move(h)) {}

  void upgrade(Upgrade& request) const override {
    if (h_.on_upgrade) call(h_.on_upgrade, request);
  }
  void open(WebSocket& ws) const override {
    if (h_.on_open) call(h_.on_open, ws);
  }
  void message(WebSocket& ws, Message m) const override {
    if (h_.on_message) call(h_.on_message, ws, m);
  }
  void ping(WebSocket& ws, std::string_view payload) const override {
    if (h_.on_ping) call(h_.on_ping, ws, payload);
  }
  void pong(WebSocket& ws, std::string_view payload) const override {
    if (h_.on_pong) call(h_.on_pong, ws, payload);
  }
  void drain(WebSocket& ws) const override {
    if (h_.on_drain) call(h_.on_drain, ws);
  }
  void close(WebSocket& ws, CloseCode code, std::string_view reason) const override {
    if (h_.on_close) call(h_.on_close, ws, code, reason);
  }
  void error(const ConnectError& e) const override {
    if (h_.on_error) h_.on_error(e);
  }
  void* make_data() const override {
    if constexpr (std::is_void_v<Data>) {
      return nullptr;
    } else {
      return new Data();
    }
  }
  void destroy_data(void* data) const noexcept override {
    if constexpr (!std::is_void_v<Data>) delete static_cast<Data*>(data);
  }

 private:
  // Calls `fn` with the connection (or upgrade), its data when there is a
  // data type, and the event's arguments.
  template <typename Fn, typename Subject, typename... Args>
  static void call(const Fn& fn, Subject& subject, Args&&... args) {
    if constexpr (std::is_void_v<Data>) {
      fn(subject, std::forward<Args>(args)...);
    } else {
      fn(subject, *static_cast<Data*>(DataAccess::of(subject)), std::forward<Args>(args)...);
    }
  }

  Handlers<Data> h_;
};

template <typename Data>
std::shared_ptr<const Callbacks> make_callbacks(Handlers<Data> handlers) {
  return std::make_shared<TypedCallbacks<Data>>(std::move(handlers));
}

}  // namespace detail
}  // namespace duplex
