// TLS as a filter over any stream: it is the inner stream's handler (taking
// ciphertext in) and a stream itself (taking plaintext writes), so whatever
// runs over a socket runs over TLS unchanged. Records go out through the
// inner stream as they are made; plaintext written before the handshake is
// done waits (the write reports `blocked` until it is). Loop thread only.
#pragma once

#include "event_loop.hpp"
#include "stream.hpp"
#include "tls.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace duplex::transport {

class TlsFilter final : public Stream, private StreamHandler {
 public:
  // Server side of TLS over `inner`, reporting to `handler`.
  TlsFilter(EventLoop& loop, Stream& inner, StreamHandler& handler,
            std::shared_ptr<TlsContext> context);
  // Client side: SNI and the certificate check for `host`. The handshake
  // starts when the inner stream connects (or at once with start()).
  TlsFilter(EventLoop& loop, Stream& inner, StreamHandler& handler,
            std::shared_ptr<TlsContext> context, const std::string& host);
  // The inner stream is left open, reporting to nobody: the owner gives it
  // a handler again (or closes it).
  ~TlsFilter() override = default;

  // Client: sends the first handshake message now.
  void start();

  Write write(protocol::OutputQueue& plaintext) override;
  void pause_reading() noexcept override { inner_.pause_reading(); }
  void resume_reading() override { inner_.resume_reading(); }
  // close_notify first, then the inner stream's shutdown once it is out.
  void shutdown_write() override;
  void close() noexcept override;
  std::size_t pending() const noexcept override { return records_.size(); }
  std::size_t unacknowledged() const noexcept override { return inner_.unacknowledged(); }
  void set_handler(StreamHandler& handler) noexcept override { handler_ = &handler; }

  // The host name the client asked for (SNI), server side; empty if none.
  std::string_view server_name() const noexcept { return engine_.server_name(); }
  Stream& inner() noexcept { return inner_; }

 private:
  void on_stream_data(std::span<std::uint8_t> ciphertext) override;
  void on_stream_end() override;
  void on_stream_error(std::error_code error, std::string_view detail) override;
  void on_stream_writable() override;
  void on_stream_connected() override;

  Write send_records();
  void failed(std::error_code error);
  // A failure found while writing: reported at the end of the iteration
  // (see Stream::Write::failed).
  Write failed_later(std::error_code error);

  EventLoop& loop_;
  Stream& inner_;
  StreamHandler* handler_;
  TlsEngine engine_;
  protocol::OutputQueue records_;  // ciphertext waiting for the inner stream
  bool closed_ = false;
  bool plaintext_waiting_ = false;  // a write came before the handshake ended
  bool shutdown_sent_ = false;
  bool shutdown_pending_ = false;  // close_notify queued, inner shutdown to follow
  bool write_failed_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // for deferred reports
};

}  // namespace duplex::transport
