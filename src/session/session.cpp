#include "session.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace duplex::session {
namespace {

constexpr std::size_t max_iov = 64;
// Pieces totalling at most this many bytes go out copied into one buffer.
constexpr std::size_t coalesce_limit = 2048;

std::string_view as_text(std::span<const std::uint8_t> bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

Session::Session(transport::EventLoop& loop, const SessionSettings& settings, int fd,
                 const transport::Address& peer)
    : loop_(loop),
      settings_(settings),
      conn_(settings.protocol),
      peer_(peer),
      fd_(fd),
      phase_started_(loop.now()) {}

Session::~Session() {
  loop_.cancel(*this);
  loop_.cancel_retry(*this);
  if (fd_ >= 0) {
    loop_.unwatch(fd_);
    ::close(fd_);
  }
}

void Session::log(LogLevel level, std::string_view text) const {
  if (settings_.log) settings_.log(level, text);
}

void Session::watch(std::uint32_t events) {
  loop_.watch(fd_, events, this);
  reschedule_timer();
}

// --------------------------------------------------------------- reading

void Session::on_io(std::uint32_t events) {
  if (phase_ == Phase::closed) return;
  if (events & (EPOLLOUT | EPOLLERR)) {
    if (phase_ == Phase::handshake && !opened_) on_handshake_writable();
    if (phase_ != Phase::closed && want_write_) flush();
  }
  if (phase_ == Phase::closed) return;
  if (paused_ && (events & (EPOLLHUP | EPOLLERR))) {
    // Not reading (backpressure) but the peer is gone: level-triggered
    // epoll would report this forever, so end the connection now.
    on_eof();
    return;
  }
  // The peer's FIN may sit behind the data of this same edge: after a short
  // read the socket looks drained, but the end of stream is still to be read
  // and no new edge will announce it. So once the peer closed its side, read
  // until recv() says so.
  if (events & (EPOLLRDHUP | EPOLLHUP)) peer_finished_ = true;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_socket();
}

void Session::read_socket() {
  const auto buffer = loop_.read_buffer();
  // Edge-triggered: read until the socket is drained (a short read), but only
  // a few buffers per turn, so one fast sender cannot starve the loop; what
  // may be left is read at the end of the iteration.
  for (int round = 0; round < 4; ++round) {
    if (paused_ || phase_ == Phase::closed || fd_ < 0) return;
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n > 0) {
      last_receive_ = loop_.now();
      if (tls_) {
        on_ciphertext(buffer.first(static_cast<std::size_t>(n)));
      } else {
        on_bytes(buffer.first(static_cast<std::size_t>(n)));
      }
      // Everything this read produced leaves now, in one send: the bytes are
      // still in cache, and the output chunk goes straight back to the pool
      // instead of every connection of the iteration holding one until its end.
      if (phase_ != Phase::closed && (!conn_.output().empty() || (tls_ && !tls_->records.empty())))
        flush();
      if (static_cast<std::size_t>(n) < buffer.size() && !peer_finished_) return;
      continue;
    }
    if (n == 0) {
      on_eof();
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) on_socket_error(errno);
    return;
  }
  if (!paused_ && phase_ != Phase::closed) loop_.retry_soon(*this);
}

void Session::begin_tls_handshake() {
  tls_->feed({});
  if (tls_->handshake(tls_->records) == transport::TlsStream::Status::failed) {
    on_tls_failed(*tls_);
    return;
  }
  queue_output();
}

void Session::on_ciphertext(std::span<std::uint8_t> bytes) {
  tls_->feed(bytes);
  if (!tls_->handshake_done()) {
    const auto status = tls_->handshake(tls_->records);
    if (status == transport::TlsStream::Status::failed) {
      on_tls_failed(*tls_);
      return;
    }
    if (!tls_->records.empty()) queue_output();
    if (!tls_->handshake_done()) return;
    on_tls_ready();
    if (phase_ == Phase::closed) return;
  }
  // Decrypt everything that came; records still incomplete wait in OpenSSL.
  const auto plain = loop_.plain_buffer();
  while (phase_ != Phase::closed) {
    transport::TlsStream::Status status;
    const std::size_t n = tls_->read(plain, status, tls_->records);
    if (n > 0) {
      on_bytes(plain.first(n));
      continue;
    }
    if (status == transport::TlsStream::Status::closed) {
      on_eof();  // close_notify: the peer will send nothing more
    } else if (status == transport::TlsStream::Status::failed) {
      log(LogLevel::info, "TLS error with " + peer_.to_string() + ": " + tls_->error());
      if (phase_ == Phase::handshake) {
        on_handshake_eof();
      } else {
        report_close(CloseCode::abnormal, "TLS error: " + tls_->error());
        close_socket();
      }
    }
    break;
  }
  // The stream may be gone: close_notify or an error closed the session.
  if (tls_ && !tls_->records.empty()) queue_output();
}

void Session::reply_in_clear_and_close(std::string_view bytes) {
  tls_.reset();
  conn_.output().clear();
  conn_.output().append(bytes);
  finish_after_flush();
}

void Session::on_bytes(std::span<std::uint8_t> bytes) {
  switch (phase_) {
    case Phase::handshake: on_handshake_input(bytes); break;
    case Phase::open:
    case Phase::closing:
    case Phase::awaiting_eof: feed_frames(bytes); break;
    case Phase::lingering:
    case Phase::closed: break;  // the close handshake is over: discard
  }
}

void Session::on_eof() {
  switch (phase_) {
    case Phase::handshake: on_handshake_eof(); break;
    case Phase::open:
    case Phase::closing:
      report_close(CloseCode::abnormal, "connection closed without a close frame");
      close_socket();
      break;
    default: close_socket(); break;
  }
}

void Session::on_socket_error(int error) {
  const std::string why = std::strerror(error);
  if (phase_ == Phase::handshake) {
    log(LogLevel::info, "connection from " + peer_.to_string() + " failed: " + why);
    on_handshake_eof();
    return;
  }
  report_close(CloseCode::abnormal, why);
  close_socket();
}

void Session::open_websocket(const EventHandlers& handlers, std::span<std::uint8_t> leftover) {
  handlers_ = &handlers;
  opened_ = true;
  last_receive_ = loop_.now();
  enter(Phase::open);
  queue_output();  // the 101 response (or nothing, client side)
  if (handlers_->on_open) handlers_->on_open(*this);
  if (phase_ == Phase::closed) return;
  after_protocol_step();
  if (!leftover.empty() && phase_ != Phase::closed) feed_frames(leftover);
}

void Session::feed_frames(std::span<std::uint8_t> in) {
  if (paused_) {
    // More decrypted input while we hold back (TLS decrypts all it got).
    inbox_.append(in);
    return;
  }
  while (true) {
    const protocol::Event e = conn_.receive(in);
    if (!e) break;
    dispatch(e);
    if (phase_ == Phase::closed) return;
    // Backpressure: a peer that keeps sending but does not read what we
    // answer must not grow our memory. Stop reading until the output drains,
    // keeping what was already read for later.
    if (buffered() > settings_.max_backpressure &&
        conn_.state() == protocol::ConnectionState::open) {
      inbox_.append(in);
      pause_reading();
      break;
    }
  }
  after_protocol_step();
}

void Session::dispatch(const protocol::Event& e) {
  switch (e.type) {
    case protocol::EventType::message:
      if (handlers_->on_message)
        handlers_->on_message(*this, Message{as_text(e.payload), e.opcode});
      break;
    case protocol::EventType::ping:
      if (handlers_->on_ping) handlers_->on_ping(*this, as_text(e.payload));
      break;
    case protocol::EventType::pong:
      ping_sent_ = 0;
      if (handlers_->on_pong) handlers_->on_pong(*this, as_text(e.payload));
      break;
    case protocol::EventType::close: report_close(e.code, as_text(e.payload)); break;
    case protocol::EventType::error:
      log(LogLevel::info, "closing " + peer_.to_string() + " with " +
                              std::to_string(static_cast<int>(e.code)) + ": " + e.error.message());
      report_close(e.code, e.error.message());
      break;
    case protocol::EventType::none: break;
  }
  if (!conn_.output().empty()) queue_output();
}

// After the protocol core consumed input or a send: act on its state.
void Session::after_protocol_step() {
  if (phase_ == Phase::closed || phase_ == Phase::lingering) return;
  if (!conn_.output().empty()) queue_output();
  if (conn_.should_close_transport()) {
    finish_after_flush();
  } else if (conn_.state() == protocol::ConnectionState::closed && phase_ != Phase::awaiting_eof) {
    enter(Phase::awaiting_eof);  // client: the server closes TCP first
  } else if (conn_.state() == protocol::ConnectionState::closing && phase_ == Phase::open) {
    enter(Phase::closing);
  }
}

void Session::report_close(CloseCode code, std::string_view reason) {
  if (!opened_ || close_reported_) return;
  close_reported_ = true;
  if (handlers_->on_close) handlers_->on_close(*this, code, reason);
}

// --------------------------------------------------------------- writing

bool Session::send_queue(protocol::OutputQueue& q) {
  while (!q.empty()) {
    std::span<const std::uint8_t> parts[max_iov];
    const std::size_t count = q.gather(parts);
    iovec iov[max_iov];
    std::size_t total = 0;
    for (std::size_t i = 0; i < count; ++i) {
      iov[i].iov_base = const_cast<std::uint8_t*>(parts[i].data());
      iov[i].iov_len = parts[i].size();
      total += parts[i].size();
    }
    ssize_t n;
    if (count == 1) {
      n = ::send(fd_, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } else if (total <= coalesce_limit) {
      // A few small pieces (published messages, say): copying them is
      // cheaper than the kernel's walk over an iovec array.
      thread_local std::uint8_t scratch[coalesce_limit];
      std::size_t at = 0;
      for (std::size_t i = 0; i < count; ++i) {
        std::memcpy(scratch + at, iov[i].iov_base, iov[i].iov_len);
        at += iov[i].iov_len;
      }
      n = ::send(fd_, scratch, total, MSG_NOSIGNAL | MSG_DONTWAIT);
    } else {
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = count;
      n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
      on_socket_error(errno);
      return false;
    }
    q.consume(static_cast<std::size_t>(n));
    if (static_cast<std::size_t>(n) < total) return false;  // the socket buffer is full
  }
  return true;
}

void Session::flush() {
  if (fd_ < 0 || phase_ == Phase::closed) return;
  bool sent;
  if (tls_) {
    // Plaintext waits until the handshake is done; then it is encrypted
    // into records, which go out with whatever the handshake produced.
    if (tls_->handshake_done() && !conn_.output().empty() &&
        tls_->write(conn_.output(), tls_->records) == transport::TlsStream::Status::failed) {
      log(LogLevel::info, "TLS error with " + peer_.to_string() + ": " + tls_->error());
      report_close(CloseCode::abnormal, "TLS error: " + tls_->error());
      close_socket();
      return;
    }
    sent = send_queue(tls_->records) && conn_.output().empty();
  } else {
    sent = send_queue(conn_.output());
  }
  if (phase_ == Phase::closed) return;
  if (!sent) {
    // Wait for the kernel to take more (the next EPOLLOUT edge).
    if (phase_ == Phase::open) waiting_drain_ = true;
    want_write_ = true;
    return;
  }
  want_write_ = false;
  if (closing_transport_) {
    if (tls_ && !tls_shutdown_sent_ && tls_->handshake_done()) {
      // close_notify first, so the peer knows the stream was not cut.
      tls_shutdown_sent_ = true;
      tls_->shutdown(tls_->records);
      if (!send_queue(tls_->records)) {
        if (phase_ != Phase::closed) want_write_ = true;
        return;
      }
    }
    // Everything, our close frame included, is out: half-close and wait for
    // the peer's FIN so it reads all of it (closing with unread input would
    // send a reset that can destroy our last bytes in flight).
    ::shutdown(fd_, SHUT_WR);
    enter(Phase::lingering);
    return;
  }
  if (paused_) resume_reading();
  if (waiting_drain_ && phase_ == Phase::open) {
    waiting_drain_ = false;
    if (handlers_ && handlers_->on_drain) handlers_->on_drain(*this);
  }
}

void Session::finish_after_flush() {
  if (closing_transport_) return;
  closing_transport_ = true;
  // Input still held back has no reader any more; read (and discard) until
  // the peer's FIN, including what waited in the socket while we paused.
  inbox_.release();
  paused_ = false;
  loop_.retry_soon(*this);
  queue_output();
}

void Session::pause_reading() {
  paused_ = true;
}

void Session::resume_reading() {
  paused_ = false;
  if (!inbox_.empty()) {
    // Process what was held back. Move it out first: processing may hold
    // back input again, into a fresh inbox.
    protocol::ByteBuffer pending = inbox_.take();
    feed_frames(pending.span());
  }
  // The socket may hold more that no new edge will announce.
  if (!paused_ && phase_ != Phase::closed) loop_.retry_soon(*this);
}

void Session::close_socket() {
  if (phase_ == Phase::closed) return;
  phase_ = Phase::closed;
  loop_.cancel(*this);
  loop_.cancel_retry(*this);
  if (fd_ >= 0) {
    loop_.unwatch(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  conn_.output().clear();
  inbox_.release();
  tls_.reset();
  on_closed();
}

// --------------------------------------------------------------- timers

void Session::enter(Phase phase) {
  phase_ = phase;
  phase_started_ = loop_.now();
  reschedule_timer();
}

void Session::reschedule_timer() {
  std::int64_t deadline = 0;
  switch (phase_) {
    case Phase::handshake: deadline = phase_started_ + settings_.handshake_timeout_ms; break;
    case Phase::open: {
      if (settings_.idle_timeout_ms > 0) deadline = last_receive_ + settings_.idle_timeout_ms;
      if (settings_.ping_interval_ms > 0) {
        const std::int64_t ping = ping_sent_ ? ping_sent_ + settings_.ping_interval_ms
                                             : last_receive_ + settings_.ping_interval_ms;
        if (deadline == 0 || ping < deadline) deadline = ping;
      }
      break;
    }
    case Phase::closing:
    case Phase::awaiting_eof:
    case Phase::lingering: deadline = phase_started_ + settings_.close_timeout_ms; break;
    case Phase::closed: break;
  }
  if (deadline > 0) {
    loop_.schedule(*this, deadline);
  } else {
    loop_.cancel(*this);
  }
}

void Session::on_timer() {
  const std::int64_t now = loop_.now();
  switch (phase_) {
    case Phase::handshake:
      if (now >= phase_started_ + settings_.handshake_timeout_ms) {
        on_handshake_timeout();
        return;
      }
      break;
    case Phase::open: {
      // Activity moves the deadlines lazily: each message only stores a
      // timestamp, and the timer re-checks here when it fires.
      if (settings_.idle_timeout_ms > 0 && now >= last_receive_ + settings_.idle_timeout_ms) {
        log(LogLevel::info, "closing idle connection " + peer_.to_string());
        do_close(CloseCode::going_away, "idle timeout");
        return;
      }
      if (settings_.ping_interval_ms > 0) {
        if (ping_sent_ != 0 && last_receive_ < ping_sent_ &&
            now >= ping_sent_ + settings_.ping_interval_ms) {
          log(LogLevel::info, "no pong from " + peer_.to_string() + ", dropping it");
          do_terminate("no pong received in time");
          return;
        }
        if (ping_sent_ != 0 && last_receive_ >= ping_sent_) ping_sent_ = 0;  // it answered
        if (ping_sent_ == 0 && now >= last_receive_ + settings_.ping_interval_ms) {
          ping_sent_ = now;
          if (!conn_.ping()) queue_output();
        }
      }
      break;
    }
    case Phase::closing:
    case Phase::awaiting_eof:
    case Phase::lingering:
      if (now >= phase_started_ + settings_.close_timeout_ms) {
        report_close(CloseCode::abnormal, "close handshake timed out");
        close_socket();
        return;
      }
      break;
    case Phase::closed: return;
  }
  reschedule_timer();
}

// --------------------------------------------------------------- WebSocket API

std::error_code Session::do_send(std::string_view data, Opcode opcode) {
  const auto ec = conn_.send(opcode, protocol::Connection::as_bytes(data));
  if (!ec) queue_output();
  return ec;
}

std::error_code Session::do_send_fragment(std::string_view data, Opcode opcode, bool fin) {
  const auto ec = conn_.send_fragment(opcode, protocol::Connection::as_bytes(data), fin);
  if (!ec) queue_output();
  return ec;
}

std::error_code Session::do_ping(std::string_view payload) {
  const auto ec = conn_.ping(protocol::Connection::as_bytes(payload));
  if (!ec) queue_output();
  return ec;
}

std::error_code Session::do_close(CloseCode code, std::string_view reason) {
  const auto ec = conn_.close(code, reason);
  if (ec) return ec;
  after_protocol_step();
  return {};
}

void Session::do_terminate(std::string_view why) {
  if (phase_ == Phase::closed) return;
  report_close(CloseCode::abnormal, why);
  close_socket();
}

}  // namespace duplex::session

// The public WebSocket methods, implemented by the session behind them.
namespace duplex {
namespace {
session::Session& impl(WebSocket& ws) {
  return static_cast<session::Session&>(ws);
}
const session::Session& impl(const WebSocket& ws) {
  return static_cast<const session::Session&>(ws);
}
}  // namespace

std::error_code WebSocket::send(std::string_view data, Opcode opcode) {
  return impl(*this).do_send(data, opcode);
}
std::error_code WebSocket::send_fragment(std::string_view data, Opcode opcode, bool fin) {
  return impl(*this).do_send_fragment(data, opcode, fin);
}
std::error_code WebSocket::ping(std::string_view payload) {
  return impl(*this).do_ping(payload);
}
std::error_code WebSocket::close(CloseCode code, std::string_view reason) {
  return impl(*this).do_close(code, reason);
}
void WebSocket::terminate() {
  impl(*this).do_terminate("terminated by the application");
}
std::size_t WebSocket::buffered_amount() const noexcept {
  return impl(*this).buffered();
}
bool WebSocket::is_open() const noexcept {
  return impl(*this).open();
}
std::string_view WebSocket::path() const noexcept {
  return impl(*this).path_;
}
std::string_view WebSocket::subprotocol() const noexcept {
  const auto& n = impl(*this).negotiated_;
  return n ? std::string_view(n->subprotocol) : std::string_view{};
}
std::string_view WebSocket::extensions() const noexcept {
  const auto& n = impl(*this).negotiated_;
  return n ? std::string_view(n->extensions) : std::string_view{};
}
std::string WebSocket::remote_address() const {
  return impl(*this).peer().to_string();
}
std::any& WebSocket::user_data() noexcept {
  return impl(*this).user_data_;
}
bool WebSocket::subscribe(std::string_view topic) {
  return impl(*this).pubsub_subscribe(topic);
}
bool WebSocket::unsubscribe(std::string_view topic) {
  return impl(*this).pubsub_unsubscribe(topic);
}
bool WebSocket::is_subscribed(std::string_view topic) const {
  return impl(*this).pubsub_is_subscribed(topic);
}
bool WebSocket::publish(std::string_view topic, std::string_view data, Opcode opcode,
                        bool include_self) {
  return impl(*this).pubsub_publish(topic, data, opcode, include_self);
}

}  // namespace duplex
