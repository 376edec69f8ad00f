// Frame header encoding and decoding (RFC 6455 5.2), with the RFC's examples.
#include "test_frames.hpp"

#include <gtest/gtest.h>

namespace duplex::test {
namespace {

using protocol::decode_frame_header;
using protocol::encode_frame_header;
using protocol::FrameHeader;
using protocol::HeaderStatus;

TEST(FrameHeader, RfcUnmaskedHello) {
  const Bytes wire{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
  FrameHeader h;
  auto r = decode_frame_header(wire, h);
  ASSERT_EQ(r.status, HeaderStatus::complete);
  EXPECT_EQ(r.size, 2u);
  EXPECT_TRUE(h.fin);
  EXPECT_EQ(h.opcode, 0x1);
  EXPECT_FALSE(h.masked);
  EXPECT_EQ(h.payload_length, 5u);
  EXPECT_EQ(frame({.opcode = Opcode::text}, "Hello"), wire);
}

TEST(FrameHeader, RfcMaskedHello) {
  const Bytes wire{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
  FrameHeader h;
  auto r = decode_frame_header(wire, h);
  ASSERT_EQ(r.status, HeaderStatus::complete);
  EXPECT_EQ(r.size, 6u);
  EXPECT_TRUE(h.masked);
  EXPECT_EQ(h.mask, (protocol::MaskKey{0x37, 0xfa, 0x21, 0x3d}));
  Bytes payload(wire.begin() + 6, wire.end());
  protocol::apply_mask(payload.data(), payload.size(), h.mask);
  EXPECT_EQ(str(payload), "Hello");
  EXPECT_EQ(frame({.opcode = Opcode::text, .masked = true}, "Hello"), wire);
}

TEST(FrameHeader, RfcFragmentedHeaders) {
  EXPECT_EQ(frame({.opcode = Opcode::text, .fin = false}, "Hel"),
            (Bytes{0x01, 0x03, 0x48, 0x65, 0x6c}));
  EXPECT_EQ(frame({.opcode = Opcode::continuation}, "lo"), (Bytes{0x80, 0x02, 0x6c, 0x6f}));
}

TEST(FrameHeader, RfcPingAndMaskedPong) {
  EXPECT_EQ(frame({.opcode = Opcode::ping}, "Hello"),
            (Bytes{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  EXPECT_EQ(frame({.opcode = Opcode::pong, .masked = true}, "Hello"),
            (Bytes{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST(FrameHeader, Rfc256ByteBinaryUses16BitLength) {
  const Bytes payload(256, 0xAB);
  const Bytes wire = frame({.opcode = Opcode::binary}, payload);
  ASSERT_EQ(wire.size(), 4u + 256u);
  EXPECT_EQ(wire[0], 0x82);
  EXPECT_EQ(wire[1], 0x7E);
  EXPECT_EQ(wire[2], 0x01);
  EXPECT_EQ(wire[3], 0x00);
  FrameHeader h;
  auto r = decode_frame_header(wire, h);
  ASSERT_EQ(r.status, HeaderStatus::complete);
  EXPECT_EQ(r.size, 4u);
  EXPECT_EQ(h.payload_length, 256u);
}

TEST(FrameHeader, Rfc64KiBBinaryUses64BitLength) {
  const Bytes payload(65536, 0x5A);
  const Bytes wire = frame({.opcode = Opcode::binary}, payload);
  ASSERT_EQ(wire.size(), 10u + 65536u);
  const Bytes expected_header{0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00};
  EXPECT_TRUE(std::equal(expected_header.begin(), expected_header.end(), wire.begin()));
  FrameHeader h;
  auto r = decode_frame_header(wire, h);
  ASSERT_EQ(r.status, HeaderStatus::complete);
  EXPECT_EQ(r.size, 10u);
  EXPECT_EQ(h.payload_length, 65536u);
}

TEST(FrameHeader, EncodingIsMinimalAtEveryBoundary) {
  struct Case {
    std::uint64_t length;
    std::size_t header;
  };
  for (const Case c : {Case{0, 2}, Case{125, 2}, Case{126, 4}, Case{0xFFFF, 4}, Case{0x10000, 10},
                       Case{0xFFFFFFFFull, 10}, Case{(1ull << 63) - 1, 10}}) {
    FrameHeader h;
    h.opcode = 2;
    h.payload_length = c.length;
    std::uint8_t out[14];
    EXPECT_EQ(encode_frame_header(out, h), c.header) << c.length;
    EXPECT_EQ(protocol::frame_header_size(c.length, false), c.header);
    EXPECT_EQ(protocol::frame_header_size(c.length, true), c.header + 4);
    FrameHeader back;
    auto r = decode_frame_header({out, c.header}, back);
    ASSERT_EQ(r.status, HeaderStatus::complete);
    EXPECT_EQ(back.payload_length, c.length);
  }
}

TEST(FrameHeader, RejectsLengthWithTopBitSet) {
  const Bytes wire{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0};
  FrameHeader h;
  EXPECT_EQ(decode_frame_header(wire, h).status, HeaderStatus::length_out_of_range);
}

TEST(FrameHeader, AcceptsNonMinimalLengthEncoding) {
  // 5 bytes announced with the 16-bit form: the sender broke a MUST, but the
  // receiver has no duty to refuse it.
  const Bytes wire{0x82, 0x7E, 0x00, 0x05};
  FrameHeader h;
  auto r = decode_frame_header(wire, h);
  ASSERT_EQ(r.status, HeaderStatus::complete);
  EXPECT_EQ(h.payload_length, 5u);
}

TEST(FrameHeader, IncompleteUntilEveryHeaderByteArrived) {
  FrameHeader h;
  h.payload_length = 70000;
  h.masked = true;
  h.mask = {1, 2, 3, 4};
  h.opcode = 2;
  std::uint8_t out[14];
  const std::size_t n = encode_frame_header(out, h);
  ASSERT_EQ(n, 14u);
  for (std::size_t i = 0; i < n; ++i) {
    FrameHeader back;
    EXPECT_EQ(decode_frame_header({out, i}, back).status, HeaderStatus::incomplete) << i;
  }
  FrameHeader back;
  ASSERT_EQ(decode_frame_header({out, n}, back).status, HeaderStatus::complete);
  EXPECT_EQ(back.mask, h.mask);
  EXPECT_EQ(back.payload_length, 70000u);
}

TEST(FrameHeader, ReservedBitsAndOpcodeRoundTrip) {
  for (std::uint8_t rsv = 0; rsv < 8; ++rsv) {
    for (std::uint8_t op = 0; op < 16; ++op) {
      FrameHeader h;
      h.fin = (op & 1) != 0;
      h.rsv = rsv;
      h.opcode = op;
      std::uint8_t out[14];
      encode_frame_header(out, h);
      FrameHeader back;
      ASSERT_EQ(decode_frame_header({out, 2}, back).status, HeaderStatus::complete);
      EXPECT_EQ(back.rsv, rsv);
      EXPECT_EQ(back.opcode, op);
      EXPECT_EQ(back.fin, h.fin);
    }
  }
}

TEST(FrameHeader, OpcodeClassification) {
  for (std::uint8_t op = 0; op < 16; ++op) {
    const bool known = op == 0 || op == 1 || op == 2 || op == 8 || op == 9 || op == 10;
    EXPECT_EQ(protocol::is_known_opcode(op), known) << int(op);
    EXPECT_EQ(protocol::is_control_opcode(op), op >= 8) << int(op);
  }
}

}  // namespace
}  // namespace duplex::test
