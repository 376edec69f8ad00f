// The connection state machine, every RFC 6455 rule, in both roles.
#include "test_frames.hpp"

#include <gtest/gtest.h>

namespace duplex::test {
namespace {

using protocol::Connection;
using protocol::ConnectionOptions;
using protocol::ConnectionState;
using protocol::EventType;
using protocol::Role;

// Each test runs as the server (receiving masked frames) and as the client
// (receiving unmasked frames).
class ConnectionRules : public ::testing::TestWithParam<Role> {
 protected:
  Role role() const { return GetParam(); }
  bool peer_masks() const { return role() == Role::server; }

  Connection make(ConnectionOptions o = {}) {
    o.role = role();
    if (role() == Role::client) o.mask_source = &mask_;
    return Connection(o);
  }

  // A frame as the peer would send it.
  Bytes peer(Opcode op, std::string_view payload, bool fin = true, std::uint8_t rsv = 0) {
    return frame({.opcode = op, .fin = fin, .rsv = rsv, .masked = peer_masks()}, payload);
  }
  Bytes peer(Opcode op, const Bytes& payload, bool fin = true) {
    return frame({.opcode = op, .fin = fin, .masked = peer_masks()}, payload);
  }
  Bytes peer_raw_opcode(std::uint8_t op, std::string_view payload) {
    return frame({.masked = peer_masks(), .raw_opcode = op}, payload);
  }

  // Feeds `data`, expects exactly the given error as the last event, and a
  // close frame with `code` in the output.
  void expect_failure(Connection& c, Bytes data, ProtocolError error, CloseCode code) {
    auto events = feed(c, std::move(data));
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().type, EventType::error);
    EXPECT_EQ(events.back().error, error);
    EXPECT_EQ(events.back().code, code);
    EXPECT_EQ(c.state(), ConnectionState::failed);
    EXPECT_EQ(c.error(), error);
    EXPECT_TRUE(c.should_close_transport());
    auto frames = decode_all(drain(c));
    ASSERT_FALSE(frames.empty());
    const auto& close = frames.back();
    EXPECT_EQ(close.header.opcode, static_cast<std::uint8_t>(Opcode::close));
    EXPECT_EQ(close.header.masked, role() == Role::client);
    ASSERT_GE(close.payload.size(), 2u);
    EXPECT_EQ((static_cast<unsigned char>(close.payload[0]) << 8) |
                  static_cast<unsigned char>(close.payload[1]),
              static_cast<int>(code));
    EXPECT_EQ(close.payload.substr(2), make_error_code(error).message());
    // Nothing more is accepted or sent.
    EXPECT_TRUE(feed(c, peer(Opcode::text, "after")).empty());
    EXPECT_EQ(c.send_text("x"), UsageError::connection_closed);
    EXPECT_TRUE(c.output().empty());
  }

  void expect_failure(Bytes data, ProtocolError error, CloseCode code, ConnectionOptions o = {}) {
    Connection c = make(o);
    expect_failure(c, std::move(data), error, code);
  }

  FixedMask mask_{{0x37, 0xfa, 0x21, 0x3d}};
};

std::string role_name(const ::testing::TestParamInfo<Role>& param) {
  return param.param == Role::server ? "Server" : "Client";
}

INSTANTIATE_TEST_SUITE_P(BothRoles, ConnectionRules, ::testing::Values(Role::server, Role::client),
                         role_name);

// ------------------------------------------------------------ RFC examples

TEST_P(ConnectionRules, RfcSingleFrameHello) {
  Connection c = make();
  auto events = feed(c, peer(Opcode::text, "Hello"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::message);
  EXPECT_EQ(events[0].opcode, Opcode::text);
  EXPECT_EQ(events[0].payload, "Hello");
}

TEST_P(ConnectionRules, RfcFragmentedHelloInTwoFrames) {
  Connection c = make();
  auto events =
      feed(c, concat({peer(Opcode::text, "Hel", false), peer(Opcode::continuation, "lo")}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload, "Hello");
}

TEST_P(ConnectionRules, Rfc256ByteAnd64KiBBinary) {
  Connection c = make();
  Bytes small(256), big(65536);
  for (std::size_t i = 0; i < small.size(); ++i) small[i] = static_cast<std::uint8_t>(i);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 7);
  auto events = feed(c, concat({peer(Opcode::binary, small), peer(Opcode::binary, big)}));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].opcode, Opcode::binary);
  EXPECT_EQ(events[0].payload, str(small));
  EXPECT_EQ(events[1].payload, str(big));
}

