#include "client_session.hpp"

#include "client_impl.hpp"

#include <duplex/client_error.hpp>
#include <duplex/protocol/error.hpp>
#include <duplex/transport_error.hpp>

#include <sys/epoll.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <thread>

namespace duplex::client {
namespace {

session::SessionSettings settings_for(const ClientOptions& o) {
  session::SessionSettings s;
  s.protocol.role = protocol::Role::client;
  s.protocol.max_message_size = o.max_message_size;
  s.protocol.max_frame_size = o.max_message_size;
  s.protocol.fragment_size = o.fragment_size;

  s.max_backpressure = o.max_backpressure;
  s.handshake_timeout_ms = o.connect_timeout.count();  // the first stage is the TCP connect
  s.idle_timeout_ms = 0;
  s.ping_interval_ms = o.ping_interval.count();
  s.close_timeout_ms = o.close_timeout.count();
  return s;
}

}  // namespace

ClientSession::ClientSession(Client::Impl& owner, WebSocketUrl url, ClientOptions options,
                             ClientHandlers handlers)
    : OwnSettings{settings_for(options)},
      Session(owner.loop, own_settings, -1, transport::Address{}),
      owner_(owner),
      url_(std::move(url)),
      options_(std::move(options)),
      handlers_(std::move(handlers)),
      events_{handlers_.on_open, handlers_.on_message, handlers_.on_ping,
              handlers_.on_pong, handlers_.on_drain,   handlers_.on_close},
      deflate_(options_.deflate.enabled
                   ? std::make_unique<protocol::PerMessageDeflate>(options_.deflate)
                   : nullptr) {
  path_ = url_.target.substr(0, url_.target.find('?'));
}

void ClientSession::start() {
  restart_handshake_timer();
  if (url_.secure) {
    std::string why;
    tls_context_ = owner_.tls_context(options_.ca_file, !options_.insecure_skip_verify, why);
    if (!tls_context_) {
      fail(TransportError::tls_configuration, 0, {}, why);
      return;
    }
  }
  transport::Address address;
  if (transport::parse_numeric_address(url_.host, url_.port, address)) {
    resolved(address, {});
    return;
  }
  // getaddrinfo blocks: run it on a thread of its own and come back through
  // the mailbox, which outlives the client if the lookup outlasts it.
  std::weak_ptr<int> alive = alive_;
  std::thread([mailbox = owner_.mailbox, host = url_.host, port = url_.port, alive, this] {
    transport::Address result;
    const std::error_code ec = transport::resolve_blocking(host, port, result);
    mailbox->post([=, this] {
      if (alive.lock()) resolved(result, ec);
    });
  }).detach();
}

void ClientSession::resolved(const transport::Address& address, std::error_code ec) {
  if (phase() != Phase::handshake) return;  // timed out meanwhile
  if (ec) {
    fail(ec);
    return;
  }
  peer_ = address;
  const int fd = transport::connect_tcp(address, ec);
  if (fd < 0) {
    fail(ec);
    return;
  }
  set_fd(fd);
  step_ = Step::connecting;
  watch(EPOLLOUT);
}

void ClientSession::on_handshake_writable() {
  if (step_ != Step::connecting) return;
  if (const std::error_code ec = transport::connect_result(fd_)) {
    fail(ec);
    return;
  }
  if (tls_context_) {
    // TLS first; the upgrade request follows once it is up (on_tls_ready).
    step_ = Step::awaiting_response;
    own_settings.handshake_timeout_ms = options_.handshake_timeout.count();
    restart_handshake_timer();
    loop_.rewatch(fd_, socket_events, this);
    start_tls(std::make_unique<transport::TlsStream>(tls_context_, url_.host));
    begin_tls_handshake();
    return;
  }
  send_request();
}

void ClientSession::on_tls_failed(const transport::TlsStream& tls) {
  fail(TransportError::tls_handshake_failed, 0, {}, tls.error());
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
  if (!tls_context_) {
    step_ = Step::awaiting_response;
    own_settings.handshake_timeout_ms = options_.handshake_timeout.count();
    restart_handshake_timer();
    loop_.rewatch(fd_, socket_events, this);
  }
  queue_output();
}

void ClientSession::on_handshake_input(std::span<std::uint8_t> bytes) {
  std::span<std::uint8_t> rest = bytes;
  switch (handshake_.receive(rest)) {
    case protocol::HandshakeEvent::none: return;
    case protocol::HandshakeEvent::rejected: reject(); return;
    case protocol::HandshakeEvent::failed:
      fail(handshake_.error(), 0, {}, handshake_.detail());
      return;
    case protocol::HandshakeEvent::opened: break;
    default: return;
  }
  protocol::Agreement& agreed = handshake_.agreement();
  if (agreed.transform) set_transform(std::move(agreed.transform));
  set_negotiated(std::move(agreed.subprotocol), std::move(agreed.extensions));
  // What followed the response in the same read is frame data (possibly in
  // the handshake's buffer, which lives as long as this session).
  open_websocket(events_, rest);
}

void ClientSession::reject() {
  fail(HandshakeError::rejected, handshake_.status(), std::string(handshake_.body()));
}

void ClientSession::on_handshake_eof() {
  if (handshake_.end_of_input() == protocol::HandshakeEvent::rejected) {
    reject();
    return;
  }
  fail(TransportError::connection_lost);
}

void ClientSession::on_handshake_timeout() {
  fail(step_ == Step::awaiting_response ? ClientError::handshake_timeout
                                        : ClientError::connect_timeout);
}

void ClientSession::fail(std::error_code ec, int status, std::string body, std::string detail) {
  ConnectError error{ec, status, std::move(body), std::move(detail)};
  close_socket();
  if (handlers_.on_error) handlers_.on_error(error);
}

void ClientSession::on_closed() {
  owner_.session_closed(*this);
}

}  // namespace duplex::client
