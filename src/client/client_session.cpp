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

constexpr std::size_t max_rejection_body = 64 * 1024;

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
              handlers_.on_pong, handlers_.on_drain,   handlers_.on_close} {
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
  std::vector<protocol::Extension> offers;
  if (options_.deflate.enabled) offers = protocol::deflate_offers(options_.deflate);
  std::string request;
  try {
    request = handshake_.start({.host = url_.host_header(),
                                .target = url_.target,
                                .subprotocols = options_.subprotocols,
                                .extensions = offers,
                                .origin = options_.origin,
                                .headers = headers});
  } catch (const std::invalid_argument&) {
    fail(std::make_error_code(std::errc::invalid_argument));
    return;
  }
  conn_.output().append(request);
  if (!tls_context_) {
    step_ = Step::awaiting_response;
    own_settings.handshake_timeout_ms = options_.handshake_timeout.count();
    restart_handshake_timer();
    loop_.rewatch(fd_, socket_events, this);
  }
  queue_output();
}

void ClientSession::on_handshake_input(std::span<std::uint8_t> bytes) {
  inbox_.append(bytes);
  if (step_ == Step::reading_rejection) {
    if (inbox_.size() - rejection_body_start_ >= rejection_body_length_ ||
        inbox_.size() - rejection_body_start_ >= max_rejection_body) {
      finish_rejection();
    }
    return;
  }
  protocol::ClientHandshakeResult result;
  const std::error_code ec = handshake_.finish(inbox_.view(), result);
  if (ec == HandshakeError::http_incomplete) return;
  if (ec == HandshakeError::rejected) {
    // Read the body the server sent with its refusal: it usually says why.
    rejection_status_ = result.head.status;
    rejection_body_start_ = result.consumed;
    rejection_body_length_ = std::numeric_limits<std::size_t>::max();
    const std::string_view length = result.head.headers.get("Content-Length");
    std::size_t n = 0;
    if (!length.empty() &&
        std::from_chars(length.data(), length.data() + length.size(), n).ec == std::errc{}) {
      rejection_body_length_ = n;
    }
    step_ = Step::reading_rejection;
    if (inbox_.size() - rejection_body_start_ >= rejection_body_length_) finish_rejection();
    return;
  }
  if (ec) {
    fail(ec);
    return;
  }
  std::string extensions;
  for (const protocol::Extension& accepted : result.extensions) {
    // Only what we offered gets here (the handshake checked the names).
    protocol::DeflateParams agreed;
    std::string why;
    if (const auto bad =
            protocol::accept_deflate_response(accepted, options_.deflate, agreed, &why)) {
      fail(bad, 0, {}, protocol::format_extension(accepted) + ": " + why);
      return;
    }
    enable_deflate(
        std::make_unique<protocol::DeflateCodec>(protocol::Role::client, agreed, options_.deflate));
    extensions = protocol::format_extension(accepted);
  }
  set_negotiated(result.subprotocol, std::move(extensions));
  // Whatever followed the response in the same read is frame data. Move it
  // out of the inbox, which backpressure may need again.
  protocol::ByteBuffer rest = inbox_.take();
  open_websocket(events_, rest.span().subspan(result.consumed));
}

void ClientSession::finish_rejection() {
  const std::size_t available = inbox_.size() - rejection_body_start_;
  const std::size_t n = std::min({available, rejection_body_length_, max_rejection_body});
  fail(HandshakeError::rejected, rejection_status_,
       std::string(inbox_.view().substr(rejection_body_start_, n)));
}

void ClientSession::on_handshake_eof() {
  if (step_ == Step::reading_rejection) {
    finish_rejection();
    return;
  }
  fail(TransportError::connection_lost);
}

void ClientSession::on_handshake_timeout() {
  fail(step_ == Step::awaiting_response || step_ == Step::reading_rejection
           ? ClientError::handshake_timeout
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
