#include "tls.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <climits>
#include <cstring>

namespace duplex::transport {

// A BIO that reads ciphertext from the span the stream was fed and writes
// ciphertext straight into the session's output queue: no intermediate
// memory BIO, no extra copy.
struct TlsBio {
  static int read(BIO* bio, char* out, int len) {
    auto* s = static_cast<TlsEngine*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (s->input_.empty()) {
      BIO_set_retry_read(bio);
      return -1;
    }
    const std::size_t n = std::min(s->input_.size(), static_cast<std::size_t>(len));
    std::memcpy(out, s->input_.data(), n);
    s->input_ = s->input_.subspan(n);
    return static_cast<int>(n);
  }
  static int write(BIO* bio, const char* in, int len) {
    auto* s = static_cast<TlsEngine*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (!s->output_) {
      BIO_set_retry_write(bio);
      return -1;
    }
    s->output_->append({reinterpret_cast<const std::uint8_t*>(in), static_cast<std::size_t>(len)});
    return len;
  }
  static long ctrl(BIO*, int cmd, long, void*) {
    // OpenSSL flushes after writing records; everything is already queued.
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
  }
  static int create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }
  static BIO_METHOD* method() {
    static BIO_METHOD* m = [] {
      BIO_METHOD* meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "duplex");
      BIO_meth_set_read(meth, read);
      BIO_meth_set_write(meth, write);
      BIO_meth_set_ctrl(meth, ctrl);
      BIO_meth_set_create(meth, create);
      return meth;
    }();
    return m;
  }
};

namespace {

// Every reason OpenSSL queued, oldest first, "; "-separated.
std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    out += reason ? reason : "unknown TLS error";
  }
  return out;
}

int select_http11(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                  unsigned int inlen, void*) {
  static const unsigned char http11[] = "\x08http/1.1";
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, http11, sizeof(http11) - 1, in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  // The client offered only other protocols (h2, ...): go on without ALPN
  // and let it decide.
  return SSL_TLSEXT_ERR_NOACK;
}

SSL_CTX* new_context(const SSL_METHOD* method) {
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (!ctx) return nullptr;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  // Idle connections give their record buffers back (tens of KiB each).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

std::shared_ptr<TlsContext> TlsContext::server(const TlsServerSettings& settings,
                                               std::string& error) {
  const std::string& cert_file = settings.cert_file;
  const std::string& key_file = settings.key_file;
  ERR_clear_error();
  SSL_CTX* ctx = new_context(TLS_server_method());
  if (!ctx) {
    error = openssl_errors();
    return nullptr;
  }
  auto result = std::shared_ptr<TlsContext>(new TlsContext(ctx, false));
  if (settings.min_version == "1.3") {
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  } else if (settings.min_version != "1.2") {
    error = "unknown TLS version " + settings.min_version + " (1.2 or 1.3)";
    return nullptr;
  }
  if (!settings.ciphers.empty() && SSL_CTX_set_cipher_list(ctx, settings.ciphers.c_str()) != 1) {
    error = "no usable cipher in \"" + settings.ciphers + "\": " + openssl_errors();
    return nullptr;
  }
  // The client's preference decides among the suites allowed (as Mozilla's
  // "intermediate" says: all are strong, and a phone without AES hardware
  // prefers ChaCha20).
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    error = "cannot use certificate " + cert_file + ": " + openssl_errors();
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = "cannot use private key " + key_file + ": " + openssl_errors();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    error = "the private key does not match the certificate: " + openssl_errors();
    return nullptr;
  }
  SSL_CTX_set_alpn_select_cb(ctx, select_http11, nullptr);
  if (!settings.session_tickets) SSL_CTX_set_num_tickets(ctx, 0);
  return result;
}

std::shared_ptr<TlsContext> TlsContext::client(const std::string& ca_file, bool verify,
                                               std::string& error) {
  ERR_clear_error();
  SSL_CTX* ctx = new_context(TLS_client_method());
  if (!ctx) {
    error = openssl_errors();
    return nullptr;
  }
  auto result = std::shared_ptr<TlsContext>(new TlsContext(ctx, verify));
  if (verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    const bool loaded = ca_file.empty()
                            ? SSL_CTX_set_default_verify_paths(ctx) == 1
                            : SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) == 1;
    if (!loaded) {
      error = (ca_file.empty() ? std::string("cannot load the system's CA certificates")
                               : "cannot load CA file " + ca_file) +
              ": " + openssl_errors();
      return nullptr;
    }
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  static const unsigned char http11[] = "\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx, http11, sizeof(http11) - 1);
  return result;
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

TlsEngine::TlsEngine(std::shared_ptr<TlsContext> ctx) : ctx_(std::move(ctx)) {
  ssl_ = SSL_new(ctx_->get());
  BIO* bio = BIO_new(TlsBio::method());
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);
  SSL_set_accept_state(ssl_);
}

