/// @file
/// WebSocket frame headers (RFC 6455 section 5.2): decoding what arrives and
/// encoding what we send. Payloads are handled elsewhere (mask.hpp, connection).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace duplex::protocol {

/// A frame's opcode (RFC 6455 section 5.2).
enum class Opcode : std::uint8_t {
  continuation = 0x0,  ///< the next piece of a fragmented message
  text = 0x1,          ///< a text message (UTF-8)
  binary = 0x2,        ///< a binary message
  close = 0x8,         ///< the close handshake
  ping = 0x9,          ///< ping (the peer answers with a pong)
  pong = 0xA,          ///< pong
};

/// Opcodes 0x8-0xF are control frames.
constexpr bool is_control_opcode(std::uint8_t op) noexcept {
  return (op & 0x8) != 0;
}
/// The opcodes RFC 6455 defines (the others fail the connection).
constexpr bool is_known_opcode(std::uint8_t op) noexcept {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

/// The three reserved bits as they sit in the first header byte, shifted down:
/// RSV1 is 0b100 (permessage-deflate uses it), RSV2 0b010, RSV3 0b001.
///@{
inline constexpr std::uint8_t rsv1_bit = 0b100;
inline constexpr std::uint8_t rsv2_bit = 0b010;
inline constexpr std::uint8_t rsv3_bit = 0b001;
///@}

/// The longest frame header: 2 bytes, an 8-byte length, a 4-byte mask.
inline constexpr std::size_t max_frame_header_size = 14;
/// The longest control frame payload (RFC 6455 section 5.5).
inline constexpr std::size_t max_control_payload = 125;

/// A client frame's masking key.
using MaskKey = std::array<std::uint8_t, 4>;

/// A frame header, decoded or to encode.
struct FrameHeader {
  bool fin = true;                   ///< the last frame of its message
  std::uint8_t rsv = 0;              ///< reserved bits, see rsv1_bit..rsv3_bit
  std::uint8_t opcode = 0;           ///< raw value: may be an unknown opcode on receive
  bool masked = false;               ///< a mask key follows (client frames)
  MaskKey mask{};                    ///< the key, when masked
  std::uint64_t payload_length = 0;  ///< bytes of payload after the header
};

/// How decoding a header went.
enum class HeaderStatus {
  complete,            ///< `size` bytes of input were the header
  incomplete,          ///< need more bytes; nothing was consumed
  length_out_of_range  ///< 64-bit length with the top bit set (RFC 6455 5.2)
};

/// What decode_frame_header() found.
struct HeaderDecodeResult {
  HeaderStatus status;  ///< complete, incomplete or malformed
  std::size_t size;     ///< header length in bytes when complete
};

/// Decodes the header at the start of `in`. Does not judge opcodes, reserved
/// bits or masking: that is the connection's job, which knows the role and the
/// negotiated extensions. Non-minimal length encodings are accepted, since the
/// RFC puts the minimal-encoding duty on the sender only.
HeaderDecodeResult decode_frame_header(std::span<const std::uint8_t> in, FrameHeader& out) noexcept;

/// Size of the header that encode_frame_header() writes for this frame.
constexpr std::size_t frame_header_size(std::uint64_t payload_length, bool masked) noexcept {
  const std::size_t base = payload_length <= 125 ? 2 : payload_length <= 0xFFFF ? 4 : 10;
  return base + (masked ? 4 : 0);
}

/// Writes the header to `out` (which must have room for max_frame_header_size
/// bytes) using the minimal length encoding, and returns its size.
std::size_t encode_frame_header(std::uint8_t* out, const FrameHeader& header) noexcept;

}  // namespace duplex::protocol
