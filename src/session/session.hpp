// A WebSocket connection on one event loop: the pump between a transport
// stream and the protocol core. It hands what the stream reads to the
// opening handshake (its role's, in a subclass) and then to the protocol
// Connection, calls the handlers with the events that come out, writes what
// the protocol queued once per loop iteration (or right after the read that
// caused it), applies backpressure, runs the timers (handshake, idle, ping,
// close), and ends the connection in the orderly way: the close frame
// first, then the write side of the stream, then wait for the peer's end.
//
// Loop thread only, all of it.
#pragma once

#include "../transport/event_loop.hpp"
#include "../transport/stream.hpp"
#include "../transport/tls_filter.hpp"
#include "lazy_buffer.hpp"
#include "response_body.hpp"
#include "token_bucket.hpp"

#include <duplex/handlers.hpp>
#include <duplex/log.hpp>
#include <duplex/protocol/connection.hpp>
#include <duplex/websocket.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace duplex::session {
class Session;
}

namespace duplex::detail {

// What a connection shares with its handles: whether it is open, and (on
// its loop's thread only) where it is.
struct HandleState {
  std::atomic<bool> open{true};
  session::Session* session = nullptr;  // null once closed; loop thread only
  LoopHandle loop;
};

}  // namespace duplex::detail

namespace duplex::session {

// Timers and limits of a connection; one copy per server route or client
// connection.
struct Settings {
  protocol::ConnectionOptions protocol;  // message and frame limits, fragmenting
  std::size_t max_backpressure = 1024 * 1024;
  std::int64_t handshake_timeout_ms = 10'000;
  std::int64_t idle_timeout_ms = 0;   // 0: off
  std::int64_t ping_interval_ms = 0;  // 0: off
  std::int64_t close_timeout_ms = 5'000;
  // Data messages per second from the peer (a token bucket holding a
  // second's worth); faster: close 1008. 0: no limit.
  std::uint32_t max_messages_per_second = 0;
  // Bytes of permessage-deflate messages inflated per second (the same
  // kind of bucket, which one large message may overdraw); more: 1008.
  // 0: no limit.
  std::uint64_t max_inflate_per_second = 0;
};

// What a connection runs with: its handlers and its settings. A server's
// routes and its connections in their handshake each have one, a client
// connection has its own. It must outlive the sessions that use it.
struct Binding {
  std::shared_ptr<const detail::Callbacks> callbacks;  // null before a route is chosen
  Settings settings;
};

// The owner of sessions (a server loop, a client): where they log, what
// happens when they end, and publish/subscribe where the owner has it.
class Host {
 public:
  virtual void log(LogLevel level, std::string_view text) = 0;
  // The session's socket is closed (its on_close has run if it had opened):
  // unlink it now, free it at the end of the iteration (loop.defer).
  virtual void session_closed(Session& session) = 0;

  virtual bool subscribe(Session&, std::string_view) { return false; }
  virtual bool unsubscribe(Session&, std::string_view) { return false; }
  virtual bool is_subscribed(const Session&, std::string_view) const { return false; }
  // A session is closing for sending faster than its message rate limit.
  virtual void note_rate_limited(Session&) {}
  virtual std::error_code publish(Session&, std::string_view, std::string_view, Opcode, bool) {
    return UsageError::not_supported;
  }