TEST_P(ConnectionRules, OneFrameMessageIsAViewIntoTheInputUnmaskedInPlace) {
  Connection c = make();
  Bytes wire = peer(Opcode::binary, "zero-copy please");
  std::span<std::uint8_t> in(wire);
  auto e = c.receive(in);
  ASSERT_EQ(e.type, EventType::message);
  EXPECT_GE(e.payload.data(), wire.data());
  EXPECT_LE(e.payload.data() + e.payload.size(), wire.data() + wire.size());
  EXPECT_EQ(e.text(), "zero-copy please");
  EXPECT_TRUE(in.empty());
}

TEST_P(ConnectionRules, EmptyMessages) {
  Connection c = make();
  auto events = feed(c, concat({peer(Opcode::text, ""), peer(Opcode::binary, ""),
                                peer(Opcode::text, "", false), peer(Opcode::continuation, "")}));
  ASSERT_EQ(events.size(), 3u);
  for (const auto& e : events) {
    EXPECT_EQ(e.type, EventType::message);
    EXPECT_EQ(e.payload, "");
  }
}

// -------------------------------------------------------- fragmentation

TEST_P(ConnectionRules, ControlFramesInterleavedInAFragmentedMessage) {
  Connection c = make();
  auto events = feed(c, concat({peer(Opcode::binary, "one ", false), peer(Opcode::ping, "p1"),
                                peer(Opcode::continuation, "two ", false), peer(Opcode::pong, "p2"),
                                peer(Opcode::continuation, "three")}));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, EventType::ping);
  EXPECT_EQ(events[0].payload, "p1");
  EXPECT_EQ(events[1].type, EventType::pong);
  EXPECT_EQ(events[1].payload, "p2");
  EXPECT_EQ(events[2].type, EventType::message);
  EXPECT_EQ(events[2].opcode, Opcode::binary);
  EXPECT_EQ(events[2].payload, "one two three");
}

TEST_P(ConnectionRules, ControlFrameSplitAcrossReadsInsideAFragmentedMessage) {
  Connection c = make();
  Bytes wire = concat({peer(Opcode::text, "ab", false), peer(Opcode::ping, "ping-payload"),
                       peer(Opcode::continuation, "cd")});
  // Split inside the ping's payload so it lands in the control buffer.
  auto events = feed_split(c, wire, {3, 9, 4, 1});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].payload, "ping-payload");
  EXPECT_EQ(events[1].payload, "abcd");
}

TEST_P(ConnectionRules, TextSplitInsideACodePointAcrossFragments) {
  Connection c = make();
  // U+20AC EURO SIGN split 1+2 across fragments, and U+1F600 split 2+2.
  auto events = feed(c, concat({peer(Opcode::text, "\xE2", false),
                                peer(Opcode::continuation, "\x82\xAC\xF0\x9F", false),
                                peer(Opcode::continuation, "\x98\x80")}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload, "\xE2\x82\xAC\xF0\x9F\x98\x80");
}

TEST_P(ConnectionRules, ContinuationWithoutAStartIs1002) {
  expect_failure(peer(Opcode::continuation, "x"), ProtocolError::unexpected_continuation,
                 CloseCode::protocol_error);
}

TEST_P(ConnectionRules, NewMessageInsideAFragmentedOneIs1002) {
  expect_failure(concat({peer(Opcode::text, "a", false), peer(Opcode::text, "b")}),
                 ProtocolError::expected_continuation, CloseCode::protocol_error);
  expect_failure(concat({peer(Opcode::binary, "a", false), peer(Opcode::binary, "b", false)}),
                 ProtocolError::expected_continuation, CloseCode::protocol_error);
}

// -------------------------------------------------------- control frames

TEST_P(ConnectionRules, AutomaticPongWithThePingsPayload) {
  Connection c = make();
  auto events = feed(c, peer(Opcode::ping, "are you there?"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::ping);
  auto frames = decode_all(drain(c));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].header.opcode, static_cast<std::uint8_t>(Opcode::pong));
  EXPECT_EQ(frames[0].header.masked, role() == Role::client);
  EXPECT_EQ(frames[0].payload, "are you there?");
}

