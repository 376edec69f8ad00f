#include "server_session.hpp"

#include "server_loop.hpp"
#include "server_state.hpp"
#include "static_files.hpp"
#include "upgrade_decision.hpp"

#include <duplex/protocol/error.hpp>
#include <duplex/protocol/http_response.hpp>
#include <duplex/transport_error.hpp>

#include <algorithm>
#include <exception>

namespace duplex::server {

namespace {

const session::Binding& binding_for(detail::ServerState& server, ServerSession::Refusal refusal) {
  switch (refusal) {
    case ServerSession::Refusal::server_full: return server.refusal_bindings[0];
    case ServerSession::Refusal::address_full: return server.refusal_bindings[1];
    default: return server.handshake_binding;
  }
}

}  // namespace

ServerSession::ServerSession(ServerLoop& owner, const transport::Address& peer, Refusal refusal)
    : Session(owner.loop(), owner, binding_for(owner.server(), refusal), peer) {}

ServerSession::Refusal ServerSession::refusal() const noexcept {
  const session::Binding* b = &binding();
  const auto& refusals = static_cast<const ServerLoop&>(host()).server().refusal_bindings;
  if (b == &refusals[0]) return Refusal::server_full;
  if (b == &refusals[1]) return Refusal::address_full;
  return Refusal::none;
}

bool ServerSession::holds_address_slot() noexcept {
  const detail::ServerState& server = owner().server();
  return server.options.max_connections_per_address != 0 && refusal() == Refusal::none &&
         &binding() != &server.refusal_bindings[3];
}

ServerLoop& ServerSession::owner() noexcept {
  return static_cast<ServerLoop&>(host());
}

void ServerSession::start(int fd) {
  detail::ServerState& server = owner().server();
  if (const auto ec = attach_socket(fd)) {
    log(LogLevel::warning, "cannot watch a new connection: " + ec.message());
    close_socket();
    return;
  }
  if (auto tls = server.tls_context()) use_tls(std::move(tls), nullptr);
}

bool ServerSession::deliver(LoopDelivery& delivery) {
  if (!is_open_now()) return false;
  const std::size_t limit = route().settings.max_backpressure;
  if (buffered() > limit && !make_room(limit)) return false;
  const protocol::MessageTransform* transform = conn_.transform();
  if (!transform) return queue_shared(delivery.plain());
  // Encoded (compressed) once for everyone who can share it.
  if (transform->shared_encoding_key() >= 0) return queue_shared(delivery.encoded(*transform));
  // Our compressor keeps context with this peer: compress for it alone.
  const PublishedMessage& message = delivery.message();
  return !do_send(message.payload(), message.opcode());
}

__attribute__((noinline)) bool ServerSession::make_room(std::size_t limit) {
  // A burst of publications can fill a healthy reader's queue within one
  // loop iteration, before the end-of-iteration flush: hand the queue to
  // the kernel first, and call slow only a reader whose socket is full too.
  write_now();
  if (!is_open_now()) return false;
  if (buffered() <= limit) return true;
  detail::ServerState& server = owner().server();
  const Route& r = route();
  if (r.slow_consumer == SlowConsumerPolicy::drop_message) {
    server.messages_dropped.fetch_add(1, std::memory_order_relaxed);
  } else {
    server.slow_consumers_closed.fetch_add(1, std::memory_order_relaxed);
    log(LogLevel::info, "closing slow consumer " + peer().to_string());
    do_close(r.slow_consumer_close_code,
             "too slow: more than " + std::to_string(limit) + " bytes waiting");
  }
  return false;
}

void ServerSession::on_handshake_error(std::error_code error, std::string_view detail) {
  const std::string why = escape_for_log(detail.empty() ? error.message() : detail);
  if (error.category() != transport_category()) {
    log(LogLevel::info, "connection from " + peer().to_string() + " failed: " + why);
    close_socket();
    return;
  }
  // A failed TLS handshake is the client's doing (or a scanner's): worth a
  // line with -v, not a warning a remote peer could flood the log with.
  log(LogLevel::info, "TLS handshake with " + peer().to_string() + " failed: " + why);
  if (error == TransportError::plain_http_to_tls) {
    // Say so in the protocol the client speaks, rather than leaving it to
    // guess from a dropped connection.
    reply_in_clear_and_close(
        protocol::plain_http_response(400, "this port speaks TLS: use https:// or wss://\n"));
    return;
  }
  close_socket();
}

void ServerSession::on_handshake_timeout() {
  log(LogLevel::info, "dropping " + peer().to_string() + ": no complete request in time");
  close_socket();
}

void ServerSession::shut_down() {
  switch (phase()) {
    case Phase::open: do_close(CloseCode::going_away, "server shutting down"); break;
    case Phase::handshake:
      if (!finishing()) close_socket();  // no answer under way
      break;
    default: break;  // already closing: let it finish
  }
}

void ServerSession::respond(std::string response) {
  conn_.output().append(response);
  finish_response();
}

void ServerSession::finish_response() {
  answering();
  finish_after_flush();
}

bool ServerSession::awaiting_request() const noexcept {
  const auto& server = static_cast<const ServerLoop&>(host()).server();
  const session::Binding* b = &binding();
  return b == &server.handshake_binding || b == &server.refusal_bindings[0] ||
         b == &server.refusal_bindings[1];
}

void ServerSession::answering() {
  if (!awaiting_request()) return;
  const bool refused = refusal() != Refusal::none;
  rebind(owner().server().refusal_bindings[refused ? 3 : 2]);
  owner().handshake_finished();
}

void ServerSession::on_handshake_data(std::span<std::uint8_t> bytes) {
  if (finishing()) return;  // one request per connection; the rest is ignored
  if (const Refusal refusal = this->refusal(); refusal != Refusal::none) [[unlikely]] {
    // Answered before the request is read whole: it will not be served.
    const protocol::HttpHeader retry{"Retry-After", "5"};
    respond_plain(503,
                  refusal == Refusal::server_full
                      ? "the server is at its connection limit; try again later\n"
                      : "too many connections from your address; try again later\n",
                  {&retry, 1}, false);
    return;
  }
  if (pending_post_) {
    continue_post(bytes);
    return;
  }
  if (partial_request_) {
    std::span<std::uint8_t> rest = bytes;
    const auto event = partial_request_->receive(rest, conn_.output());
    if (event != protocol::HandshakeEvent::none) {
      // Done with it once this returns: the request's views point into it.
      auto hs = std::move(partial_request_);
      handle(*hs, event, rest);
    }
    return;
  }
  const protocol::ServerPolicy& policy = owner().server().policy;
  protocol::ServerHandshake hs(policy);
  std::span<std::uint8_t> rest = bytes;
  const auto event = hs.receive(rest, conn_.output());
  if (event == protocol::HandshakeEvent::none) {
    // Only part of the request: collect the rest in a handshake that stays.
    partial_request_ = std::make_unique<protocol::ServerHandshake>(policy);
    std::span<std::uint8_t> again = bytes;
    partial_request_->receive(again, conn_.output());
    return;
  }
  handle(hs, event, rest);
}

void ServerSession::handle(protocol::ServerHandshake& hs, protocol::HandshakeEvent event,
                           std::span<std::uint8_t> rest) {
  switch (event) {
    case protocol::HandshakeEvent::failed:
      log(LogLevel::info,
          "refused request from " + peer().to_string() + ": " + hs.error().message());
      finish_response();
      return;
    case protocol::HandshakeEvent::http_request: serve_http(hs.request(), rest); return;
    case protocol::HandshakeEvent::upgrade_request: upgrade(hs, rest); return;
    default: return;
  }
}

void ServerSession::refuse(protocol::ServerHandshake& hs, int status, std::string_view body,
                           std::span<const protocol::HttpHeader> headers) {
  if (hs.reject(status, body, headers, conn_.output())) {
    // A header the application added cannot be sent: refuse without them.
    hs.reject(status, body, {}, conn_.output());
  }
  finish_response();
}

void ServerSession::upgrade(protocol::ServerHandshake& hs, std::span<std::uint8_t> leftover) {
  detail::ServerState& server = owner().server();
  const protocol::UpgradeRequest& request = hs.upgrade();
  const Route* chosen = server.find_route(request.head.path);
  if (!chosen) {
    refuse(hs, 404, "no WebSocket endpoint at this path\n", {});
    return;
  }
  const detail::Callbacks& callbacks = *chosen->callbacks;
  // The connection's data exists before the hook, which fills it in.
  void* data = callbacks.make_data();
  UpgradeDecision decision(request, peer(), data);
  if (tls()) decision.set_server_name(tls()->server_name());
  try {
    callbacks.upgrade(decision);
  } catch (const std::exception& e) {
    // The application's hook threw: a server error, not the client's.
    callbacks.destroy_data(data);
    log(LogLevel::warning, std::string("upgrade hook failed: ") + e.what());
    refuse(hs, 500, "internal error during upgrade\n", {});
    return;
  }
  const auto headers = decision.extra_headers();
  if (decision.rejected()) {
    callbacks.destroy_data(data);
    log(LogLevel::info, "upgrade hook refused " + peer().to_string() + " with " +
                            std::to_string(decision.status()));
    refuse(hs, decision.status(), decision.body(), headers);
    return;
  }
  protocol::Agreement agreed;
  if (const auto ec = hs.accept({.subprotocol = decision.subprotocol(),
                                 .headers = headers,
                                 .extensions = chosen->extensions},
                                conn_.output(), agreed)) {
    // The hook asked for something that cannot be sent (a subprotocol
    // nobody offered, a header with a line break).
    callbacks.destroy_data(data);
    log(LogLevel::warning, "upgrade hook's answer cannot be sent: " + ec.message());
    refuse(hs, 500, "internal error during upgrade\n", {});
    return;
  }
  if (agreed.transform) set_transform(std::move(agreed.transform));
  set_path(std::string(request.head.path));
  set_agreed(std::move(agreed.subprotocol), std::move(agreed.extensions));
  set_data(data);
  log(LogLevel::info,
      "WebSocket open: " + peer().to_string() + " " + escape_for_log(request.head.path));
  owner().handshake_finished();
  open(*chosen, leftover);
}

void ServerSession::serve_http(const protocol::HttpRequestHead& head,
                               std::span<std::uint8_t> rest) {
  detail::ServerState& server = owner().server();
  const bool is_head = head.method == "HEAD";
  const HttpHandler* get_handler = server.find_http(head.path);
  const HttpHandler* post_handler = server.find_http_post(head.path);
  if (head.method == "POST" && post_handler) {
    receive_post(head, rest);
    return;
  }
  if ((head.method != "GET" && !is_head) || (post_handler && !get_handler)) {
    const std::string_view allowed = !post_handler ? "GET, HEAD"
                                     : get_handler ? "GET, HEAD, POST"
                                                   : "POST";
    const protocol::HttpHeader allow{"Allow", allowed};
    respond_plain(405, "this path takes " + std::string(allowed) + "\n", {&allow, 1}, is_head);
    return;
  }
  if (get_handler) {
    run_http_handler(*get_handler, head, {});
    return;
  }
  if (!server.static_root.empty()) {
    // The file follows the head as the output drains, a part at a time.
    if (auto body = serve_static(server.static_root, head, conn_.output())) {
      answering();
      finish_with_body(std::move(body));
    } else {
      finish_response();
    }
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

void ServerSession::receive_post(const protocol::HttpRequestHead& head,
                                 std::span<std::uint8_t> rest) {
  const std::size_t limit = owner().server().options.max_http_body;
  if (head.headers.contains("Transfer-Encoding")) {
    respond_plain(411, "send the body with a Content-Length (chunked bodies are not taken)\n", {},
                  false);
    return;
  }
  if (head.headers.count("Content-Length") != 1) {
    respond_plain(411, "a POST needs one Content-Length\n", {}, false);
    return;
  }
  const std::string_view text = head.headers.get("Content-Length");
  std::uint64_t length = 0;
  const bool digits_only =
      !text.empty() && text.size() <= 19 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits_only) {
    respond_plain(400, "Content-Length is not a number\n", {}, false);
    return;
  }
  for (char c : text) length = length * 10 + static_cast<std::uint64_t>(c - '0');
  if (length > limit) {
    respond_plain(413, "the body is over " + std::to_string(limit) + " bytes\n", {}, false);
    return;
  }
  if (rest.size() >= length) {
    const HttpHandler& handler = *owner().server().find_http_post(head.path);
    run_http_handler(handler, head, {reinterpret_cast<const char*>(rest.data()), length});
    return;
  }
  // The body is still coming: keep the head (rebuilt, to be parsed again
  // when the body is whole) and what has come of the body.
  auto pending = std::make_unique<PendingPost>();
  std::string& h = pending->head_text;
  h.append(head.method).append(" ").append(head.target).append(" HTTP/1.");
  h.append(std::to_string(head.version_minor)).append("\r\n");
  for (const protocol::HttpHeader& field : head.headers.fields()) {
    h.append(field.name).append(": ").append(field.value).append("\r\n");
  }
  h.append("\r\n");
  pending->length = length;
  // Reserved as it comes, not as announced: a head alone must not make
  // us hold its Content-Length.
  pending->body.reserve(std::min<std::size_t>(length, 16 * 1024));
  pending->body.append(reinterpret_cast<const char*>(rest.data()), rest.size());
  pending_post_ = std::move(pending);
  if (protocol::iequals(head.headers.get("Expect"), "100-continue")) {
    conn_.output().append(std::string_view("HTTP/1.1 100 Continue\r\n\r\n"));
  }
}

void ServerSession::continue_post(std::span<std::uint8_t> bytes) {
  PendingPost& post = *pending_post_;
  const std::size_t take = std::min(bytes.size(), post.length - post.body.size());
  post.body.append(reinterpret_cast<const char*>(bytes.data()), take);
  if (post.body.size() < post.length) return;
  const auto whole = std::move(pending_post_);
  protocol::HttpRequestHead head;
  if (protocol::parse_request_head(whole->head_text, owner().server().policy.limits, head)) {
    respond(protocol::plain_http_response(500, "internal error\n"));  // cannot happen: parsed once
    return;
  }
  run_http_handler(*owner().server().find_http_post(head.path), head, whole->body);
}

void ServerSession::run_http_handler(const HttpHandler& handler,
                                     const protocol::HttpRequestHead& head, std::string_view body) {
  const bool is_head = head.method == "HEAD";
  HttpRequest request{head.method, head.path, head.query, &head.headers, peer().to_string(), body};
  HttpResponse response;
  try {
    handler(request, response);
    std::vector<protocol::HttpHeader> headers;
    for (const auto& [name, value] : response.headers) headers.push_back({name, value});
    std::string out;
    if (protocol::write_http_response_head(response.status, response.body.size(),
                                           response.content_type, headers, out)) {
      log(LogLevel::warning,
          "HTTP handler for " + escape_for_log(head.path) + " set a header that cannot be sent");
      respond(protocol::plain_http_response(500, "internal error\n"));
      return;
    }
    if (!is_head) out += response.body;
    respond(std::move(out));
  } catch (const std::exception& e) {
    log(LogLevel::warning, std::string("HTTP handler failed: ") + e.what());
    respond(protocol::plain_http_response(500, "internal error\n"));
  }
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
