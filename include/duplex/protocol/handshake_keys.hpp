/// @file
/// The key/accept pair of the opening handshake (RFC 6455 section 4) and the
/// random numbers both ends need, from OpenSSL's CSPRNG.
#pragma once

#include <duplex/protocol/frame.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace duplex::protocol {

/// The GUID every Sec-WebSocket-Accept is derived with.
inline constexpr std::string_view websocket_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// base64(SHA-1(key + GUID)).
std::string compute_accept_key(std::string_view client_key);

/// True when `key` is base64 (with padding) of exactly 16 bytes.
bool is_valid_client_key(std::string_view key) noexcept;

/// A fresh Sec-WebSocket-Key: 16 random bytes, base64-encoded.
std::string generate_client_key();

/// Where a client's frame masks come from. The default draws from the CSPRNG
/// in batches; tests substitute a fixed key to check exact bytes.
class MaskKeySource {
 public:
  virtual ~MaskKeySource() = default;
  /// The next key.
  virtual MaskKey next() = 0;
};

/// Buffered CSPRNG masks (RFC 6455 10.3 asks for unpredictable masks).
/// One per thread, never shared: it holds its own buffer.
class RandomMaskSource final : public MaskKeySource {
 public:
  /// The next key from the pool, refilled from the CSPRNG.
  MaskKey next() override;
  /// The calling thread's own source.
  static RandomMaskSource& for_this_thread();

 private:
  std::uint8_t pool_[256];
  std::size_t used_ = sizeof(pool_);
};

}  // namespace duplex::protocol