TlsEngine::TlsEngine(std::shared_ptr<TlsContext> ctx, const std::string& host)
    : ctx_(std::move(ctx)) {
  ssl_ = SSL_new(ctx_->get());
  BIO* bio = BIO_new(TlsBio::method());
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);
  SSL_set_connect_state(ssl_);
  if (is_ip_literal(host)) {
    // No SNI for addresses (RFC 6066); the certificate must name the IP.
    if (ctx_->verifies()) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str());
  } else {
    // SSL_set_tlsext_host_name, without the macro's C cast.
    SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(host.c_str()));

    if (ctx_->verifies()) {
      SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      SSL_set1_host(ssl_, host.c_str());
    }
  }
}

TlsEngine::~TlsEngine() {
  SSL_free(ssl_);
}

bool TlsEngine::handshake_done() const noexcept {
  return SSL_is_init_finished(ssl_) == 1;
}

std::string_view TlsEngine::server_name() const noexcept {
  const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
  return name ? std::string_view(name) : std::string_view{};
}

TlsEngine::Status TlsEngine::fail(int ret) {
  const int err = SSL_get_error(ssl_, ret);
  if (err == SSL_ERROR_WANT_READ) return Status::want_more;
  if (err == SSL_ERROR_ZERO_RETURN) return Status::closed;
  const unsigned long first = ERR_peek_error();
  plain_http_ = ERR_GET_LIB(first) == ERR_LIB_SSL && ERR_GET_REASON(first) == SSL_R_HTTP_REQUEST;
  error_ = openssl_errors();
  const long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK && !SSL_is_server(ssl_)) {
    error_ += std::string(error_.empty() ? "" : ": ") + X509_verify_cert_error_string(verify);
  }
  if (error_.empty()) {
    error_ =
        err == SSL_ERROR_SYSCALL ? "connection closed during the TLS handshake" : "TLS failure";
  }
  return Status::failed;
}

TlsEngine::Status TlsEngine::handshake(protocol::OutputQueue& out) {
  ERR_clear_error();
  output_ = &out;
  const int r = SSL_do_handshake(ssl_);
  output_ = nullptr;
  return r == 1 ? Status::ok : fail(r);
}

std::size_t TlsEngine::read(std::span<std::uint8_t> plaintext, Status& status,
                            protocol::OutputQueue& out) {
  ERR_clear_error();
  output_ = &out;  // reading may answer (TLS 1.3 key updates, alerts)
  const int size = static_cast<int>(std::min<std::size_t>(plaintext.size(), INT_MAX));
  const int n = SSL_read(ssl_, plaintext.data(), size);
  output_ = nullptr;
  if (n > 0) {
    status = Status::ok;
    return static_cast<std::size_t>(n);
  }
  status = fail(n);
  return 0;
}

TlsEngine::Status TlsEngine::write(protocol::OutputQueue& plaintext, protocol::OutputQueue& out) {
  ERR_clear_error();
  output_ = &out;
  std::span<const std::uint8_t> parts[16];
  while (!plaintext.empty()) {
    const std::size_t count = plaintext.gather(parts);
    std::size_t done = 0;
    for (std::size_t i = 0; i < count; ++i) {
      // Our BIO never blocks, so each write is taken whole.
      const int n = SSL_write(ssl_, parts[i].data(), static_cast<int>(parts[i].size()));
      if (n <= 0) {
        output_ = nullptr;
        plaintext.consume(done);
        return fail(n);
      }
      done += static_cast<std::size_t>(n);
    }
    plaintext.consume(done);
  }
  output_ = nullptr;
  return Status::ok;
}

void TlsEngine::shutdown(protocol::OutputQueue& out) noexcept {
  ERR_clear_error();
  output_ = &out;
  SSL_shutdown(ssl_);
  output_ = nullptr;
  ERR_clear_error();
}

}  // namespace duplex::transport