TEST_P(ConnectionRules, AutomaticPongCanBeTurnedOff) {
  Connection c = make({.auto_pong = false});
  auto events = feed(c, peer(Opcode::ping, "x"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(c.output().empty());
}

TEST_P(ConnectionRules, MaximalControlPayloadIsFine) {
  Connection c = make();
  const std::string p125(125, 'p');
  auto events = feed(c, peer(Opcode::ping, p125));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload, p125);
}

TEST_P(ConnectionRules, ControlFrameOver125BytesIs1002) {
  expect_failure(peer(Opcode::ping, std::string(126, 'p')), ProtocolError::control_frame_too_long,
                 CloseCode::protocol_error);
  expect_failure(peer(Opcode::close, std::string(126, 'c')), ProtocolError::control_frame_too_long,
                 CloseCode::protocol_error);
}

TEST_P(ConnectionRules, FragmentedControlFrameIs1002) {
  expect_failure(peer(Opcode::ping, "x", false), ProtocolError::fragmented_control_frame,
                 CloseCode::protocol_error);
  expect_failure(peer(Opcode::pong, "x", false), ProtocolError::fragmented_control_frame,
                 CloseCode::protocol_error);
}

// -------------------------------------------------------- reserved bits and opcodes

TEST_P(ConnectionRules, ReservedBitsWithoutAnExtensionAre1002) {
  for (std::uint8_t rsv : {protocol::rsv1_bit, protocol::rsv2_bit, protocol::rsv3_bit}) {
    expect_failure(peer(Opcode::text, "x", true, rsv), ProtocolError::reserved_bits_set,
                   CloseCode::protocol_error);
    expect_failure(peer(Opcode::ping, "x", true, rsv), ProtocolError::reserved_bits_set,
                   CloseCode::protocol_error);
  }
}

TEST_P(ConnectionRules, UnknownOpcodesAre1002) {
  for (std::uint8_t op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
    expect_failure(peer_raw_opcode(op, "x"), ProtocolError::unknown_opcode,
                   CloseCode::protocol_error);
  }
}

TEST_P(ConnectionRules, LengthWithTopBitSetIs1002) {
  Bytes wire{
      0x82, static_cast<std::uint8_t>((peer_masks() ? 0x80 : 0) | 127), 0x80, 0, 0, 0, 0, 0, 0, 1};
  if (peer_masks()) wire.insert(wire.end(), {1, 2, 3, 4});
  expect_failure(wire, ProtocolError::length_out_of_range, CloseCode::protocol_error);
}

TEST_P(ConnectionRules, MaskingRuleOfTheRole) {
  if (role() == Role::server) {
    expect_failure(frame({.opcode = Opcode::text, .masked = false}, "x"),
                   ProtocolError::unmasked_frame, CloseCode::protocol_error);
  } else {
    expect_failure(frame({.opcode = Opcode::text, .masked = true}, "x"),
                   ProtocolError::masked_frame, CloseCode::protocol_error);
  }
}

// -------------------------------------------------------- UTF-8

TEST_P(ConnectionRules, InvalidUtf8TextIs1007) {
  expect_failure(peer(Opcode::text, "bad \xFF text"), ProtocolError::invalid_utf8,
                 CloseCode::invalid_payload);
  expect_failure(peer(Opcode::text, "truncated \xE2\x82"), ProtocolError::invalid_utf8,
                 CloseCode::invalid_payload);
  expect_failure(concat({peer(Opcode::text, "ok", false), peer(Opcode::continuation, "\xC0\x80")}),
                 ProtocolError::invalid_utf8, CloseCode::invalid_payload);
  // Truncated at the end of a fragmented message.
  expect_failure(concat({peer(Opcode::text, "ok", false), peer(Opcode::continuation, "\xF0\x9F")}),
                 ProtocolError::invalid_utf8, CloseCode::invalid_payload);
}

TEST_P(ConnectionRules, BinaryIsNotUtf8Checked) {
  Connection c = make();
  auto events = feed(c, peer(Opcode::binary, "\xFF\xFE\xC0"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::message);
}

TEST_P(ConnectionRules, InvalidUtf8FailsBeforeTheMessageEnds) {
  // The first fragment is already impossible: fail without waiting for the rest.
  Connection c = make();
  auto events = feed(
      c, peer(Opcode::text, "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\xED\xA0\x80", false));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].error, ProtocolError::invalid_utf8);

  // Mid-frame: only the first bytes of a long frame have arrived.
  Connection d = make();
  Bytes wire = peer(Opcode::text, "\xFF" + std::string(1000, 'a'));
  wire.resize(wire.size() - 900);
  events = feed(d, wire);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].error, ProtocolError::invalid_utf8);
}

