#include <duplex/protocol/frame.hpp>

namespace duplex::protocol {

HeaderDecodeResult decode_frame_header(std::span<const std::uint8_t> in,
                                       FrameHeader& out) noexcept {
  if (in.size() < 2) return {HeaderStatus::incomplete, 0};
  const std::uint8_t b0 = in[0];
  const std::uint8_t b1 = in[1];
  const bool masked = (b1 & 0x80) != 0;
  const std::uint8_t len7 = b1 & 0x7F;
  const std::size_t length_bytes = len7 < 126 ? 0 : len7 == 126 ? 2 : 8;
  const std::size_t size = 2 + length_bytes + (masked ? 4 : 0);
  if (in.size() < size) return {HeaderStatus::incomplete, 0};

  std::uint64_t length = len7;
  if (length_bytes == 2) {
    length = (std::uint64_t{in[2]} << 8) | in[3];
  } else if (length_bytes == 8) {
    length = 0;
    for (std::size_t i = 0; i < 8; ++i) length = (length << 8) | in[2 + i];
    if (length >> 63) return {HeaderStatus::length_out_of_range, 0};
  }

  out.fin = (b0 & 0x80) != 0;
  out.rsv = static_cast<std::uint8_t>((b0 >> 4) & 0x7);
  out.opcode = b0 & 0x0F;
  out.masked = masked;
  out.payload_length = length;
  if (masked) {
    const std::size_t at = 2 + length_bytes;
    out.mask = {in[at], in[at + 1], in[at + 2], in[at + 3]};
  } else {
    out.mask = {};
  }
  return {HeaderStatus::complete, size};
}

std::size_t encode_frame_header(std::uint8_t* out, const FrameHeader& header) noexcept {
  out[0] = static_cast<std::uint8_t>((header.fin ? 0x80 : 0) | ((header.rsv & 0x7) << 4) |
                                     (header.opcode & 0x0F));
  const std::uint8_t mask_bit = header.masked ? 0x80 : 0;
  const std::uint64_t length = header.payload_length;
  std::size_t at;
  if (length <= 125) {
    out[1] = static_cast<std::uint8_t>(mask_bit | length);
    at = 2;
  } else if (length <= 0xFFFF) {
    out[1] = mask_bit | 126;
    out[2] = static_cast<std::uint8_t>(length >> 8);
    out[3] = static_cast<std::uint8_t>(length);
    at = 4;
  } else {
    out[1] = mask_bit | 127;
    for (std::size_t i = 0; i < 8; ++i) {
      out[2 + i] = static_cast<std::uint8_t>(length >> (56 - 8 * i));
    }
    at = 10;
  }
  if (header.masked) {
    for (std::size_t i = 0; i < 4; ++i) out[at + i] = header.mask[i];
    at += 4;
  }
  return at;
}

}  // namespace duplex::protocol
