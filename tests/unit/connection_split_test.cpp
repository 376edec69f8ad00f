// Property: however a byte stream is cut into reads, the connection produces
// the same events and the same output as when it arrives whole.
#include "test_frames.hpp"

#include <gtest/gtest.h>

#include <random>

namespace duplex::test {
namespace {

using protocol::Connection;
using protocol::ConnectionOptions;
using protocol::Role;

struct Generator {
  std::mt19937& rng;
  bool masked;

  std::size_t size() {
    switch (rng() % 6) {
      case 0: return 0;
      case 1: return 1 + rng() % 10;
      case 2: return 120 + rng() % 10;    // around the 7-bit / 16-bit edge
      case 3: return 65530 + rng() % 10;  // around the 16-bit / 64-bit edge
      default: return rng() % 700;
    }
  }
  std::string text(std::size_t n) {
    static const char* pieces[] = {"a", "Z", " ", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"};
    std::string s;
    while (s.size() < n) s += pieces[rng() % 6];
    return s;
  }
  protocol::MaskKey key() {
    return {static_cast<std::uint8_t>(rng()), static_cast<std::uint8_t>(rng()),
            static_cast<std::uint8_t>(rng()), static_cast<std::uint8_t>(rng())};
  }
  Bytes f(Opcode op, std::string_view payload, bool fin = true, std::uint8_t rsv = 0) {
    return frame({.opcode = op, .fin = fin, .rsv = rsv, .masked = masked, .mask = key()}, payload);
  }

  // A message, maybe fragmented, maybe with control frames inside.
  Bytes message() {
    const bool is_text = rng() % 2;
    const std::string payload =
        is_text ? text(size()) : std::string(size(), static_cast<char>(rng()));
    const std::size_t pieces = 1 + rng() % 4;
    Bytes out;
    std::size_t at = 0;
    for (std::size_t i = 0; i < pieces; ++i) {
      const bool last = i + 1 == pieces;
      // Cut anywhere, even inside a code point: validation spans fragments.
      const std::size_t n = last ? payload.size() - at
                                 : std::min(payload.size() - at,
                                            static_cast<std::size_t>(rng() % (payload.size() + 1)));
      const Opcode op = i == 0 ? (is_text ? Opcode::text : Opcode::binary) : Opcode::continuation;
      const Bytes fr = f(op, std::string_view(payload).substr(at, n), last);
      out.insert(out.end(), fr.begin(), fr.end());
      at += n;
      if (!last && rng() % 3 == 0) {
        const Bytes ping = f(rng() % 2 ? Opcode::ping : Opcode::pong, text(rng() % 40));
        out.insert(out.end(), ping.begin(), ping.end());
      }
    }
    return out;
  }

  // Something that ends the stream: a close, or one of many protocol errors.
  Bytes ending() {
    switch (rng() % 8) {
      case 0: return f(Opcode::close, str(close_payload(1000, "bye")));
      case 1: return f(Opcode::text, "bad \xFF");
      case 2: return f(Opcode::binary, "x", true, protocol::rsv2_bit);
      case 3: return f(Opcode::continuation, "x");
      case 4: return f(Opcode::close, str(close_payload(1005)));
      case 5: return frame({.masked = masked, .raw_opcode = 5}, "x");
      case 6: return f(Opcode::ping, std::string(126, 'x'));
      default: return Bytes{};  // just ends
    }
  }
};

class SplitProperty : public ::testing::TestWithParam<Role> {};

std::string role_name(const ::testing::TestParamInfo<Role>& param) {
  return param.param == Role::server ? "Server" : "Client";
}

INSTANTIATE_TEST_SUITE_P(BothRoles, SplitProperty, ::testing::Values(Role::server, Role::client),
                         role_name);

struct Outcome {
  std::vector<OwnedEvent> events;
  Bytes output;
};

TEST_P(SplitProperty, AnySplitGivesTheSameEventsAsWhole) {
  std::mt19937 rng(20261121);
  FixedMask mask({9, 8, 7, 6});
  const ConnectionOptions options{
      .role = GetParam(), .max_message_size = 1 << 20, .mask_source = &mask};
  for (int trial = 0; trial < 150; ++trial) {
    Generator gen{rng, GetParam() == Role::server};
    Bytes stream;
    const int messages = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < messages; ++i) {
      const Bytes m = gen.message();
      stream.insert(stream.end(), m.begin(), m.end());
    }
    const Bytes end = gen.ending();
    stream.insert(stream.end(), end.begin(), end.end());

    auto run = [&](const std::vector<std::size_t>& sizes) {
      Connection c(options);
      Outcome o;
      o.events = feed_split(c, stream, sizes);
      o.output = drain(c);
      return o;
    };
    const Outcome whole = run({});
    ASSERT_FALSE(whole.events.empty());

    std::vector<std::size_t> one_by_one(stream.size(), 1);
    const Outcome bytes = run(one_by_one);
    ASSERT_EQ(bytes.events, whole.events) << "trial " << trial;
    ASSERT_EQ(bytes.output, whole.output) << "trial " << trial;

    for (int cut = 0; cut < 4; ++cut) {
      std::vector<std::size_t> sizes;
      for (std::size_t total = 0; total < stream.size();) {
        const std::size_t n = rng() % 3 == 0 ? rng() % 4 : rng() % 3000;
        sizes.push_back(n);
        total += n;
      }
      const Outcome random = run(sizes);
      ASSERT_EQ(random.events, whole.events) << "trial " << trial;
      ASSERT_EQ(random.output, whole.output) << "trial " << trial;
    }
  }
}

}  // namespace
}  // namespace duplex::test