// -------------------------------------------------------- size limits

TEST_P(ConnectionRules, FrameOverTheMaximumIs1009) {
  expect_failure(peer(Opcode::binary, std::string(101, 'x')), ProtocolError::frame_too_big,
                 CloseCode::message_too_big, {.max_message_size = 1000, .max_frame_size = 100});
  // Refused from the header alone, before the payload arrives.
  Connection c = make({.max_frame_size = 100});
  Bytes wire = peer(Opcode::binary, std::string(5000, 'x'));
  wire.resize(14);
  auto events = feed(c, wire);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].error, ProtocolError::frame_too_big);
}

TEST_P(ConnectionRules, MessageOverTheMaximumIs1009) {
  ConnectionOptions o{.max_message_size = 10};
  Connection ok = make(o);
  auto events =
      feed(ok, concat({peer(Opcode::text, "12345", false), peer(Opcode::continuation, "67890")}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload, "1234567890");
  expect_failure(concat({peer(Opcode::text, "12345", false), peer(Opcode::continuation, "678901")}),
                 ProtocolError::message_too_big, CloseCode::message_too_big, o);
  expect_failure(peer(Opcode::binary, "12345678901"), ProtocolError::message_too_big,
                 CloseCode::message_too_big, o);
}

// -------------------------------------------------------- close handshake

TEST_P(ConnectionRules, PeerInitiatedCloseIsEchoed) {
  Connection c = make();
  auto events = feed(c, peer(Opcode::close, str(close_payload(1000, "bye"))));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::close);
  EXPECT_EQ(events[0].code, CloseCode::normal);
  EXPECT_EQ(events[0].payload, "bye");
  EXPECT_EQ(c.state(), ConnectionState::closed);
  EXPECT_EQ(c.peer_close_code(), CloseCode::normal);
  // The server closes the TCP connection first; the client waits for it.
  EXPECT_EQ(c.should_close_transport(), role() == Role::server);
  auto frames = decode_all(drain(c));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].header.opcode, static_cast<std::uint8_t>(Opcode::close));
  EXPECT_EQ(frames[0].payload, str(close_payload(1000)));
  // No data after close, either way.
  EXPECT_EQ(c.send_text("late"), UsageError::connection_closed);
  EXPECT_EQ(c.ping(), UsageError::connection_closed);
  EXPECT_EQ(c.close(), UsageError::connection_closed);
  EXPECT_TRUE(feed(c, peer(Opcode::text, "ignored")).empty());
  EXPECT_TRUE(c.output().empty());
}

TEST_P(ConnectionRules, EmptyCloseIsNoStatusAndAnsweredEmpty) {
  Connection c = make();
  auto events = feed(c, peer(Opcode::close, ""));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].code, CloseCode::no_status);
  auto frames = decode_all(drain(c));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, "");
}

TEST_P(ConnectionRules, LocallyInitiatedClose) {
  Connection c = make();
  ASSERT_FALSE(c.close(CloseCode::going_away, "shutting down"));
  EXPECT_EQ(c.state(), ConnectionState::closing);
  EXPECT_FALSE(c.should_close_transport());
  auto frames = decode_all(drain(c));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, str(close_payload(1001, "shutting down")));
  EXPECT_EQ(c.send_text("x"), UsageError::connection_closed);
  EXPECT_EQ(c.close(), UsageError::connection_closed);
  // Messages the peer sent before seeing our close are still delivered, and
  // its pings are not answered any more.
  auto events = feed(c, concat({peer(Opcode::text, "in flight"), peer(Opcode::ping, "p"),
                                peer(Opcode::close, str(close_payload(1001)))}));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].payload, "in flight");
  EXPECT_EQ(events[2].type, EventType::close);
  EXPECT_EQ(events[2].code, CloseCode::going_away);
  EXPECT_EQ(c.state(), ConnectionState::closed);
  EXPECT_EQ(c.should_close_transport(), role() == Role::server);
  EXPECT_TRUE(c.output().empty()) << "no pong and no second close";
}

