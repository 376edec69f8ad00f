// A server-side connection: its opening handshake (a plain HTTP request,
// or an upgrade to one of the routes), then the WebSocket through the
// session pump; and its share of pub/sub delivery.
#pragma once

#include "../session/session.hpp"
#include "published_message.hpp"
#include "route.hpp"

#include <duplex/protocol/server_handshake.hpp>

#include <memory>

namespace duplex::server {

class ServerLoop;

class ServerSession final : public session::Session {
 public:
  // Why a connection accepted over a limit is to be answered 503.
  enum class Refusal : std::uint8_t {
    none,
    server_full,   // max_connections
    address_full,  // max_connections_per_address
  };
  ServerSession(ServerLoop& owner, const transport::Address& peer, Refusal refusal);

  // Starts reading the request on the accepted socket `fd` (and its timeout).
  void start(int fd);

  // Graceful shutdown: close an open WebSocket with 1001, drop the rest.
  void shut_down();

  // Queues a published message, unless this subscriber is too far behind
  // (then the route's slow-consumer policy applies). True when queued.
  bool deliver(LoopDelivery& delivery);

  // Whether the session still waits for its request (it counts among the
  // pending handshakes until it opens, or answers, or ends).
  bool awaiting_request() const noexcept;

  // Whether this connection counts against its address's
  // max_connections_per_address (given back when it closes).
  bool holds_address_slot() noexcept;

 private:
  void on_handshake_data(std::span<std::uint8_t> bytes) override;
  void on_handshake_end() override { close_socket(); }
  void on_handshake_error(std::error_code error, std::string_view detail) override;
  void on_handshake_timeout() override;

  ServerLoop& owner() noexcept;
  // A subscriber over its backpressure limit: try the kernel, then apply
  // the slow-consumer policy. True when there is room now.
  bool make_room(std::size_t limit);
  const Route& route() const noexcept { return static_cast<const Route&>(binding()); }
  // Acts on what feeding the request to `hs` produced.
  void handle(protocol::ServerHandshake& hs, protocol::HandshakeEvent event,
              std::span<std::uint8_t> rest);
  void upgrade(protocol::ServerHandshake& hs, std::span<std::uint8_t> leftover);
  void serve_http(const protocol::HttpRequestHead& head, std::span<std::uint8_t> rest);
  // A POST to a path with a handler: checks its length, then runs the
  // handler at once if the body came with the head, or collects the rest.
  void receive_post(const protocol::HttpRequestHead& head, std::span<std::uint8_t> rest);
  void continue_post(std::span<std::uint8_t> bytes);
  void run_http_handler(const HttpHandler& handler, const protocol::HttpRequestHead& head,
                        std::string_view body);
  void respond(std::string response);
  void respond_plain(int status, std::string_view body,
                     std::span<const protocol::HttpHeader> headers, bool head_only);
  void refuse(protocol::ServerHandshake& hs, int status, std::string_view body,
              std::span<const protocol::HttpHeader> headers);
  void finish_response();
  // The request is read: the session no longer counts as a pending handshake.
  void answering();

  // A request that arrived in pieces, collected by a handshake of its own
  // until it is whole. One that arrives whole (most do) is read by a
  // handshake on the stack: no allocation, and nothing kept per connection.
  std::unique_ptr<protocol::ServerHandshake> partial_request_;
  // A POST whose body is still arriving.
  struct PendingPost {
    std::string head_text;  // the head, rebuilt; parsed again when the body is whole
    std::string body;
    std::size_t length = 0;  // Content-Length
  };
  std::unique_ptr<PendingPost> pending_post_;
  // (A refusal is told by the binding the session starts with, one per
  // kind in the server's state: no byte more per connection.)
  Refusal refusal() const noexcept;
};

}  // namespace duplex::server
