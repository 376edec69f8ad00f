// A server-side connection: reads the HTTP request, then either upgrades to a
// WebSocket on one of the routes or answers it as plain HTTP.
#pragma once

#include "../session/session.hpp"
#include "topic_registry.hpp"

#include <duplex/protocol/server_handshake.hpp>

#include <memory>

#include <sys/epoll.h>

namespace duplex::server {

class ServerLoop;

class ServerSession final : public session::Session {
 public:
  ServerSession(ServerLoop& owner, int fd, const transport::Address& peer);

  // Starts reading the request (and its timeout).
  void start();

  // Graceful shutdown: close an open WebSocket with 1001, drop the rest.
  void shut_down();

  // Queues a published frame, unless this subscriber is too far behind
  // (then the slow-consumer policy applies). True when queued.
  bool deliver(LoopDelivery& delivery);
  std::vector<Subscription>& subscriptions() noexcept { return subscriptions_; }

  bool pubsub_subscribe(std::string_view topic) override;
  bool pubsub_unsubscribe(std::string_view topic) override;
  bool pubsub_is_subscribed(std::string_view topic) const override;
  bool pubsub_publish(std::string_view topic, std::string_view data, Opcode opcode,
                      bool include_self) override;

 private:
  void on_handshake_input(std::span<std::uint8_t> bytes) override;
  void on_handshake_eof() override { close_socket(); }
  void on_handshake_timeout() override;
  void on_closed() override;
  void on_tls_failed(const transport::TlsStream& tls) override;

  void upgrade(std::span<std::uint8_t> leftover);
  void refuse(int status, std::string_view body, std::span<const protocol::HttpHeader> headers);
  void finish_response();
  void serve_http(const protocol::HttpRequestHead& head);
  void respond(std::string response);
  void respond_plain(int status, std::string_view body,
                     std::span<const protocol::HttpHeader> headers, bool head_only);

  ServerLoop& owner_;
  std::vector<Subscription> subscriptions_;
  // The opening handshake, from accept until the connection opens or the
  // request is answered.
  std::unique_ptr<protocol::ServerHandshake> handshake_;
  bool responded_ = false;
};

}  // namespace duplex::server
