#include <duplex/protocol/handshake_keys.hpp>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <limits>
#include <stdexcept>

namespace duplex::protocol {
namespace {

std::string base64_encode(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max() / 4 * 3)) {
    throw std::length_error("base64_encode: input too large");
  }
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// Cryptographically strong random bytes. Throws std::runtime_error if the
// CSPRNG fails (it does not on a working system).
void random_bytes(std::span<std::uint8_t> out) {
  if (out.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
}

}  // namespace

std::string compute_accept_key(std::string_view client_key) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  std::string input;
  input.reserve(client_key.size() + websocket_guid.size());
  input.append(client_key).append(websocket_guid);
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha1(), nullptr) != 1 ||
      len != SHA_DIGEST_LENGTH) {
    throw std::runtime_error("SHA-1 digest failed");
  }
  return base64_encode({digest, SHA_DIGEST_LENGTH});
}

bool is_valid_client_key(std::string_view key) noexcept {
  // 16 bytes encode to 22 base64 characters plus "==".
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (std::size_t i = 0; i < 22; ++i) {
    const char c = key[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

std::string generate_client_key() {
  std::uint8_t raw[16];
  random_bytes(raw);
  return base64_encode(raw);
}

MaskKey RandomMaskSource::next() {
  if (used_ + 4 > sizeof(pool_)) {
    random_bytes(pool_);
    used_ = 0;
  }
  MaskKey key{pool_[used_], pool_[used_ + 1], pool_[used_ + 2], pool_[used_ + 3]};
  used_ += 4;
  return key;
}

RandomMaskSource& RandomMaskSource::for_this_thread() {
  thread_local RandomMaskSource source;
  return source;
}

}  // namespace duplex::protocol
