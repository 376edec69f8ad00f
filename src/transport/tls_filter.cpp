#include "tls_filter.hpp"

#include <duplex/transport_error.hpp>

namespace duplex::transport {

TlsFilter::TlsFilter(EventLoop& loop, Stream& inner, StreamHandler& handler,
                     std::shared_ptr<TlsContext> context)
    : loop_(loop), inner_(inner), handler_(&handler), engine_(std::move(context)) {
  inner_.set_handler(*this);
}

TlsFilter::TlsFilter(EventLoop& loop, Stream& inner, StreamHandler& handler,
                     std::shared_ptr<TlsContext> context, const std::string& host)
    : loop_(loop), inner_(inner), handler_(&handler), engine_(std::move(context), host) {
  inner_.set_handler(*this);
}

void TlsFilter::failed(std::error_code error) {
  handler_->on_stream_error(error, engine_.error());
}

void TlsFilter::start() {
  engine_.feed({});
  if (engine_.handshake(records_) == TlsEngine::Status::failed) {
    failed(TransportError::tls_handshake_failed);
    return;
  }
  send_records();
}

void TlsFilter::on_stream_connected() {
  start();
  if (!closed_) handler_->on_stream_connected();
}

void TlsFilter::on_stream_data(std::span<std::uint8_t> ciphertext) {
  engine_.feed(ciphertext);
  if (!engine_.handshake_done()) {
    const auto status = engine_.handshake(records_);
    if (status == TlsEngine::Status::failed) {
      failed(engine_.plain_http_request() ? TransportError::plain_http_to_tls
                                          : TransportError::tls_handshake_failed);
      return;
    }
    if (!records_.empty() && send_records() == Write::failed) return;
    if (!engine_.handshake_done()) return;
    if (plaintext_waiting_) {
      plaintext_waiting_ = false;
      handler_->on_stream_writable();
      if (closed_) return;
    }
  }
  // Decrypt everything that came; records still incomplete wait in OpenSSL.
  const auto plain = loop_.plain_buffer();
  while (!closed_) {
    TlsEngine::Status status;
    const std::size_t n = engine_.read(plain, status, records_);
    if (n > 0) {
      handler_->on_stream_data(plain.first(n));
      continue;
    }
    if (status == TlsEngine::Status::closed) {
      handler_->on_stream_end();  // close_notify: the peer sends nothing more
      return;
    }
    if (status == TlsEngine::Status::failed) {
      failed(TransportError::tls_failed);
      return;
    }
    break;
  }
  // Reading may have produced records (key updates, alerts).
  if (!closed_ && !records_.empty()) send_records();
}

void TlsFilter::on_stream_end() {
  handler_->on_stream_end();
}

void TlsFilter::on_stream_error(std::error_code error, std::string_view detail) {
  handler_->on_stream_error(error, detail);
}

void TlsFilter::on_stream_writable() {
  if (send_records() != Write::done || closed_) return;
  handler_->on_stream_writable();
}

Stream::Write TlsFilter::failed_later(std::error_code error) {
  write_failed_ = true;
  loop_.defer([alive = std::weak_ptr<int>(alive_), this, error, detail = engine_.error()] {
    if (alive.lock() && !closed_) handler_->on_stream_error(error, detail);
  });
  return Write::failed;
}

Stream::Write TlsFilter::send_records() {
  const Write w = inner_.write(records_);
  if (w == Write::done && shutdown_pending_) {
    shutdown_pending_ = false;
    inner_.shutdown_write();
  }
  return w;
}

Stream::Write TlsFilter::write(protocol::OutputQueue& plaintext) {
  if (closed_ || write_failed_) return Write::failed;
  if (!engine_.handshake_done()) {
    // Plaintext waits until the handshake is done; then it is encrypted
    // into records, which go out with whatever the handshake produced.
    if (!plaintext.empty()) plaintext_waiting_ = true;
    return plaintext.empty() ? send_records() : Write::blocked;
  }
  if (!plaintext.empty() && engine_.write(plaintext, records_) == TlsEngine::Status::failed) {
    failed(TransportError::tls_failed);
    return Write::failed;
  }
  return send_records();
}

void TlsFilter::shutdown_write() {
  if (shutdown_sent_ || closed_) return;
  shutdown_sent_ = true;
  if (!engine_.handshake_done()) {
    inner_.shutdown_write();
    return;
  }
  // close_notify first, so the peer knows the stream was not cut.
  engine_.shutdown(records_);
  shutdown_pending_ = true;
  send_records();
}

void TlsFilter::close() noexcept {
  closed_ = true;
  inner_.close();
}

}  // namespace duplex::transport