TEST_P(ConnectionRules, CloseCodesOnTheWire) {
  for (std::uint32_t code = 0; code < 65536; ++code) {
    const bool valid = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                       (code >= 3000 && code <= 4999);
    Connection c = make();
    auto events =
        feed(c, peer(Opcode::close, str(close_payload(static_cast<std::uint16_t>(code)))));
    ASSERT_EQ(events.size(), 1u);
    if (valid) {
      ASSERT_EQ(events[0].type, EventType::close) << code;
      ASSERT_EQ(static_cast<std::uint32_t>(events[0].code), code);
    } else {
      ASSERT_EQ(events[0].type, EventType::error) << code;
      ASSERT_EQ(events[0].error, ProtocolError::invalid_close_code);
      ASSERT_EQ(events[0].code, CloseCode::protocol_error);
    }
  }
  for (std::uint16_t code : {1004, 1005, 1006, 1015, 999, 0, 1016, 2999, 5000}) {
    expect_failure(peer(Opcode::close, str(close_payload(code))), ProtocolError::invalid_close_code,
                   CloseCode::protocol_error);
  }
}

TEST_P(ConnectionRules, OneByteClosePayloadIs1002) {
  expect_failure(peer(Opcode::close, "\x03"), ProtocolError::invalid_close_payload,
                 CloseCode::protocol_error);
}

TEST_P(ConnectionRules, CloseReasonMustBeUtf8) {
  expect_failure(peer(Opcode::close, str(close_payload(1000, "\xFF\xFE"))),
                 ProtocolError::invalid_close_reason, CloseCode::invalid_payload);
  Connection c = make();
  auto events = feed(c, peer(Opcode::close, str(close_payload(1000, "\xCE\xBA\xE1\xBD\xB9"))));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::close);
}

