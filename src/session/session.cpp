#include "session.hpp"

#include <duplex/transport_error.hpp>

#include <algorithm>
#include <cstring>

namespace duplex::session {
namespace {

std::string_view as_text(std::span<const std::uint8_t> bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

Session::Session(transport::EventLoop& loop, Host& host, const Binding& binding,
                 const transport::Address& peer)
    : loop_(loop),
      binding_(&binding),
      conn_(binding.settings.protocol),
      host_(host),
      peer_(peer),
      phase_started_(loop.now()) {}

Session::~Session() {
  loop_.cancel(static_cast<Timer&>(*this));
  loop_.cancel_dirty(*this);
  if (data_ && binding_->callbacks) binding_->callbacks->destroy_data(data_);
}

Session::Extras& Session::extras() {
  if (!extras_) extras_ = std::make_unique<Extras>();
  return *extras_;
}

void Session::set_agreed(std::string subprotocol, std::string extensions) {
  if (subprotocol.empty() && extensions.empty()) return;
  Extras& e = extras();
  e.subprotocol = std::move(subprotocol);
  e.extensions = std::move(extensions);
}

std::string_view Session::subprotocol_view() const noexcept {
  return extras_ ? std::string_view(extras_->subprotocol) : std::string_view{};
}

std::string_view Session::extensions_view() const noexcept {
  return extras_ ? std::string_view(extras_->extensions) : std::string_view{};
}

WebSocketHandle Session::make_handle() {
  auto& state = extras().handle;
  if (!state) {
    state = std::make_shared<detail::HandleState>();
    state->session = this;
    state->loop = loop_.handle();
    state->open.store(phase_ == Phase::open, std::memory_order_relaxed);
  }
  return WebSocketHandle(state);
}

// ------------------------------------------------------------- the stream

std::error_code Session::attach_socket(int fd) {
  if (const auto ec = loop_.open_stream(socket_, fd, *this)) return ec;
  reschedule_timer();
  return {};
}

std::error_code Session::connect_socket(const transport::Address& address) {
  peer_ = address;
  if (const auto ec = loop_.connect_stream(socket_, address, *this)) return ec;
  reschedule_timer();
  return {};
}

void Session::use_tls(std::shared_ptr<transport::TlsContext> context, const std::string* host) {
  transport::Stream& inner = *socket_.get();
  transport::StreamHandler& self = *this;
  if (host) {
    tls_ = std::make_unique<transport::TlsFilter>(loop_, inner, self, std::move(context), *host);
  } else {
    tls_ = std::make_unique<transport::TlsFilter>(loop_, inner, self, std::move(context));
  }
}

void Session::reply_in_clear_and_close(std::string_view bytes) {
  // The filter may be on the stack (this runs from its callback): free it
  // at the end of the iteration, and hear from the socket directly again.
  socket_.get()->set_handler(*this);
  loop_.defer([filter = std::shared_ptr<transport::TlsFilter>(std::move(tls_))] {});
  conn_.output().clear();
  conn_.output().append(bytes);
  finish_after_flush();
}

void Session::on_stream_data(std::span<std::uint8_t> bytes) {
  last_receive_ = loop_.now();
  switch (phase_) {
    case Phase::handshake: on_handshake_data(bytes); break;
    case Phase::open:
    case Phase::closing:
    case Phase::awaiting_eof: feed_frames(bytes); break;
    case Phase::lingering:
    case Phase::closed: break;  // the close handshake is over: discard
  }
  // Everything this read produced leaves now, in one write: the bytes are
  // still in cache, and the output chunk goes straight back to the pool
  // instead of every connection of the iteration holding one until its end.
  if (phase_ != Phase::closed && !conn_.output().empty()) flush();
}

void Session::on_stream_end() {
  switch (phase_) {
    case Phase::handshake: on_handshake_end(); break;
    case Phase::open:
    case Phase::closing:
      report_close(CloseCode::abnormal, "connection closed without a close frame");
      close_socket();
      break;
    default: close_socket(); break;
  }
}

void Session::on_stream_error(std::error_code error, std::string_view detail) {
  if (phase_ == Phase::closed) return;
  if (phase_ == Phase::handshake) {
    on_handshake_error(error, detail);
    return;
  }
  std::string why = error.message();
  if (!detail.empty()) why += ": " + std::string(detail);
  if (error.category() == transport_category()) {
    log(LogLevel::info, "TLS error with " + peer_.to_string() + ": " + escape_for_log(why));
  }
  report_close(CloseCode::abnormal, why);
  close_socket();
}

void Session::on_stream_connected() {
  on_connected();
}

// ------------------------------------------------------------- receiving

void Session::open(const Binding& binding, std::span<std::uint8_t> leftover) {
  binding_ = &binding;
  conn_.set_limits(binding.settings.protocol);
  opened_ = true;
  last_receive_ = loop_.now();
  if (extras_ && extras_->handle) extras_->handle->open.store(true, std::memory_order_relaxed);
  enter(Phase::open);
  queue_output();  // the 101 response (or nothing, client side)
  binding_->callbacks->open(*this);
  if (phase_ == Phase::closed) return;
  after_protocol_step();
  if (!leftover.empty() && phase_ != Phase::closed) feed_frames(leftover);
}

void Session::feed_frames(std::span<std::uint8_t> in) {
  if (paused_) {
    // More input while we hold back (TLS decrypts all it got).
    inbox_.append(in);
    return;
  }
  while (true) {
    const protocol::Event e = conn_.receive(in);
    if (!e) break;
    dispatch(e);
    if (phase_ == Phase::closed) return;
    // Backpressure: a peer that keeps sending but does not read what we
    // answer must not grow our memory. Stop reading until the output
    // drains, keeping what was already read for later.
    if (buffered() > binding_->settings.max_backpressure &&
        conn_.state() == protocol::ConnectionState::open) {
      // The message just handled (an echo of it may be what is queued)
      // need not be held twice while we wait.
      conn_.release_message();
      inbox_.append(in);
      paused_ = true;
      stream().pause_reading();
      break;
    }
  }
  after_protocol_step();
}

void Session::dispatch(const protocol::Event& e) {
  const detail::Callbacks& on = *binding_->callbacks;
  switch (e.type) {
    case protocol::EventType::message:
      // (The inflate limit is on by default: only compressed messages may
      // take the slow path for it.)
      if (const Settings& s = binding_->settings;
          s.max_messages_per_second != 0 ||
          (conn_.message_was_encoded() && s.max_inflate_per_second != 0)) [[unlikely]] {
        if (!within_rates(e.payload.size(), conn_.message_was_encoded())) break;
      }
      on.message(*this, Message{as_text(e.payload), e.opcode});
      break;
    case protocol::EventType::ping: on.ping(*this, as_text(e.payload)); break;
    case protocol::EventType::pong:
      ping_sent_ = 0;
      on.pong(*this, as_text(e.payload));
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

bool Session::within_rates(std::size_t size, bool inflated) {
  const Settings& s = binding_->settings;
  Extras& x = extras();
  const std::int64_t now = loop_.now();
  std::string why;
  const char* reason = "too many messages";
  if (s.max_messages_per_second && !x.messages.take(1, s.max_messages_per_second, now)) {
    why = "more than " + std::to_string(s.max_messages_per_second) + " messages per second";
  } else if (inflated && s.max_inflate_per_second &&
             !x.inflated.take(static_cast<double>(size),
                              static_cast<double>(s.max_inflate_per_second), now)) {
    why = "more than " + std::to_string(s.max_inflate_per_second) + " bytes inflated per second";
    reason = "inflating too much";
  } else {
    return true;
  }
  if (conn_.close_sent()) return false;  // already closing: the rest is dropped
  host_.note_rate_limited(*this);
  log(LogLevel::info, "closing " + peer_.to_string() + ": " + why);
  do_close(CloseCode::policy_violation, reason);
  return false;
}

void Session::report_close(CloseCode code, std::string_view reason) {
  if (extras_ && extras_->handle) extras_->handle->open.store(false, std::memory_order_relaxed);
  if (!opened_ || close_reported_) return;
  close_reported_ = true;
  binding_->callbacks->close(*this, code, reason);
}

// --------------------------------------------------------------- writing

void Session::prefetch_for_flush() const noexcept {
  // What flush() reads: the phase and the stream (one cache line), the
  // output queue and its oldest and newest chunks.
  __builtin_prefetch(&socket_);
  protocol::detail::prefetch(conn_.output());
}

void Session::write_now() {
  if (phase_ == Phase::closed || !has_stream()) return;
  const bool over = over_limit();  // before the kernel takes its part
  if (stream().write(conn_.output()) == transport::Stream::Write::blocked) note_backlog(over);
}

void Session::flush() {
  if (phase_ == Phase::closed || !has_stream()) return;
  // (closing_transport_ first: it shares a cache line with the phase, and
  // is false for every open connection a fan-out flushes.)
  if (closing_transport_ && body() && !write_body()) return;
  const bool over = over_limit();  // before the kernel takes its part
  const auto written = stream().write(conn_.output());
  // A failure is reported (and closes us) at the end of the iteration.
  if (phase_ == Phase::closed || written == transport::Stream::Write::failed) return;
  if (written == transport::Stream::Write::blocked) {
    // The rest waits for on_stream_writable().
    note_backlog(over);
    return;
  }
  if (closing_transport_) {
    // Everything, our close frame included, is out: shut our side and wait
    // for the peer's end, so it reads all of it (closing with unread input
    // would send a reset that can destroy our last bytes in flight).
    if (!shutdown_sent_) {
      shutdown_sent_ = true;
      stream().shutdown_write();
      if (phase_ != Phase::closed) enter(Phase::lingering);
    }
    return;
  }
  if (paused_) resume_reading();
  if (waiting_drain_ && phase_ == Phase::open) {
    waiting_drain_ = false;
    binding_->callbacks->drain(*this);
  }
}

bool Session::write_body() {
  // A few rounds at most: a reader as fast as the loop gets a MiB or so per
  // iteration, and the loop's other connections get their turn.
  for (int round = 0; round < 4; ++round) {
    // Room in the queue means bytes left since it was last topped up.
    if (buffered() < body_queue_bound) phase_started_ = loop_.now();
    while (buffered() < body_queue_bound) {
      const ResponseBody::Fill filled = extras_->body->fill(conn_.output(), body_part);
      if (filled == ResponseBody::Fill::failed) {
        // Its length was promised: end the connection short of it, so the
        // client sees the answer is incomplete.
        log(LogLevel::warning,
            "dropping " + peer_.to_string() + ": the response body could not be read");
        close_socket();
        return false;
      }
      if (filled == ResponseBody::Fill::done) {
        extras_->body.reset();
        return true;  // the rest goes as any output
      }
    }
    const auto written = stream().write(conn_.output());
    if (phase_ == Phase::closed) return false;
    // Blocked: on_stream_writable() brings us back; failed: reported at the
    // end of the iteration.
    if (written != transport::Stream::Write::done) return false;
  }
  // The kernel took everything each time: the next parts in the next
  // iteration (the timer, due in a millisecond: one due now would run again
  // among this iteration's timers).
  loop_.schedule(*this, loop_.now() + 1);
  return false;
}

std::size_t Session::undelivered() noexcept {
  return buffered() + (has_stream() ? stream().unacknowledged() : 0);
}

void Session::note_send_progress() noexcept {
  const std::size_t left = undelivered();
  if (left == sent_mark_) return;
  sent_mark_ = left;
  phase_started_ = loop_.now();
}

void Session::note_backlog(bool was_over_limit) noexcept {
  // on_drain is for output that piled up past the limit (or made us stop
  // reading), not for every write the kernel has yet to take (an io_uring
  // stream sends each with the loop's next submission).
  if (phase_ == Phase::open && (was_over_limit || paused_)) waiting_drain_ = true;
}

void Session::finish_after_flush() {
  if (closing_transport_) return;
  closing_transport_ = true;
  if (phase_ == Phase::handshake) {
    // The answer's clock starts now; every byte that leaves restarts it.
    phase_started_ = loop_.now();
    sent_mark_ = undelivered();
    reschedule_timer();
  }
  // Input still held back has no reader any more; read (and discard) until
  // the peer's end, including what waited in the socket while we paused.
  inbox_.release();
  if (paused_ && has_stream()) {
    paused_ = false;
    stream().resume_reading();
  }
  queue_output();
}

void Session::finish_with_body(std::unique_ptr<ResponseBody> body) {
  extras().body = std::move(body);
  finish_after_flush();
}

void Session::resume_reading() {
  paused_ = false;
  if (!inbox_.empty()) {
    // Process what was held back. Move it out first: processing may hold
    // back input again, into a fresh inbox.
    protocol::ByteBuffer pending = inbox_.take();
    feed_frames(pending.span());
  }
  // The stream resumes (and looks for what arrived meanwhile) unless the
  // held-back input paused us again.
  if (!paused_ && phase_ != Phase::closed) stream().resume_reading();
}

void Session::close_socket() {
  if (phase_ == Phase::closed) return;
  phase_ = Phase::closed;
  loop_.cancel(static_cast<Timer&>(*this));
  if (extras_ && extras_->handle) {
    extras_->handle->open.store(false, std::memory_order_relaxed);
    extras_->handle->session = nullptr;
  }
  if (has_stream()) stream().close();
  // The filter may be on the stack (a TLS callback closed us).
  if (tls_) loop_.defer([filter = std::shared_ptr<transport::TlsFilter>(std::move(tls_))] {});
  conn_.output().clear();
  inbox_.release();
  if (extras_) extras_->body.reset();  // a file's descriptor, say
  host_.session_closed(*this);
}

// ----------------------------------------------------------------- timers

void Session::enter(Phase phase) {
  phase_ = phase;
  phase_started_ = loop_.now();
  reschedule_timer();
}

void Session::restart_handshake_clock() {
  phase_started_ = loop_.now();
  reschedule_timer();
}

void Session::reschedule_timer() {
  const Settings& s = binding_->settings;
  std::int64_t deadline = 0;
  switch (phase_) {
    case Phase::handshake: deadline = phase_started_ + s.handshake_timeout_ms; break;
    case Phase::open: {
      if (s.idle_timeout_ms > 0) deadline = last_receive_ + s.idle_timeout_ms;
      if (s.ping_interval_ms > 0) {
        const std::int64_t ping =
            ping_sent_ ? ping_sent_ + s.ping_interval_ms : last_receive_ + s.ping_interval_ms;
        if (deadline == 0 || ping < deadline) deadline = ping;
      }
      break;
    }
    case Phase::closing:
    case Phase::awaiting_eof:
    case Phase::lingering: deadline = phase_started_ + s.close_timeout_ms; break;
    case Phase::closed: break;
  }
  if (deadline > 0) {
    loop_.schedule(*this, deadline);
  } else {
    loop_.cancel(static_cast<Timer&>(*this));
  }
}

void Session::on_timer() {
  const Settings& s = binding_->settings;
  const std::int64_t now = loop_.now();
  switch (phase_) {
    case Phase::handshake:
      if (closing_transport_) {
        // An answer is being written: the clock runs from its last progress.
        note_send_progress();
        if (now >= phase_started_ + s.handshake_timeout_ms) {
          log(LogLevel::info,
              "dropping " + peer_.to_string() + ": the response made no progress in time");
          close_socket();
          return;
        }
        reschedule_timer();
        if (body()) flush();  // the body's next parts, when this was their turn
        return;
      }
      if (now >= phase_started_ + s.handshake_timeout_ms) {
        on_handshake_timeout();
        return;
      }
      break;
    case Phase::open: {
      // Activity moves the deadlines lazily: each message only stores a
      // timestamp, and the timer re-checks here when it fires.
      if (s.idle_timeout_ms > 0 && now >= last_receive_ + s.idle_timeout_ms) {
        log(LogLevel::info, "closing idle connection " + peer_.to_string());
        do_close(CloseCode::going_away, "idle timeout");
        return;
      }
      if (s.ping_interval_ms > 0) {
        if (ping_sent_ != 0 && last_receive_ < ping_sent_ &&
            now >= ping_sent_ + s.ping_interval_ms) {
          log(LogLevel::info, "no pong from " + peer_.to_string() + ", dropping it");
          do_terminate("no pong received in time");
          return;
        }
        if (ping_sent_ != 0 && last_receive_ >= ping_sent_) ping_sent_ = 0;  // it answered
        if (ping_sent_ == 0 && now >= last_receive_ + s.ping_interval_ms) {
          ping_sent_ = now;
          if (!conn_.ping()) queue_output();
        }
      }
      break;
    }
    case Phase::closing:
    case Phase::awaiting_eof:
    case Phase::lingering:
      if (now >= phase_started_ + s.close_timeout_ms) {
        report_close(CloseCode::abnormal, "close handshake timed out");
        close_socket();
        return;
      }
      break;
    case Phase::closed: return;
  }
  reschedule_timer();
}

// ---------------------------------------------------- WebSocket operations

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
  if (phase_ == Phase::closed) return UsageError::connection_closed;
  const auto ec = conn_.close(code, reason);
  if (ec) return ec;
  if (extras_ && extras_->handle) extras_->handle->open.store(false, std::memory_order_relaxed);
  after_protocol_step();
  return {};
}

void Session::do_terminate(std::string_view why) {
  if (phase_ == Phase::closed) return;
  report_close(CloseCode::abnormal, why);
  close_socket();
}

// ------------------------------------------------------------ the list

void SessionList::push_front(Session& s) noexcept {
  s.prev_ = nullptr;
  s.next_ = head_;
  if (head_) head_->prev_ = &s;
  head_ = &s;
  ++size_;
}

void SessionList::remove(Session& s) noexcept {
  if (s.prev_) s.prev_->next_ = s.next_;
  if (s.next_) s.next_->prev_ = s.prev_;
  if (head_ == &s) head_ = s.next_;
  s.prev_ = s.next_ = nullptr;
  --size_;
}

}  // namespace duplex::session
