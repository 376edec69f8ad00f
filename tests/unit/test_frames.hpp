// Helpers for building wire frames and collecting connection events in tests.
#pragma once

#include <duplex/protocol/connection.hpp>
#include <duplex/protocol/frame.hpp>
#include <duplex/protocol/mask.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::test {

using Bytes = std::vector<std::uint8_t>;
using protocol::Opcode;

inline Bytes bytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}
inline std::string str(std::span<const std::uint8_t> b) {
  return std::string(b.begin(), b.end());
}

struct FrameSpec {
  Opcode opcode = Opcode::text;
  bool fin = true;
  std::uint8_t rsv = 0;
  bool masked = false;
  protocol::MaskKey mask{0x37, 0xfa, 0x21, 0x3d};
  std::uint8_t raw_opcode = 0xFF;  // overrides opcode when != 0xFF (unknown opcodes)
};

// Encodes one frame; masks the payload when spec.masked.
inline Bytes frame(const FrameSpec& spec, std::span<const std::uint8_t> payload) {
  protocol::FrameHeader h;
  h.fin = spec.fin;
  h.rsv = spec.rsv;
  h.opcode = spec.raw_opcode != 0xFF ? spec.raw_opcode : static_cast<std::uint8_t>(spec.opcode);
  h.masked = spec.masked;
  h.mask = spec.mask;
  h.payload_length = payload.size();
  Bytes out(protocol::max_frame_header_size + payload.size());
  const std::size_t n = protocol::encode_frame_header(out.data(), h);
  std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(n));
  if (spec.masked) protocol::apply_mask(out.data() + n, payload.size(), spec.mask);
  out.resize(n + payload.size());
  return out;
}
inline Bytes frame(const FrameSpec& spec, std::string_view payload) {
  return frame(spec, std::span<const std::uint8_t>(
                         reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()));
}

inline Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// An event with its payload copied out, comparable in tests.
struct OwnedEvent {
  protocol::EventType type;
  Opcode opcode;
  std::string payload;
  CloseCode code;
  std::error_code error;
  bool operator==(const OwnedEvent&) const = default;
};

inline OwnedEvent own(const protocol::Event& e) {
  return {e.type, e.opcode, str(e.payload), e.code, e.error};
}

// Feeds `data` in pieces of the given sizes (the last piece takes the rest)
// and returns every event.
inline std::vector<OwnedEvent> feed_split(protocol::Connection& c, Bytes data,
                                          const std::vector<std::size_t>& sizes = {}) {
  std::vector<OwnedEvent> events;
  std::size_t at = 0;
  std::size_t piece = 0;
  do {
    std::size_t n = data.size() - at;
    if (piece < sizes.size()) n = std::min(n, sizes[piece]);
    ++piece;
    std::span<std::uint8_t> in(data.data() + at, n);
    at += n;
    for (protocol::Event e = c.receive(in); e; e = c.receive(in)) events.push_back(own(e));
  } while (at < data.size());
  return events;
}

inline std::vector<OwnedEvent> feed(protocol::Connection& c, Bytes data) {
  return feed_split(c, std::move(data));
}

// Everything in the connection's output queue, as one byte string (consumed).
inline Bytes drain(protocol::Connection& c) {
  Bytes out;
  auto& q = c.output();
  std::span<const std::uint8_t> parts[64];
  while (!q.empty()) {
    const std::size_t n = q.gather(parts);
    std::size_t total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      out.insert(out.end(), parts[i].begin(), parts[i].end());
      total += parts[i].size();
    }
    q.consume(total);
  }
  return out;
}

// Decodes a sequence of frames written by a connection (unmasking them).
struct DecodedFrame {
  protocol::FrameHeader header;
  std::string payload;
};

inline std::vector<DecodedFrame> decode_all(Bytes data) {
  std::vector<DecodedFrame> frames;
  std::size_t at = 0;
  while (at < data.size()) {
    DecodedFrame f;
    auto r = protocol::decode_frame_header({data.data() + at, data.size() - at}, f.header);
    if (r.status != protocol::HeaderStatus::complete) break;
    at += r.size;
    if (data.size() - at < f.header.payload_length) break;
    std::uint8_t* p = data.data() + at;
    if (f.header.masked) protocol::apply_mask(p, f.header.payload_length, f.header.mask);
    f.payload.assign(p, p + f.header.payload_length);
    at += f.header.payload_length;
    frames.push_back(std::move(f));
  }
  return frames;
}

// A close frame payload: 2-byte code (big-endian) and reason.
inline Bytes close_payload(std::uint16_t code, std::string_view reason = {}) {
  Bytes p{static_cast<std::uint8_t>(code >> 8), static_cast<std::uint8_t>(code)};
  p.insert(p.end(), reason.begin(), reason.end());
  return p;
}

// Always returns the same mask, for byte-exact expectations.
class FixedMask final : public protocol::MaskKeySource {
 public:
  explicit FixedMask(protocol::MaskKey key) : key_(key) {}
  protocol::MaskKey next() override { return key_; }

 private:
  protocol::MaskKey key_;
};

}  // namespace duplex::test
