// A WebSocket over a TCP socket on one event loop: the part the server and
// the client share. It owns the socket and the protocol core, turns socket
// readiness into protocol events and handler calls, flushes output once per
// loop iteration, applies backpressure, runs the timers (handshake, idle,
// ping, close), and tears the connection down in the orderly way: the close
// frame first, then shutdown(SHUT_WR), then wait for the peer's FIN.
//
// Subclasses add the opening handshake of their role (ServerSession reads the
// HTTP request, ClientSession connects and reads the response).
#pragma once

#include "../transport/event_loop.hpp"
#include "../transport/socket.hpp"
#include "../transport/tls.hpp"

#include <duplex/log.hpp>
#include <duplex/protocol/connection.hpp>
#include <duplex/websocket.hpp>

#include <sys/epoll.h>

#include <any>
#include <cstdint>
#include <functional>
#include <string>

namespace duplex::session {

struct EventHandlers {
  std::function<void(WebSocket&)> on_open;
  std::function<void(WebSocket&, Message)> on_message;
  std::function<void(WebSocket&, std::string_view)> on_ping;
  std::function<void(WebSocket&, std::string_view)> on_pong;
  std::function<void(WebSocket&)> on_drain;
  std::function<void(WebSocket&, CloseCode, std::string_view)> on_close;
};

// Settings shared by many sessions (one copy per server or client).
struct SessionSettings {
  protocol::ConnectionOptions protocol;
  std::size_t max_backpressure = 1024 * 1024;
  std::int64_t handshake_timeout_ms = 10'000;
  std::int64_t idle_timeout_ms = 0;
  std::int64_t ping_interval_ms = 0;
  std::int64_t close_timeout_ms = 5'000;
  LogSink log;
};

class Session : public WebSocket,
                public transport::IoHandler,
                public transport::Flushable,
                public transport::Timer {
 public:
  // Edge-triggered, everything at once: no epoll_ctl per write or per pause.
  // EPOLLOUT only fires after a write found the socket buffer full.
  static constexpr std::uint32_t socket_events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

  enum class Phase : std::uint8_t {
    handshake,     // opening handshake (or, server side, a plain HTTP request)
    open,          // WebSocket open
    closing,       // we sent close and wait for the peer's
    awaiting_eof,  // client: handshake closed, waiting for the server to close TCP
    lingering,     // we shut down our side and wait for the peer's FIN
    closed,
  };

  Session(transport::EventLoop& loop, const SessionSettings& settings, int fd,
          const transport::Address& peer);
  virtual ~Session();

  Phase phase() const noexcept { return phase_; }
  transport::EventLoop& loop() noexcept { return loop_; }
  const transport::Address& peer() const noexcept { return peer_; }

  // ----- WebSocket operations (the public WebSocket methods forward here)
  std::error_code do_send(std::string_view data, Opcode opcode);
  std::error_code do_ping(std::string_view payload);
  std::error_code do_send_fragment(std::string_view data, Opcode opcode, bool fin);

  std::error_code do_close(CloseCode code, std::string_view reason);
  void do_terminate(std::string_view why);
  // Queued and not yet taken by the kernel (ciphertext included).
  std::size_t buffered() const noexcept {
    return conn_.output().size() + (tls_ ? tls_->records.size() : 0);
  }
  bool open() const noexcept { return phase_ == Phase::open; }

  // Publish/subscribe, where the owner supports it (the server does).
  virtual bool pubsub_subscribe(std::string_view) { return false; }
  virtual bool pubsub_unsubscribe(std::string_view) { return false; }
  virtual bool pubsub_is_subscribed(std::string_view) const { return false; }
  virtual bool pubsub_publish(std::string_view, std::string_view, Opcode, bool) { return false; }

  // Intrusive list of the owner's sessions.
  Session* prev = nullptr;
  Session* next = nullptr;

  std::string path_;
  // The subprotocol and extensions agreed in the handshake, when any were:
  // most connections have none and should not carry two empty strings.
  struct Negotiated {
    std::string subprotocol;
    std::string extensions;
  };
  std::unique_ptr<Negotiated> negotiated_;
  void set_negotiated(std::string subprotocol, std::string extensions) {
    if (subprotocol.empty() && extensions.empty()) return;
    negotiated_ =
        std::make_unique<Negotiated>(Negotiated{std::move(subprotocol), std::move(extensions)});
  }
  std::any user_data_;

 protected:
  // The handshake phase gets the bytes the socket produced.
  virtual void on_handshake_input(std::span<std::uint8_t> bytes) = 0;
  virtual void on_handshake_eof() = 0;
  virtual void on_handshake_timeout() = 0;
  // Writability while the handshake runs (a client's connect completing).
  virtual void on_handshake_writable() {}
  // The socket is closed; the owner unlinks and (later) deletes the session.
  virtual void on_closed() = 0;
  // TLS: the handshake finished (the HTTP exchange starts), or failed.
  virtual void on_tls_ready() {}
  virtual void on_tls_failed(const transport::TlsStream& tls) = 0;

  // An extension was agreed: messages go through its transform.
  void set_transform(std::unique_ptr<protocol::MessageTransform> transform) {
    conn_.set_transform(std::move(transform));
  }

  // Puts TLS under this session: from now on the socket carries ciphertext.
  void start_tls(std::unique_ptr<transport::TlsStream> tls) { tls_ = std::move(tls); }
  // Client side: sends the first handshake message.
  void begin_tls_handshake();
  transport::TlsStream* tls() noexcept { return tls_.get(); }
  // Writes raw bytes past TLS (a plain-HTTP answer to a plain-HTTP request
  // that reached a TLS port), then closes.
  void reply_in_clear_and_close(std::string_view bytes);

  // Switches to the open WebSocket: calls on_open, then processes `leftover`
  // (frame bytes that arrived with the handshake).
  void open_websocket(const EventHandlers& handlers, std::span<std::uint8_t> leftover);
  // Writes what is queued, then closes our side and lingers for the peer's FIN.
  void finish_after_flush();
  // Closes the socket now.
  void close_socket();
  void queue_output() { loop_.mark_dirty(*this); }
  // Writes what is queued now instead of at the end of the iteration.
  void flush_now() { flush(); }
  void set_fd(int fd) noexcept { fd_ = fd; }
  // Restarts the handshake-phase clock (the client moves from connecting to
  // waiting for the response).
  void restart_handshake_timer() {
    phase_started_ = loop_.now();
    reschedule_timer();
  }
  void watch(std::uint32_t events);
  void log(LogLevel level, std::string_view text) const;

  transport::EventLoop& loop_;
  const SessionSettings& settings_;
  protocol::Connection conn_;
  std::unique_ptr<transport::TlsStream> tls_;
  protocol::LazyByteBuffer inbox_;  // a partial handshake head, or input held back by backpressure
  transport::Address peer_;
  int fd_;
  std::int64_t phase_started_;

 private:
  void on_io(std::uint32_t events) override;
  void flush() override;
  void prefetch_for_flush() const noexcept override { conn_.output().prefetch(); }
  void on_timer() override;
  void retry() override { read_socket(); }

  void read_socket();
  void on_ciphertext(std::span<std::uint8_t> bytes);
  // Sends what `q` holds; true when all of it went out.
  bool send_queue(protocol::OutputQueue& q);
  void on_bytes(std::span<std::uint8_t> bytes);
  void on_eof();
  void on_socket_error(int error);
  void feed_frames(std::span<std::uint8_t> bytes);
  void dispatch(const protocol::Event& e);
  void after_protocol_step();
  void report_close(CloseCode code, std::string_view reason);
  void pause_reading();
  void resume_reading();

  void reschedule_timer();
  void enter(Phase phase);

  const EventHandlers* handlers_ = nullptr;
  std::int64_t last_receive_ = 0;
  std::int64_t ping_sent_ = 0;  // when our unanswered ping left, 0 if none
  Phase phase_ = Phase::handshake;
  bool want_write_ = false;     // output waits for EPOLLOUT
  bool paused_ = false;         // not reading: backpressure
  bool waiting_drain_ = false;  // output could not all be written
  bool closing_transport_ = false;
  bool opened_ = false;
  bool close_reported_ = false;
  bool tls_shutdown_sent_ = false;
  bool peer_finished_ = false;  // EPOLLRDHUP seen: read to the end
};

}  // namespace duplex::session
