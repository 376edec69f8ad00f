// The per-message extension hook (what permessage-deflate plugs into): RSV1
// is allowed once a transform is negotiated, messages are decoded through it
// with the size limit applied to the decoded size, and sends can encode.
#include "test_frames.hpp"

#include <gtest/gtest.h>

namespace duplex::test {
namespace {

using protocol::ByteBuffer;
using protocol::Connection;
using protocol::EventType;
using protocol::Role;

// Encodes by doubling every byte; decoding takes every other byte and
// refuses pairs that differ. Messages under 4 bytes go out unencoded.
class DoublingTransform final : public protocol::MessageTransform {
 public:
  std::error_code decode(std::span<const std::uint8_t> in, bool last, ByteBuffer& out,
                         std::size_t limit) override {
    for (std::uint8_t b : in) {
      if (!pending_) {
        pending_ = b;
        continue;
      }
      if (*pending_ != b) return ProtocolError::invalid_compressed_data;
      if (out.size() + 1 > limit) return ProtocolError::message_too_big;
      out.append(std::span<const std::uint8_t>(&b, 1));
      pending_.reset();
    }
    if (last && pending_) return ProtocolError::invalid_compressed_data;
    return {};
  }
  bool encode(std::span<const std::uint8_t> in, ByteBuffer& out) override {
    if (in.size() < 4) return false;
    for (std::uint8_t b : in) {
      std::uint8_t two[2] = {b, b};
      out.append(two);
    }
    return true;
  }

 private:
  std::optional<std::uint8_t> pending_;
};

Bytes masked(Opcode op, std::string_view payload, bool fin = true, std::uint8_t rsv = 0) {
  return frame({.opcode = op, .fin = fin, .rsv = rsv, .masked = true}, payload);
}

TEST(Transform, EncodedMessagesAreDecoded) {
  DoublingTransform t;
  Connection c({.role = Role::server, .transform = &t});
  auto events =
      feed_split(c,
                 concat({masked(Opcode::text, "hheell", false, protocol::rsv1_bit),
                         masked(Opcode::continuation, "lloo"), masked(Opcode::binary, "raw")}),
                 {5, 3, 1});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].payload, "hello");
  EXPECT_EQ(events[1].payload, "raw") << "a message without RSV1 skips the transform";
}

TEST(Transform, Rsv1OnAContinuationIs1002) {
  DoublingTransform t;
  Connection c({.role = Role::server, .transform = &t});
  auto events = feed(c, concat({masked(Opcode::text, "aa", false, protocol::rsv1_bit),
                                masked(Opcode::continuation, "bb", true, protocol::rsv1_bit)}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].error, ProtocolError::reserved_bits_set);
  EXPECT_EQ(events[0].code, CloseCode::protocol_error);
}

TEST(Transform, OtherReservedBitsStillFail) {
  DoublingTransform t;
  Connection c({.role = Role::server, .transform = &t});
  auto events = feed(c, masked(Opcode::text, "aa", true, protocol::rsv1_bit | protocol::rsv2_bit));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].error, ProtocolError::reserved_bits_set);
  Connection d({.role = Role::server, .transform = &t});
  events = feed(d, masked(Opcode::ping, "", true, protocol::rsv1_bit));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].error, ProtocolError::reserved_bits_set) << "control frames never carry RSV1";
}

TEST(Transform, UndecodableIs1007AndDecodedTextIsChecked) {
  DoublingTransform t1;
  Connection c({.role = Role::server, .transform = &t1});
  auto events = feed(c, masked(Opcode::binary, "ab", true, protocol::rsv1_bit));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].error, ProtocolError::invalid_compressed_data);
  EXPECT_EQ(events[0].code, CloseCode::invalid_payload);

  DoublingTransform t2;
  Connection d({.role = Role::server, .transform = &t2});
  events = feed(d, masked(Opcode::text, "\xFF\xFF", true, protocol::rsv1_bit));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].error, ProtocolError::invalid_utf8);
}

TEST(Transform, DecodedSizeLimitIs1009) {
  DoublingTransform t;
  Connection c({.role = Role::server, .max_message_size = 3, .transform = &t});
  auto events = feed(c, masked(Opcode::binary, "aabbccdd", true, protocol::rsv1_bit));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].error, ProtocolError::message_too_big);
  EXPECT_EQ(events[0].code, CloseCode::message_too_big);
}

TEST(Transform, SendsEncodeWithRsv1OnTheFirstFrameOnly) {
  DoublingTransform t;
  Connection c({.role = Role::server, .fragment_size = 4, .transform = &t});
  ASSERT_FALSE(c.send_text("hello"));
  ASSERT_FALSE(c.send_text("abc"));
  auto frames = decode_all(drain(c));
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[0].header.rsv, protocol::rsv1_bit);
  EXPECT_EQ(frames[0].payload + frames[1].payload + frames[2].payload, "hheelllloo");
  EXPECT_EQ(frames[1].header.rsv, 0);
  EXPECT_EQ(frames[2].header.rsv, 0);
  EXPECT_EQ(frames[3].header.rsv, 0) << "too small to encode";
  EXPECT_EQ(frames[3].payload, "abc");
}

}  // namespace
}  // namespace duplex::test
