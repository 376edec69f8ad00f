// TLS on OpenSSL 3 as a byte transform: ciphertext in, plaintext out;
// plaintext in, ciphertext out. No socket calls here: TlsFilter (tls_filter.hpp)
// puts it over a stream, on the same event loop, with the same batching as
// plain TCP.
#pragma once

#include <duplex/protocol/output_queue.hpp>

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace duplex::transport {

// One SSL_CTX: shared (read-only) by every connection of a server or client.
// A server context's settings (see TlsServerOptions for their meaning).
struct TlsServerSettings {
  std::string cert_file;
  std::string key_file;
  bool session_tickets = true;
  std::string min_version = "1.2";  // "1.2" or "1.3"
  std::string ciphers;              // TLS 1.2 suites; empty: OpenSSL's defaults
};

class TlsContext {
 public:
  // A server context from a PEM certificate chain and private key: TLS 1.2
  // and 1.3 only, ALPN http/1.1. Returns null with the reason in `error`.
  static std::shared_ptr<TlsContext> server(const TlsServerSettings& settings, std::string& error);
  // A client context: peer verification on against the system's CA store or
  // `ca_file`, unless `verify` is false.
  static std::shared_ptr<TlsContext> client(const std::string& ca_file, bool verify,
                                            std::string& error);

  ~TlsContext();
  SSL_CTX* get() const noexcept { return ctx_; }
  bool verifies() const noexcept { return verify_; }

 private:
  explicit TlsContext(SSL_CTX* ctx, bool verify) : ctx_(ctx), verify_(verify) {}
  SSL_CTX* ctx_;
  bool verify_;
};

class TlsEngine {
 public:
  enum class Status {
    ok,         // progress made (or nothing to do)
    want_more,  // needs more ciphertext
    closed,     // the peer sent close_notify
    failed,     // fatal: see error()
  };

  // Server side.
  explicit TlsEngine(std::shared_ptr<TlsContext> ctx);
  // Client side: SNI and certificate host check for `host` (a name or an IP).
  TlsEngine(std::shared_ptr<TlsContext> ctx, const std::string& host);
  ~TlsEngine();
  TlsEngine(const TlsEngine&) = delete;
  TlsEngine& operator=(const TlsEngine&) = delete;

  // Hands the stream ciphertext that arrived. All of it is taken in (partial
  // records wait inside OpenSSL).
  void feed(std::span<const std::uint8_t> ciphertext) noexcept { input_ = ciphertext; }
  // Advances the handshake; ciphertext to send goes to `out`.
  Status handshake(protocol::OutputQueue& out);
  bool handshake_done() const noexcept;
  // Decrypts into `plaintext`, returning how many bytes (0 with a status
  // other than ok when nothing more can be decrypted now).
  std::size_t read(std::span<std::uint8_t> plaintext, Status& status, protocol::OutputQueue& out);
  // Encrypts everything queued in `plaintext` (consuming it) into `out`.
  Status write(protocol::OutputQueue& plaintext, protocol::OutputQueue& out);
  // Queues our close_notify.
  void shutdown(protocol::OutputQueue& out) noexcept;

  // After a failure: OpenSSL's reason, and for a certificate that did not
  // verify, why ("self-signed certificate", "Hostname mismatch", ...).
  const std::string& error() const noexcept { return error_; }
  // The host name the client asked for (SNI), server side.
  std::string_view server_name() const noexcept;
  // The failure was a plain-HTTP request sent to a TLS port.
  bool plain_http_request() const noexcept { return plain_http_; }

 private:
  friend struct TlsBio;
  Status fail(int ret);

  std::shared_ptr<TlsContext> ctx_;
  SSL* ssl_ = nullptr;
  std::span<const std::uint8_t> input_;
  protocol::OutputQueue* output_ = nullptr;
  std::string error_;
  bool plain_http_ = false;
};

}  // namespace duplex::transport
