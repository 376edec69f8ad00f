#include "server_session.hpp"

#include "server_impl.hpp"
#include "server_loop.hpp"
#include "static_files.hpp"
#include "upgrade_decision.hpp"

#include <duplex/protocol/error.hpp>

#include <duplex/protocol/http_response.hpp>

#include <exception>

namespace duplex::server {

ServerSession::ServerSession(ServerLoop& owner, int fd, const transport::Address& peer)
    : Session(owner.loop(), owner.server().settings, fd, peer), owner_(owner) {}

void ServerSession::on_closed() {
  while (!subscriptions_.empty()) {
    const std::string topic = subscriptions_.back().topic->name;
    pubsub_unsubscribe(topic);
  }
  owner_.session_closed(*this);
}

bool ServerSession::pubsub_subscribe(std::string_view topic) {
  if (phase() == Phase::closed) return false;
  if (!owner_.registry().subscribe(*this, topic, owner_.server().publish_horizon())) return false;
  owner_.server().count_subscription(topic, +1);
  return true;
}

bool ServerSession::pubsub_unsubscribe(std::string_view topic) {
  if (!owner_.registry().unsubscribe(*this, topic)) return false;
  owner_.server().count_subscription(topic, -1);
  return true;
}

bool ServerSession::pubsub_is_subscribed(std::string_view topic) const {
  for (const Subscription& s : subscriptions_) {
    if (s.topic->name == topic) return true;
  }
  return false;
}

bool ServerSession::pubsub_publish(std::string_view topic, std::string_view data, Opcode opcode,
                                   bool include_self) {
  if (opcode != Opcode::text && opcode != Opcode::binary) return false;
  owner_.publish(
      topic,
      MessageRef(PublishedMessage::make(data, opcode, owner_.server().next_publish_sequence())),
      include_self ? nullptr : this);
  return true;
}

bool ServerSession::deliver(LoopDelivery& delivery) {
  if (!open()) return false;
  Server::Impl& server = owner_.server();
  // A burst of publications can fill a healthy reader's queue within one
  // loop iteration, before the end-of-iteration flush: hand the queue to
  // the kernel first, and call slow only a reader whose socket is full too.
  if (buffered() > server.options.max_backpressure) flush_now();
  if (!open()) return false;
  if (buffered() > server.options.max_backpressure) {
    if (server.options.slow_consumer == SlowConsumerPolicy::drop_message) {
      server.messages_dropped.fetch_add(1, std::memory_order_relaxed);
    } else {
      server.slow_consumers_closed.fetch_add(1, std::memory_order_relaxed);
      log(LogLevel::info, "closing slow consumer " + peer_.to_string());
      do_close(server.options.slow_consumer_close_code,
               "too slow: more than " + std::to_string(server.options.max_backpressure) +
                   " bytes waiting");
    }
    return false;
  }
  std::error_code ec;
  const protocol::MessageTransform* transform = conn_.transform();
  if (!transform) {
    ec = conn_.send_prepared(delivery.plain());
  } else if (transform->shared_encoding_key() >= 0) {
    // Encoded (compressed) once for everyone who can share it.
    ec = conn_.send_prepared(delivery.encoded(*transform));
  } else {
    // Our compressor keeps context with this peer: compress for it alone.
    const PublishedMessage& message = delivery.message();
    ec = conn_.send(message.opcode(), protocol::Connection::as_bytes(message.payload()));
  }
  if (ec) return false;
  queue_output();
  return true;
}

void ServerSession::start() {
  handshake_ = std::make_unique<protocol::ServerHandshake>(owner_.server().policy);
  if (const auto& ctx = owner_.server().tls) start_tls(std::make_unique<transport::TlsStream>(ctx));
  watch(socket_events);
}

void ServerSession::on_tls_failed(const transport::TlsStream& stream) {
  log(LogLevel::warning, "TLS handshake with " + peer_.to_string() + " failed: " + stream.error());
  if (stream.plain_http_request()) {
    // Say so in the protocol the client speaks, rather than leaving it to
    // guess from a dropped connection.
    reply_in_clear_and_close(
        protocol::plain_http_response(400, "this port speaks TLS: use https:// or wss://\n"));
    return;
  }
  close_socket();
}

void ServerSession::on_handshake_timeout() {
  log(LogLevel::info, "dropping " + peer_.to_string() + ": no complete request in time");
  close_socket();
}

void ServerSession::shut_down() {
  switch (phase()) {
    case Phase::open: do_close(CloseCode::going_away, "server shutting down"); break;
    case Phase::handshake:
      if (!responded_) close_socket();
      break;
    default: break;  // already closing: let it finish
  }
}

void ServerSession::respond(std::string response) {
  conn_.output().append(response);
  finish_response();
}

void ServerSession::finish_response() {
  responded_ = true;
  handshake_.reset();
  finish_after_flush();
}

void ServerSession::on_handshake_input(std::span<std::uint8_t> bytes) {
  if (!handshake_) return;  // one request per connection; the rest is ignored
  std::span<std::uint8_t> rest = bytes;
  switch (handshake_->receive(rest, conn_.output())) {
    case protocol::HandshakeEvent::none: return;
    case protocol::HandshakeEvent::failed:
      log(LogLevel::info,
          "refused request from " + peer_.to_string() + ": " + handshake_->error().message());
      finish_response();
      return;
    case protocol::HandshakeEvent::http_request: serve_http(handshake_->request()); return;
    case protocol::HandshakeEvent::upgrade_request: upgrade(rest); return;
    default: return;
  }
}

void ServerSession::refuse(int status, std::string_view body,
                           std::span<const protocol::HttpHeader> headers) {
  if (handshake_->reject(status, body, headers, conn_.output())) {
    // A header the application added cannot be sent: refuse without them.
    handshake_->reject(status, body, {}, conn_.output());
  }
  finish_response();
}

void ServerSession::upgrade(std::span<std::uint8_t> leftover) {
  Server::Impl& server = owner_.server();
  const protocol::UpgradeRequest& request = handshake_->upgrade();
  const Route* route = server.find_route(request.head.path);
  if (!route) {
    refuse(404, "no WebSocket endpoint at this path\n", {});
    return;
  }
  UpgradeDecision decision(request, peer_);
  if (tls()) decision.set_server_name(tls()->server_name());
  protocol::Agreement agreed;
  try {
    if (route->route.on_upgrade) route->route.on_upgrade(decision);
  } catch (const std::exception& e) {
    // The application's hook threw: a server error, not the client's.
    log(LogLevel::warning, std::string("upgrade hook failed: ") + e.what());
    refuse(500, "internal error during upgrade\n", {});
    return;
  }
  const auto headers = decision.extra_headers();
  if (decision.rejected()) {
    log(LogLevel::info,
        "upgrade hook refused " + peer_.to_string() + " with " + std::to_string(decision.status()));
    refuse(decision.status(), decision.body(), headers);
    return;
  }
  if (const auto ec = handshake_->accept({.subprotocol = decision.subprotocol(),
                                          .headers = headers,
                                          .extensions = server.extensions},
                                         conn_.output(), agreed)) {
    // The hook asked for something that cannot be sent (a subprotocol
    // nobody offered, a header with a line break).
    log(LogLevel::warning, "upgrade hook's answer cannot be sent: " + ec.message());
    refuse(500, "internal error during upgrade\n", {});
    return;
  }
  if (agreed.transform) set_transform(std::move(agreed.transform));
  path_ = std::string(request.head.path);
  set_negotiated(std::move(agreed.subprotocol), std::move(agreed.extensions));
  user_data_ = std::move(decision.user_data());
  log(LogLevel::info, "WebSocket open: " + peer_.to_string() + " " + path_);
  // The leftover may live in the handshake's buffer: hand it over before
  // the handshake goes.
  auto handshake = std::move(handshake_);
  open_websocket(route->handlers, leftover);
}

void ServerSession::serve_http(const protocol::HttpRequestHead& head) {
  Server::Impl& server = owner_.server();
  const bool is_head = head.method == "HEAD";
  if (head.method != "GET" && !is_head) {
    const protocol::HttpHeader allow{"Allow", "GET, HEAD"};
    respond_plain(405, "only GET and HEAD are served here\n", {&allow, 1}, false);
    return;
  }
  if (const HttpHandler* handler = server.find_http(head.path)) {
    HttpRequest request{head.method, head.path, head.query, &head.headers, peer_.to_string()};
    HttpResponse response;
    try {
      (*handler)(request, response);
      std::vector<protocol::HttpHeader> headers;
      for (const auto& [name, value] : response.headers) headers.push_back({name, value});
      std::string out;
      if (protocol::write_http_response_head(response.status, response.body.size(),
                                             response.content_type, headers, out)) {
        log(LogLevel::warning,
            "HTTP handler for " + std::string(head.path) + " set a header that cannot be sent");
        respond(protocol::plain_http_response(500, "internal error\n"));
        return;
      }
      if (!is_head) out += response.body;
      respond(std::move(out));
    } catch (const std::exception& e) {
      log(LogLevel::warning, std::string("HTTP handler failed: ") + e.what());
      respond(protocol::plain_http_response(500, "internal error\n"));
    }
    return;
  }
  if (!server.static_root.empty()) {
    serve_static(server.static_root, head.path, is_head, conn_.output());
    finish_response();
    return;
  }
  if (server.find_route(head.path)) {
    // A WebSocket endpoint fetched as a page: say what it expects.
    const protocol::HttpHeader headers[] = {{"Upgrade", "websocket"},
                                            {"Sec-WebSocket-Version", "13"}};
    respond_plain(426, "this is a WebSocket endpoint\n", headers, is_head);
    return;
  }
  respond_plain(404, "not found\n", {}, is_head);
}

void ServerSession::respond_plain(int status, std::string_view body,
                                  std::span<const protocol::HttpHeader> headers, bool head_only) {
  std::string out;
  protocol::write_http_response_head(status, body.size(), "text/plain; charset=utf-8", headers,
                                     out);
  if (!head_only) out.append(body);
  respond(std::move(out));
}

}  // namespace duplex::server
