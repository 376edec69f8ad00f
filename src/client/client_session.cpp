#include "client_session.hpp"

#include "client_state.hpp"

#include <duplex/client_error.hpp>
#include <duplex/protocol/error.hpp>
#include <duplex/transport_error.hpp>

#include <thread>

namespace duplex::client {
namespace {

session::Binding binding_for(const ClientOptions& o,
                             std::shared_ptr<const detail::Callbacks> callbacks) {
  session::Binding b;
  b.callbacks = std::move(callbacks);
  session::Settings& s = b.settings;
  s.protocol.role = protocol::Role::client;
  s.protocol.max_message_size = o.max_message_size;
  s.protocol.max_frame_size = o.max_message_size;
  s.protocol.fragment_size = o.fragment_size;
  s.max_backpressure = o.max_backpressure;
  s.handshake_timeout_ms = o.connect_timeout.count();  // the first stage is the TCP connect
  s.idle_timeout_ms = 0;
  s.ping_interval_ms = o.ping_interval.count();
  s.close_timeout_ms = o.close_timeout.count();
  return b;
}

}  // namespace

ClientSession::ClientSession(detail::ClientState& owner, WebSocketUrl url, ClientOptions options,
                             std::shared_ptr<const detail::Callbacks> callbacks)
    : OwnBinding{binding_for(options, std::move(callbacks))},
      Session(*owner.loop, owner, own_binding, transport::Address{}),
      owner_(owner),
      url_(std::move(url)),
      options_(std::move(options)),
      deflate_(options_.deflate.enabled
                   ? std::make_unique<protocol::PerMessageDeflate>(options_.deflate)
                   : nullptr) {
  set_path(url_.target.substr(0, url_.target.find('?')));
  // The connection's data lives from its start to its end.
  set_data(own_binding.callbacks->make_data());
}

void ClientSession::start() {
  if (phase() != Phase::handshake) return;  // cancelled before it started
  restart_handshake_clock();
  if (url_.secure) {
    std::string why;
    tls_context_ = owner_.tls_context(options_.ca_file, !options_.insecure_skip_verify, why);
    if (!tls_context_) {
      fail(TransportError::tls_configuration, why);
      return;
    }
  }
  transport::Address address;
  if (transport::parse_numeric_address(url_.host, url_.port, address)) {
    resolved(address, {});
    return;
  }
  // getaddrinfo blocks: run it on a thread of its own and come back through
  // the loop's mailbox, which outlives the client if the lookup outlasts it.
  std::thread([loop = loop_.handle(), host = url_.host, port = url_.port,
               alive = std::weak_ptr<int>(alive_), this] {
    transport::Address result;
    const std::error_code ec = transport::resolve_blocking(host, port, result);
    loop.post([=, this] {
      if (alive.lock()) resolved(result, ec);
    });
  }).detach();
}

void ClientSession::resolved(const transport::Address& address, std::error_code ec) {
  if (phase() != Phase::handshake) return;  // timed out or cancelled meanwhile
  if (ec) {
    fail(ec);
    return;
  }
  if (const auto bad = connect_socket(address)) {
    fail(bad);
    return;
  }
  step_ = Step::connecting;
  // TLS goes over the socket; its handshake starts once TCP is connected.
  if (tls_context_) use_tls(tls_context_, &url_.host);
}

void ClientSession::on_connected() {
  step_ = Step::awaiting_response;
  own_binding.settings.handshake_timeout_ms = options_.handshake_timeout.count();
  restart_handshake_clock();
  send_request();
}

void ClientSession::send_request() {
  std::vector<protocol::HttpHeader> headers;
  for (const auto& [name, value] : options_.headers) headers.push_back({name, value});
  std::vector<const protocol::PerMessageExtension*> extensions;
  if (deflate_) extensions.push_back(deflate_.get());
  const std::string host = url_.host_header();
  if (const auto ec = handshake_.start({.host = host,
                                        .target = url_.target,
                                        .subprotocols = options_.subprotocols,
                                        .origin = options_.origin,
                                        .headers = headers,
                                        .extensions = extensions},
                                       conn_.output())) {
    fail(ec);
    return;
  }
  // Over TLS the request waits in the filter until its handshake is done.
  queue_output();
}

void ClientSession::on_handshake_data(std::span<std::uint8_t> bytes) {
  std::span<std::uint8_t> rest = bytes;
  switch (handshake_.receive(rest)) {
    case protocol::HandshakeEvent::none: return;
    case protocol::HandshakeEvent::rejected: reject(); return;
    case protocol::HandshakeEvent::failed: fail(handshake_.error(), handshake_.detail()); return;
    case protocol::HandshakeEvent::opened: break;
    default: return;
  }
  protocol::Agreement& agreed = handshake_.agreement();
  if (agreed.transform) set_transform(std::move(agreed.transform));
  set_agreed(std::move(agreed.subprotocol), std::move(agreed.extensions));
  // What followed the response in the same read is frame data (possibly in
  // the handshake's buffer, which lives as long as this session).
  open(own_binding, rest);
}

void ClientSession::reject() {
  ConnectError error{
      HandshakeError::rejected, handshake_.status(), {}, std::string(handshake_.body()), {}};
  for (const protocol::HttpHeader& h : handshake_.headers().fields()) {
    error.http_headers.emplace_back(std::string(h.name), std::string(h.value));
  }
  close_socket();
  report(error);
}

void ClientSession::on_handshake_end() {
  if (handshake_.end_of_input() == protocol::HandshakeEvent::rejected) {
    reject();
    return;
  }
  fail(TransportError::connection_lost);
}

void ClientSession::on_handshake_error(std::error_code error, std::string_view detail) {
  fail(error, std::string(detail));
}

void ClientSession::on_handshake_timeout() {
  fail(step_ == Step::awaiting_response ? ClientError::handshake_timeout
                                        : ClientError::connect_timeout);
}

void ClientSession::stop_gracefully() {
  if (phase() == Phase::handshake) {
    fail(ClientError::cancelled);
  } else if (phase() == Phase::open) {
    do_close(CloseCode::going_away, "client stopping");
  }
}

void ClientSession::drop() {
  if (phase() == Phase::handshake) {
    fail(ClientError::cancelled);
  } else {
    do_terminate("client destroyed");
  }
}

void ClientSession::fail(std::error_code ec, std::string detail) {
  close_socket();
  report(ConnectError{ec, 0, {}, {}, std::move(detail)});
}

void ClientSession::report(const ConnectError& error) {
  own_binding.callbacks->error(error);
}

}  // namespace duplex::client