TEST_P(ConnectionRules, CloseInsideAFragmentedMessageEndsIt) {
  Connection c = make();
  auto events = feed(
      c, concat({peer(Opcode::text, "part", false), peer(Opcode::close, str(close_payload(1000))),
                 peer(Opcode::continuation, "rest")}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::close);
}

// -------------------------------------------------------- sending

TEST_P(ConnectionRules, SendFramesFollowTheRoleMaskingRule) {
  Connection c = make();
  ASSERT_FALSE(c.send_text("Hello"));
  const Bytes out = drain(c);
  if (role() == Role::client) {
    EXPECT_EQ(out, (Bytes{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  } else {
    EXPECT_EQ(out, (Bytes{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  }
}

TEST_P(ConnectionRules, SendUsesMinimalLengthsForEverySize) {
  for (std::size_t n : {0u, 125u, 126u, 65535u, 65536u}) {
    Connection c = make();
    ASSERT_FALSE(c.send_binary(Bytes(n, 0x42)));
    auto frames = decode_all(drain(c));
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].payload.size(), n);
    EXPECT_EQ(frames[0].payload, std::string(n, 'B'));
  }
}

TEST_P(ConnectionRules, FragmentedSendSequence) {
  Connection c = make();
  EXPECT_EQ(c.send_fragment(Opcode::continuation, bytes("x"), true),
            UsageError::no_message_in_progress);
  ASSERT_FALSE(c.send_fragment(Opcode::text, bytes("He"), false));
  EXPECT_EQ(c.send_fragment(Opcode::binary, bytes("x"), true), UsageError::message_in_progress);
  EXPECT_EQ(c.send_text("x"), UsageError::message_in_progress);
  ASSERT_FALSE(c.ping(bytes("interleaved")));
  ASSERT_FALSE(c.send_fragment(Opcode::continuation, bytes("ll"), false));
  ASSERT_FALSE(c.send_fragment(Opcode::continuation, bytes("o"), true));
  ASSERT_FALSE(c.send_text("next"));
  auto frames = decode_all(drain(c));
  ASSERT_EQ(frames.size(), 5u);
  EXPECT_FALSE(frames[0].header.fin);
  EXPECT_EQ(frames[0].header.opcode, 1);
  EXPECT_EQ(frames[1].header.opcode, 9);
  EXPECT_EQ(frames[2].header.opcode, 0);
  EXPECT_FALSE(frames[2].header.fin);
  EXPECT_EQ(frames[3].header.opcode, 0);
  EXPECT_TRUE(frames[3].header.fin);
  EXPECT_EQ(frames[0].payload + frames[2].payload + frames[3].payload, "Hello");
  EXPECT_EQ(frames[4].payload, "next");
}

TEST_P(ConnectionRules, AutoFragmentation) {
  Connection c = make({.fragment_size = 10});
  ASSERT_FALSE(c.send_text(std::string(65, 'a')));
  auto frames = decode_all(drain(c));
  ASSERT_EQ(frames.size(), 7u);
  EXPECT_EQ(frames[0].header.opcode, 1);
  for (std::size_t i = 1; i < 7; ++i) EXPECT_EQ(frames[i].header.opcode, 0);
  for (std::size_t i = 0; i < 6; ++i) EXPECT_FALSE(frames[i].header.fin);
  EXPECT_TRUE(frames[6].header.fin);
  EXPECT_EQ(frames[6].payload.size(), 5u);
}

TEST_P(ConnectionRules, SendArgumentChecks) {
  Connection c = make();
  EXPECT_EQ(c.ping(Bytes(126, 1)), UsageError::control_payload_too_long);
  EXPECT_EQ(c.pong(Bytes(126, 1)), UsageError::control_payload_too_long);
  EXPECT_EQ(c.send(Opcode::ping, bytes("x")), UsageError::invalid_opcode);
  EXPECT_EQ(c.send(Opcode::ping, bytes("x")), Condition::invalid_argument);
  EXPECT_EQ(c.close(static_cast<CloseCode>(1004)), UsageError::invalid_close_code);
  EXPECT_EQ(c.close(static_cast<CloseCode>(999)), UsageError::invalid_close_code);
  EXPECT_EQ(c.close(CloseCode::abnormal), UsageError::invalid_close_code);
  EXPECT_EQ(c.close(CloseCode::normal, std::string(124, 'r')),
            UsageError::control_payload_too_long);
  EXPECT_EQ(c.close(CloseCode::normal, "\xFF"), UsageError::invalid_close_reason);
  EXPECT_EQ(c.close(CloseCode::no_status, "reason without code"), UsageError::invalid_close_code);
  EXPECT_TRUE(c.output().empty());
  EXPECT_FALSE(c.close(CloseCode::normal, std::string(123, 'r')));
}

TEST_P(ConnectionRules, CloseWithoutStatusSendsAnEmptyPayload) {
  Connection c = make();
  ASSERT_FALSE(c.close(CloseCode::no_status));
  auto frames = decode_all(drain(c));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, "");
}

// -------------------------------------------------------- both ends together

TEST(ConnectionPair, ClientAndServerTalkThroughTheirOutputs) {
  Connection server({.role = Role::server});
  Connection client({.role = Role::client});
  const std::vector<std::size_t> sizes{0, 1, 125, 126, 127, 65535, 65536, 200000};
  for (std::size_t n : sizes) {
    Bytes payload(n);
    for (std::size_t i = 0; i < n; ++i) payload[i] = static_cast<std::uint8_t>(i * 31 + 7);
    ASSERT_FALSE(client.send_binary(payload));
    auto at_server = feed(server, drain(client));
    ASSERT_EQ(at_server.size(), 1u);
    ASSERT_EQ(at_server[0].payload, str(payload));
    ASSERT_FALSE(server.send_binary(bytes(at_server[0].payload)));
    auto at_client = feed(client, drain(server));
    ASSERT_EQ(at_client.size(), 1u);
    ASSERT_EQ(at_client[0].payload, str(payload));
  }
  // Close handshake end to end.
  ASSERT_FALSE(client.close(CloseCode::normal, "done"));
  auto e1 = feed(server, drain(client));
  ASSERT_EQ(e1.size(), 1u);
  EXPECT_EQ(e1[0].payload, "done");
  EXPECT_TRUE(server.should_close_transport());
  auto e2 = feed(client, drain(server));
  ASSERT_EQ(e2.size(), 1u);
  EXPECT_EQ(e2[0].code, CloseCode::normal);
  EXPECT_EQ(client.state(), ConnectionState::closed);
  EXPECT_FALSE(client.should_close_transport());
}

}  // namespace
}  // namespace duplex::test