 protected:
  ~Host() = default;
};

class Session : public WebSocket,
                private transport::StreamHandler,
                private transport::Flushable,
                private transport::Timer {
 public:
  enum class Phase : std::uint8_t {
    handshake,     // the opening handshake (or, server side, a plain HTTP request)
    open,          // WebSocket open
    closing,       // we sent close and wait for the peer's
    awaiting_eof,  // client: close handshake done, waiting for the server to end TCP
    lingering,     // our write side is shut; waiting for the peer's end
    closed,
  };

  Session(transport::EventLoop& loop, Host& host, const Binding& binding,
          const transport::Address& peer);
  virtual ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Phase phase() const noexcept { return phase_; }
  bool opened() const noexcept { return opened_; }
  transport::EventLoop& event_loop() noexcept { return loop_; }
  Host& host() noexcept { return host_; }
  const Host& host() const noexcept { return host_; }
  const Binding& binding() const noexcept { return *binding_; }
  const transport::Address& peer() const noexcept { return peer_; }
  protocol::Connection& connection() noexcept { return conn_; }

  // ----- the WebSocket operations (the public methods forward here)
  std::error_code do_send(std::string_view data, Opcode opcode);
  std::error_code do_send_fragment(std::string_view data, Opcode opcode, bool fin);
  std::error_code do_ping(std::string_view payload);
  std::error_code do_close(CloseCode code, std::string_view reason);
  // Drops the connection now, reporting `why` with 1006.
  void do_terminate(std::string_view why);
  // Queued and not yet taken by the kernel (TLS records included).
  std::size_t buffered() const noexcept {
    return conn_.output().size() + (tls_ ? tls_->pending() : 0);
  }
  // Memory held for the peer: output of this connection's own (not the
  // shared published frames), input being reassembled or held back. Walks
  // the output queue: for a periodic look, not per message.
  std::size_t memory_held() const noexcept {
    return conn_.output().owned_size() + (tls_ ? tls_->pending() : 0) + conn_.input_buffered() +
           inbox_.size();
  }
  bool is_open_now() const noexcept { return phase_ == Phase::open; }
  std::string_view path_view() const noexcept { return path_; }
  std::string_view subprotocol_view() const noexcept;
  std::string_view extensions_view() const noexcept;
  WebSocketHandle make_handle();

  // Queues bytes that already hold whole frames (a published message);
  // false when the connection no longer sends.
  bool queue_shared(protocol::SharedBytes& frames) {
    if (conn_.send_prepared(frames)) return false;
    queue_output();
    return true;
  }
  // Writes what is queued now, and nothing else: no handler runs, nothing
  // closes (a failure is reported at the end of the iteration), so a
  // fan-out may call it while it walks a topic's subscribers.
  void write_now();
  // A write left output behind: remember to tell on_drain if what was
  // queued before it was over the backpressure limit, or reading paused.
  void note_backlog(bool was_over_limit) noexcept;
  bool over_limit() const noexcept {
    return conn_.output().size() > binding_->settings.max_backpressure;
  }

  // The host's own state for this session (the server's subscriptions).
  void* host_data = nullptr;

 protected:
  // ----- the role's part
  // The handshake phase gets the bytes the stream delivers.
  virtual void on_handshake_data(std::span<std::uint8_t> bytes) = 0;
  // The stream ended, or failed, before the connection opened.
  virtual void on_handshake_end() = 0;
  virtual void on_handshake_error(std::error_code error, std::string_view detail) = 0;
  virtual void on_handshake_timeout() = 0;
  // Client: the TCP connect finished.
  virtual void on_connected() {}

  // ----- tools for the role
  // The stream over an accepted socket, or a connect (client), optionally
  // with TLS over it.
  std::error_code attach_socket(int fd);
  std::error_code connect_socket(const transport::Address& address);
  void use_tls(std::shared_ptr<transport::TlsContext> context, const std::string* host);
  transport::TlsFilter* tls() noexcept { return tls_.get(); }
  // Writes raw bytes past TLS (a plain-HTTP answer to a plain-HTTP request
  // that reached a TLS port), then closes.
  void reply_in_clear_and_close(std::string_view bytes);
  void set_peer(const transport::Address& peer) noexcept { peer_ = peer; }

  // Switches to the open WebSocket on `binding` (its limits, timers and
  // handlers): calls on_open, then processes `leftover` (frame bytes that
  // came with the handshake).
  void open(const Binding& binding, std::span<std::uint8_t> leftover);
  // Changes the binding of a session still in its handshake (the server
  // marks one that is answering a plain HTTP request so).
  void rebind(const Binding& binding) noexcept { binding_ = &binding; }
  void set_path(std::string path) { path_ = std::move(path); }
  void set_agreed(std::string subprotocol, std::string extensions);
  void set_transform(std::unique_ptr<protocol::MessageTransform> transform) {
    conn_.set_transform(std::move(transform));
  }
  void set_data(void* data) noexcept { data_ = data; }
  void* data() const noexcept { return data_; }
  // Writes what is queued, then shuts our side and lingers for the peer's.
  // From then on (server side, an answer to a plain HTTP request) the
  // handshake timeout bounds the time without progress: every byte that
  // leaves restarts it.
  void finish_after_flush();
  // finish_after_flush(), with `body` sent after what is queued, read a
  // part at a time as the output drains (at most body_queue_bound queued,
  // plus one part).
  void finish_with_body(std::unique_ptr<ResponseBody> body);
  static constexpr std::size_t body_queue_bound = 256 * 1024;
  static constexpr std::size_t body_part = 64 * 1024;
  // True once finish_after_flush() was called (an answer is on its way out).
  bool finishing() const noexcept { return closing_transport_; }
  // Closes the socket now (on_close first, if the connection had opened).
  void close_socket();
  void queue_output() { loop_.mark_dirty(*this); }
  // Restarts the handshake clock (a client moving from connecting to
  // waiting for the response, with its binding's timeout changed).
  void restart_handshake_clock();
  void log(LogLevel level, std::string_view text) const { host_.log(level, text); }

 private:
  // transport::StreamHandler
  void on_stream_data(std::span<std::uint8_t> bytes) override;
  void on_stream_end() override;
  void on_stream_error(std::error_code error, std::string_view detail) override;
  void on_stream_writable() override { flush(); }
  void on_stream_connected() override;
  // transport::Flushable
  void flush() override;
  void prefetch_for_flush() const noexcept override;
  // transport::Timer
  void on_timer() override;

  transport::Stream& stream() noexcept {
    return tls_ ? static_cast<transport::Stream&>(*tls_) : *socket_.get();
  }
  bool has_stream() const noexcept { return static_cast<bool>(socket_); }
  // Tops the output up from body() and writes it, while the kernel takes
  // everything, a few rounds at most. True once the body is all queued.
  bool write_body();
  // Bytes queued, or taken by the kernel and not acknowledged by the peer
  // yet: what moves when the peer reads (the kernel taking bytes from the
  // queue does not move it; a part of a body added to the queue does).
  std::size_t undelivered() noexcept;
  // While an answer is written: restarts its clock if that moved since the
  // last look.
  void note_send_progress() noexcept;
  void feed_frames(std::span<std::uint8_t> bytes);
  void dispatch(const protocol::Event& e);
  void after_protocol_step();
  void report_close(CloseCode code, std::string_view reason);
  void resume_reading();
  void reschedule_timer();
  void enter(Phase phase);

  // The agreed subprotocol and extensions, the handles' shared state, and
  // the rest of a plain HTTP answer's body, when there are any: most
  // connections have none of them.
  struct Extras {
    std::string subprotocol;
    std::string extensions;
    std::shared_ptr<detail::HandleState> handle;
    std::unique_ptr<ResponseBody> body;
    // The rate limits' buckets (Settings::max_messages_per_second,
    // Settings::max_inflate_per_second).
    TokenBucket messages;
    TokenBucket inflated;
  };
  Extras& extras();
  ResponseBody* body() const noexcept { return extras_ ? extras_->body.get() : nullptr; }
  // Whether a data message of `size` bytes (inflated when `inflated`) is
  // within the route's rate limits; takes it from their buckets.
  bool within_rates(std::size_t size, bool inflated);

  // The members are laid out for a fan-out to many thousands of
  // subscribers, which touches each session twice per iteration (queueing a
  // message, then writing it): what both touch comes first, in the first
  // three cache lines with the bases (the phase, the binding, the stream
  // living in the slot, the send side of the connection); the rest after.
 protected:
  transport::EventLoop& loop_;

 private:
  const Binding* binding_;
  Phase phase_ = Phase::handshake;
  bool paused_ = false;         // not reading: backpressure
  bool waiting_drain_ = false;  // output could not all be written
  bool closing_transport_ = false;
  bool shutdown_sent_ = false;
  bool opened_ = false;
  bool close_reported_ = false;
  std::unique_ptr<transport::TlsFilter> tls_;
  transport::SocketSlot socket_;

 protected:
  protocol::Connection conn_;

 private:
  Host& host_;
  LazyByteBuffer inbox_;  // input held back by backpressure
  transport::Address peer_;
  std::string path_;
  std::unique_ptr<Extras> extras_;
  std::int64_t phase_started_;  // an answer being written: when bytes last left
  std::int64_t last_receive_ = 0;
  union {
    std::int64_t ping_sent_ = 0;  // open: when our unanswered ping left, 0 if none
    // Writing an answer to a plain HTTP request (such a connection never
    // opens): undelivered() at the last look.
    std::size_t sent_mark_;
  };

  friend class SessionList;
  Session* prev_ = nullptr;
  Session* next_ = nullptr;
};

// The sessions of one host, in an intrusive list (no allocation per
// session). Loop thread only.
class SessionList {
 public:
  void push_front(Session& s) noexcept;
  void remove(Session& s) noexcept;
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  Session* front() const noexcept { return head_; }
  static Session* next(const Session& s) noexcept { return s.next_; }
  // Calls fn(session) for each session in the list now; fn may close
  // sessions (this one or others: a closed session is freed only at the end
  // of the iteration, and closing one twice does nothing).
  template <typename Fn>
  void for_each(Fn&& fn) {
    std::vector<Session*> now;
    now.reserve(size_);
    for (Session* s = head_; s; s = s->next_) now.push_back(s);
    for (Session* s : now) fn(*s);
  }

 private:
  Session* head_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace duplex::session
