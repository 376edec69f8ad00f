/// @file
/// What the server and the client hand to application code: a connection
/// (`WebSocket`), the messages it receives, and a handle for reaching it
/// from other threads.
///
/// Threading: a `WebSocket` belongs to one event-loop thread. Call its
/// methods from the handlers it is given to, or from work posted to its
/// loop (`ws.loop().post(...)`); from any other thread use a
/// `WebSocketHandle` (`ws.handle()`). The reference is valid from `on_open`
/// until `on_close` has returned; do not keep it longer.
#pragma once

#include <duplex/close_code.hpp>
#include <duplex/loop.hpp>
#include <duplex/protocol/error.hpp>
#include <duplex/protocol/frame.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace duplex {

using protocol::Opcode;

/// A message as a handler receives it.
struct Message {
  /// The payload. Valid only during the handler call: copy what you keep.
  std::string_view data;
  Opcode opcode = Opcode::text;  ///< `text` or `binary`

  /// What kind of message it is.
  /// @{
  bool is_text() const noexcept { return opcode == Opcode::text; }
  bool is_binary() const noexcept { return opcode == Opcode::binary; }
  /// @}
  /// The payload as bytes (same lifetime as `data`).
  std::span<const std::uint8_t> bytes() const noexcept {
    return {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()};
  }
};

class WebSocketHandle;

/// One open WebSocket connection, server or client side. Every member is
/// for the connection's loop thread only (see the file comment).
class WebSocket {
 public:
  WebSocket(const WebSocket&) = delete;
  WebSocket& operator=(const WebSocket&) = delete;

  /// Queues a message; it leaves with the other output of this loop
  /// iteration. `UsageError::connection_closed` once the close handshake
  /// began, `UsageError::invalid_opcode` for anything but text or binary.
  std::error_code send(std::string_view data, Opcode opcode = Opcode::text);
  /// `send()` for text and for binary data.
  /// @{
  std::error_code send_text(std::string_view text) { return send(text, Opcode::text); }
  std::error_code send_binary(std::span<const std::uint8_t> data) {
    return send({reinterpret_cast<const char*>(data.data()), data.size()}, Opcode::binary);
  }
  /// @}

  /// Sends one message in pieces of the application's choosing, without
  /// holding all of it: the first call with `Opcode::text` or
  /// `Opcode::binary`, the following ones with `Opcode::continuation`, the
  /// last with `fin`. Other sends wait for the message to end
  /// (`UsageError::message_in_progress`). Pieces go out uncompressed.
  /// Browsers hand the application nothing before the last piece: streaming
  /// helps the sender's memory, not the receiver's latency, there.
  std::error_code send_fragment(std::string_view data, Opcode opcode, bool fin);

  /// Sends a ping (payload up to 125 bytes); the pong reaches `on_pong`.
  std::error_code ping(std::string_view payload = {});

  /// Starts the close handshake with `code` (1000-1003, 1007-1014,
  /// 3000-4999, or `CloseCode::no_status` for an empty close frame) and a
  /// UTF-8 `reason` of at most 123 bytes. `on_close` follows once the peer
  /// answers (or the close timeout passes).
  std::error_code close(CloseCode code = CloseCode::normal, std::string_view reason = {});

  /// Drops the TCP connection now, without a close handshake; `on_close`
  /// runs with 1006 before this returns.
  void terminate();

  /// Bytes queued but not yet taken by the kernel: the backpressure signal.
  std::size_t buffered_amount() const noexcept;
  /// True from `on_open` until the close handshake begins.
  bool is_open() const noexcept;

  /// The request path (server side) or the URL's path. Valid until
  /// `on_close` has returned, like the three below.
  std::string_view path() const noexcept;
  /// The negotiated subprotocol, or empty.
  std::string_view subprotocol() const noexcept;
  /// The agreed Sec-WebSocket-Extensions value, or empty.
  std::string_view extensions() const noexcept;
  /// The peer's address: "127.0.0.1:54321", "[::1]:54321".
  std::string remote_address() const;

  /// The event loop this connection runs on: post work and set timers there.
  Loop& loop() noexcept;
  /// A thread-safe handle to this connection (see `WebSocketHandle`).
  WebSocketHandle handle();

  /// Publish/subscribe (server connections). A subscription gets every
  /// message published to its topic after it began and until it ends, from
  /// any thread; it ends by itself when the connection closes. True when
  /// the subscription changed; false on a client connection.
  /// @{
  bool subscribe(std::string_view topic);
  bool unsubscribe(std::string_view topic);
  bool is_subscribed(std::string_view topic) const;
  /// @}
  /// Sends to every subscriber of `topic` on every thread of the server,
  /// this connection included only with `include_self`. The message is
  /// framed (and compressed) once and the same bytes are queued for every
  /// subscriber. `UsageError::not_supported` on a client connection.
  std::error_code publish(std::string_view topic, std::string_view data,
                          Opcode opcode = Opcode::text, bool include_self = false);

 protected:
  WebSocket() = default;
  ~WebSocket() = default;

  /// The per-connection data of a route or client connection declared with
  /// a data type (handlers.hpp), or null.
  void* data_ = nullptr;

 private:
  friend struct detail::DataAccess;
};

namespace detail {
struct HandleState;  // shared by a connection and its handles (session layer)
struct DataAccess;   // how typed handlers reach a connection's data
}  // namespace detail

/// A connection as other threads see it: it can send, close, and run work
/// on the connection's thread while the connection is there. Copyable,
/// thread-safe, and it does not keep the connection alive: once the
/// connection has closed, every call does nothing and returns false.
class WebSocketHandle {
 public:
  /// An empty handle, which reaches nothing.
  WebSocketHandle() = default;
  /// A handle on a connection's shared state (from `WebSocket::handle()`).
  explicit WebSocketHandle(std::shared_ptr<detail::HandleState> state) noexcept
      : state_(std::move(state)) {}

  /// Sends a copy of `data` from the connection's loop. False when the
  /// connection has closed (or the send found it closing).
  bool send(std::string data, Opcode opcode = Opcode::text) const;
  /// Starts the close handshake from the connection's loop.
  bool close(CloseCode code = CloseCode::normal, std::string reason = {}) const;
  /// Runs `fn` on the connection's loop with the connection, if it is still
  /// open then (otherwise `fn` does not run).
  bool post(std::function<void(WebSocket&)> fn) const;
  /// Whether the connection was open a moment ago (it may close right after).
  bool is_open() const noexcept;
  /// Whether this handle refers to a connection at all.
  explicit operator bool() const noexcept { return state_ != nullptr; }

 private:
  std::shared_ptr<detail::HandleState> state_;
};

}  // namespace duplex
