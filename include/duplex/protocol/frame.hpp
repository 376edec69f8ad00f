// WebSocket frame headers (RFC 6455 section 5.2): decoding what arrives and
// encoding what we send. Payloads are handled elsewhere (mask.hpp, connection).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace duplex::protocol {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

constexpr bool is_control_opcode(std::uint8_t op) noexcept {
  return (op & 0x8) != 0;
}
constexpr bool is_known_opcode(std::uint8_t op) noexcept {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

// The three reserved bits as they sit in the first header byte, shifted down:
// RSV1 is 0b100 (permessage-deflate uses it), RSV2 0b010, RSV3 0b001.
inline constexpr std::uint8_t rsv1_bit = 0b100;
inline constexpr std::uint8_t rsv2_bit = 0b010;
inline constexpr std::uint8_t rsv3_bit = 0b001;

inline constexpr std::size_t max_frame_header_size = 14;
inline constexpr std::size_t max_control_payload = 125;

using MaskKey = std::array<std::uint8_t, 4>;

struct FrameHeader {
  bool fin = true;
  std::uint8_t rsv = 0;     // reserved bits, see rsv1_bit..rsv3_bit
  std::uint8_t opcode = 0;  // raw value: may be an unknown opcode on receive
  bool masked = false;
  MaskKey mask{};
  std::uint64_t payload_length = 0;
};

enum class HeaderStatus {
  complete,            // `size` bytes of input were the header
  incomplete,          // need more bytes; nothing was consumed
  length_out_of_range  // 64-bit length with the top bit set (RFC 6455 5.2)
};

struct HeaderDecodeResult {
  HeaderStatus status;
  std::size_t size;  // header length in bytes when complete
};

// Decodes the header at the start of `in`. Does not judge opcodes, reserved
// bits or masking: that is the connection's job, which knows the role and the
// negotiated extensions. Non-minimal length encodings are accepted, since the
// RFC puts the minimal-encoding duty on the sender only.
HeaderDecodeResult decode_frame_header(std::span<const std::uint8_t> in, FrameHeader& out) noexcept;

// Size of the header that encode_frame_header() writes for this frame.
constexpr std::size_t frame_header_size(std::uint64_t payload_length, bool masked) noexcept {
  const std::size_t base = payload_length <= 125 ? 2 : payload_length <= 0xFFFF ? 4 : 10;
  return base + (masked ? 4 : 0);
}

// Writes the header to `out` (which must have room for max_frame_header_size
// bytes) using the minimal length encoding, and returns its size.
std::size_t encode_frame_header(std::uint8_t* out, const FrameHeader& header) noexcept;

}  // namespace duplex::protocol
