// What the server and the client hand to application code: a WebSocket
// handle and the messages it receives.
//
// A WebSocket belongs to one event-loop thread: call its methods from the
// handlers it gives you (or from work posted to its loop). The reference is
// valid until on_close has returned.
#pragma once

#include <duplex/close_code.hpp>
#include <duplex/protocol/error.hpp>
#include <duplex/protocol/frame.hpp>

#include <any>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace duplex {

using protocol::Opcode;

struct Message {
  std::string_view data;  // valid only during the handler call
  Opcode opcode = Opcode::text;

  bool is_text() const noexcept { return opcode == Opcode::text; }
  bool is_binary() const noexcept { return opcode == Opcode::binary; }
  std::span<const std::uint8_t> bytes() const noexcept {
    return {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()};
  }
};

class WebSocket {
 public:
  WebSocket(const WebSocket&) = delete;
  WebSocket& operator=(const WebSocket&) = delete;

  // Queues a message; it leaves with the other output of this loop
  // iteration. UsageError::connection_closed once the close handshake began.
  std::error_code send(std::string_view data, Opcode opcode = Opcode::text);
  std::error_code send_text(std::string_view text) { return send(text, Opcode::text); }
  std::error_code send_binary(std::span<const std::uint8_t> data) {
    return send({reinterpret_cast<const char*>(data.data()), data.size()}, Opcode::binary);
  }
  // Sends one message in pieces of the application's choosing (streaming):
  // the first call with Opcode::text or Opcode::binary, the following ones
  // with Opcode::continuation, the last with `fin`. Other sends wait for
  // the message to end (UsageError::message_in_progress).
  std::error_code send_fragment(std::string_view data, Opcode opcode, bool fin);
  std::error_code ping(std::string_view payload = {});

  // Starts the close handshake (code 1000-1003, 1007-1014, 3000-4999, or
  // CloseCode::no_status for an empty close frame).
  std::error_code close(CloseCode code = CloseCode::normal, std::string_view reason = {});
  // Drops the TCP connection now, without a close handshake (reported as 1006).
  void terminate();

  // Bytes queued but not yet taken by the kernel: the backpressure signal.
  std::size_t buffered_amount() const noexcept;
  bool is_open() const noexcept;

  std::string_view path() const noexcept;         // request path (server side) or URL path
  std::string_view subprotocol() const noexcept;  // negotiated, or empty
  std::string_view extensions() const noexcept;   // agreed Sec-WebSocket-Extensions, or empty
  std::string remote_address() const;             // "127.0.0.1:54321", "[::1]:54321"

  // Whatever the application attaches (e.g. in the upgrade hook).
  std::any& user_data() noexcept;

  // Publish/subscribe (server connections; a client's calls return false).
  // A subscription gets every message published to its topic after it began
  // and until it ends, on any thread; it ends by itself when the connection
  // closes.
  bool subscribe(std::string_view topic);
  bool unsubscribe(std::string_view topic);
  bool is_subscribed(std::string_view topic) const;
  // Sends to every subscriber of `topic` on every thread of the server,
  // this connection included only with `include_self`. The message is framed
  // once and the same bytes are queued for every subscriber.
  bool publish(std::string_view topic, std::string_view data, Opcode opcode = Opcode::text,
               bool include_self = false);

 protected:
  WebSocket() = default;
  ~WebSocket() = default;
};

}  // namespace duplex
