// permessage-deflate (RFC 7692): negotiation in both roles, the codec, and
// the size limit on inflation.
#include "test_frames.hpp"

#include "protocol/deflate_codec.hpp"

#include <gtest/gtest.h>

#include <zlib.h>

#include <random>

namespace duplex::test {
namespace {

using namespace protocol;

std::vector<Extension> offers(std::string_view header) {
  std::vector<Extension> out;
  EXPECT_FALSE(parse_extension_list(header, out)) << header;
  return out;
}

DeflateOptions enabled() {
  DeflateOptions o;
  o.enabled = true;
  return o;
}

TEST(DeflateNegotiation, DefaultsAskForNoContextTakeoverBothWays) {
  std::string response;
  const auto agreed = negotiate_deflate(offers("permessage-deflate"), enabled(), response);
  ASSERT_TRUE(agreed);
  EXPECT_EQ(response, "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  EXPECT_TRUE(agreed->server_no_context_takeover);
  EXPECT_TRUE(agreed->client_no_context_takeover);
}

TEST(DeflateNegotiation, ContextTakeoverWhenConfiguredAndNotRefused) {
  DeflateOptions o = enabled();
  o.server_context_takeover = o.client_context_takeover = true;
  std::string response;
  auto agreed = negotiate_deflate(offers("permessage-deflate"), o, response);
  ASSERT_TRUE(agreed);
  EXPECT_EQ(response, "permessage-deflate");
  EXPECT_FALSE(agreed->server_no_context_takeover);
  // The client's wishes still bind us.
  agreed = negotiate_deflate(offers("permessage-deflate; server_no_context_takeover"), o, response);
  ASSERT_TRUE(agreed);
  EXPECT_TRUE(agreed->server_no_context_takeover);
  EXPECT_EQ(response, "permessage-deflate; server_no_context_takeover");
}

TEST(DeflateNegotiation, WindowBits) {
  std::string response;
  auto agreed = negotiate_deflate(offers("permessage-deflate; server_max_window_bits=10"),
                                  enabled(), response);
  ASSERT_TRUE(agreed);
  EXPECT_EQ(agreed->server_max_window_bits, 10);
  EXPECT_NE(response.find("server_max_window_bits=10"), std::string::npos);

  DeflateOptions small = enabled();
  small.server_max_window_bits = 11;
  small.client_max_window_bits = 12;
  agreed = negotiate_deflate(
      offers("permessage-deflate; server_max_window_bits=13; client_max_window_bits"), small,
      response);
  ASSERT_TRUE(agreed);
  EXPECT_EQ(agreed->server_max_window_bits, 11);
  EXPECT_EQ(agreed->client_max_window_bits, 12);
  EXPECT_NE(response.find("server_max_window_bits=11"), std::string::npos);
  EXPECT_NE(response.find("client_max_window_bits=12"), std::string::npos);

  // Without client_max_window_bits in the offer we may not limit the client.
  agreed = negotiate_deflate(offers("permessage-deflate"), small, response);
  ASSERT_TRUE(agreed);
  EXPECT_EQ(response.find("client_max_window_bits"), std::string::npos);
  EXPECT_NE(response.find("server_max_window_bits=11"), std::string::npos) << "a server may add it";
}

TEST(DeflateNegotiation, OffersWeCannotHonourOrThatBreakTheGrammarAreDeclined) {
  std::string response;
  for (std::string_view bad : {
           "permessage-deflate; server_max_window_bits=8",  // zlib has no 256-byte window
           "permessage-deflate; server_max_window_bits",    // needs a value
           "permessage-deflate; server_max_window_bits=16",
           "permessage-deflate; server_max_window_bits=09",
           "permessage-deflate; client_max_window_bits=7",
           "permessage-deflate; server_no_context_takeover=1",
           "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
           "permessage-deflate; unknown_parameter",
           "x-webkit-deflate-frame",
       }) {
    EXPECT_FALSE(negotiate_deflate(offers(bad), enabled(), response)) << bad;
  }
  // The first acceptable offer wins.
  const auto agreed = negotiate_deflate(offers("permessage-deflate; server_max_window_bits=8, "
                                               "permessage-deflate; server_max_window_bits=12"),
                                        enabled(), response);
  ASSERT_TRUE(agreed);
  EXPECT_EQ(agreed->server_max_window_bits, 12);
}

std::string formatted(const std::vector<Extension>& offers) {
  std::string s;
  for (const Extension& e : offers) s += (s.empty() ? "" : ", ") + format_extension(e);
  return s;
}

TEST(DeflateNegotiation, ClientOfferAndResponseChecks) {
  DeflateOptions o = enabled();
  EXPECT_EQ(formatted(deflate_offers(o)),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover, "
            "permessage-deflate; client_no_context_takeover; client_max_window_bits");
  DeflateParams agreed;
  std::string why;
  const auto response = [](std::string_view h) { return offers(h).front(); };
  EXPECT_FALSE(accept_deflate_response(response("permessage-deflate; server_no_context_takeover"),
                                       o, agreed));
  EXPECT_TRUE(agreed.server_no_context_takeover);
  EXPECT_TRUE(agreed.client_no_context_takeover)
      << "we offered not to keep context: we keep our word";
  DeflateOptions keeps = o;
  keeps.client_context_takeover = true;
  EXPECT_FALSE(accept_deflate_response(response("permessage-deflate"), keeps, agreed));
  EXPECT_FALSE(agreed.client_no_context_takeover);
  EXPECT_FALSE(
      accept_deflate_response(response("permessage-deflate; server_max_window_bits=9"), o, agreed));
  EXPECT_EQ(agreed.server_max_window_bits, 9);
  // The second offer named client_max_window_bits without a value: the
  // server picks our window (not 8, which zlib cannot compress with), and
  // may keep its own context.
  EXPECT_FALSE(accept_deflate_response(response("permessage-deflate; client_max_window_bits=10"), o,
                                       agreed));
  EXPECT_EQ(agreed.client_max_window_bits, 10);
  EXPECT_FALSE(agreed.server_no_context_takeover);
  EXPECT_TRUE(agreed.client_no_context_takeover);
  EXPECT_EQ(
      accept_deflate_response(response("permessage-deflate; client_max_window_bits=8"), o, agreed),
      HandshakeError::invalid_extension_response);
  EXPECT_EQ(accept_deflate_response(response("permessage-deflate; client_max_window_bits"), o,
                                    agreed, &why),
            HandshakeError::invalid_extension_response);
  EXPECT_EQ(why, "client_max_window_bits needs a value");
  // An unknown parameter: refused.
  EXPECT_EQ(accept_deflate_response(response("permessage-deflate; foo"), o, agreed),
            HandshakeError::invalid_extension_response);
  // Offered with a value: the server may go lower, not higher, and not to 8.
  o.client_max_window_bits = 12;
  o.server_max_window_bits = 10;
  EXPECT_EQ(formatted(deflate_offers(o)),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "server_max_window_bits=10; client_max_window_bits=12, "
            "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; "
            "client_max_window_bits=12");
  // Asking for nothing the server could decline: one offer.
  DeflateOptions plain = enabled();
  plain.server_context_takeover = plain.client_context_takeover = true;
  plain.client_max_window_bits = 11;
  EXPECT_EQ(formatted(deflate_offers(plain)), "permessage-deflate; client_max_window_bits=11");
  EXPECT_FALSE(accept_deflate_response(response("permessage-deflate; client_max_window_bits=11"), o,
                                       agreed));
  EXPECT_EQ(agreed.client_max_window_bits, 11);
  EXPECT_EQ(
      accept_deflate_response(response("permessage-deflate; client_max_window_bits=13"), o, agreed),
      HandshakeError::invalid_extension_response);
  EXPECT_EQ(
      accept_deflate_response(response("permessage-deflate; client_max_window_bits=8"), o, agreed),
      HandshakeError::invalid_extension_response);
  EXPECT_EQ(
      accept_deflate_response(response("permessage-deflate; server_max_window_bits=11"), o, agreed),
      HandshakeError::invalid_extension_response);
}

// ------------------------------------------------------------------ codec

std::string random_text(std::size_t n, std::mt19937& rng) {
  static const char* words[] = {"alpha ", "beta ", "gamma ", "delta ", "{\"id\":", "42,", "\"x\"}"};
  std::string s;
  while (s.size() < n) s += words[rng() % 7];
  s.resize(n);
  return s;
}

void round_trip(const DeflateParams& params, DeflateOptions options, int messages) {
  options.enabled = true;
  DeflateCodec server(Role::server, params, options);
  DeflateCodec client(Role::client, params, options);
  Connection srv({.role = Role::server, .transform = &server});
  Connection cli({.role = Role::client, .transform = &client});
  std::mt19937 rng(5);
  for (int i = 0; i < messages; ++i) {
    const std::size_t n = i % 3 == 0 ? rng() % 100000 : rng() % 2000;
    const std::string text = random_text(n, rng);
    ASSERT_FALSE(cli.send_text(text));
    auto at_server = feed_split(srv, drain(cli), {static_cast<std::size_t>(rng() % 500 + 1)});
    ASSERT_EQ(at_server.size(), 1u);
    ASSERT_EQ(at_server[0].payload, text);
    ASSERT_FALSE(srv.send_text(text));
    auto at_client = feed(cli, drain(srv));
    ASSERT_EQ(at_client.size(), 1u);
    ASSERT_EQ(at_client[0].payload, text);
  }
}

TEST(DeflateCodec, RoundTripsWithEveryContextMode) {
  for (bool server_reset : {false, true}) {
    for (bool client_reset : {false, true}) {
      DeflateParams p;
      p.server_no_context_takeover = server_reset;
      p.client_no_context_takeover = client_reset;
      round_trip(p, {}, 30);
    }
  }
}

TEST(DeflateCodec, RoundTripsWithSmallWindows) {
  for (int bits : {9, 10, 12, 15}) {
    DeflateParams p;
    p.server_max_window_bits = p.client_max_window_bits = bits;
    round_trip(p, {}, 10);
  }
}

TEST(DeflateCodec, CompressesOnlyAboveTheThresholdAndSetsRsv1OnTheFirstFrame) {
  DeflateOptions o;
  o.enabled = true;
  o.threshold = 100;
  DeflateCodec codec(Role::server, {}, o);
  Connection c({.role = Role::server, .fragment_size = 200, .transform = &codec});
  std::mt19937 rng(3);
  const std::string text = random_text(20000, rng);
  ASSERT_FALSE(c.send_text(std::string(99, 'a')));
  ASSERT_FALSE(c.send_text(text));
  const Bytes wire = drain(c);
  auto frames = decode_all(wire);
  ASSERT_GE(frames.size(), 3u) << "the compressed message spans several frames";
  EXPECT_EQ(frames[0].header.rsv, 0) << "under the threshold";
  EXPECT_EQ(frames[0].payload, std::string(99, 'a'));
  EXPECT_EQ(frames[1].header.rsv, rsv1_bit);
  for (std::size_t i = 2; i < frames.size(); ++i) EXPECT_EQ(frames[i].header.rsv, 0) << i;
  // And a peer decodes both.
  DeflateCodec peer(Role::client, {}, o);
  Connection client({.role = Role::client, .transform = &peer});
  auto events = feed(client, wire);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].payload, text);
}

TEST(DeflateCodec, BombIsStoppedAtTheLimitWith1009) {
  // 10 MiB of zeros compress to about 10 KiB.
  std::string zeros(10 << 20, '\0');
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY);
  std::string compressed(compressBound(zeros.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(zeros.data());
  z.avail_in = static_cast<uInt>(zeros.size());
  z.next_out = reinterpret_cast<Bytef*>(compressed.data());
  z.avail_out = static_cast<uInt>(compressed.size());
  deflate(&z, Z_SYNC_FLUSH);
  compressed.resize(compressed.size() - z.avail_out - 4);
  deflateEnd(&z);
  ASSERT_LT(compressed.size(), 64u * 1024);

  DeflateOptions o;
  o.enabled = true;
  DeflateCodec codec(Role::server, {}, o);
  Connection c({.role = Role::server, .max_message_size = 1 << 20, .transform = &codec});
  auto events =
      feed(c, frame({.opcode = Opcode::binary, .rsv = rsv1_bit, .masked = true}, compressed));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].error, ProtocolError::message_too_big);
  EXPECT_EQ(events[0].code, CloseCode::message_too_big);
}

TEST(DeflateCodec, GarbageIs1007) {
  DeflateOptions o;
  o.enabled = true;
  DeflateCodec codec(Role::server, {}, o);
  Connection c({.role = Role::server, .transform = &codec});
  auto events = feed(c, frame({.opcode = Opcode::text, .rsv = rsv1_bit, .masked = true},
                              "\xff\xff\xff\xff garbage"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].error, ProtocolError::invalid_compressed_data);
  EXPECT_EQ(events[0].code, CloseCode::invalid_payload);
}

TEST(DeflateCodec, FragmentedCompressedMessageInterleavedWithAnotherConnection) {
  // Two connections share the thread's decompressor for whole messages; a
  // message that arrives in pieces must not be disturbed by the other.
  DeflateOptions o;
  o.enabled = true;
  DeflateParams p;
  p.server_no_context_takeover = p.client_no_context_takeover = true;
  DeflateCodec sa(Role::server, p, o), sb(Role::server, p, o), ca(Role::client, p, o),
      cb(Role::client, p, o);
  Connection a({.role = Role::server, .transform = &sa}),
      b({.role = Role::server, .transform = &sb});
  Connection to_a({.role = Role::client, .transform = &ca}),
      to_b({.role = Role::client, .transform = &cb});
  std::mt19937 rng(9);
  const std::string long_text = random_text(200000, rng);
  ASSERT_FALSE(to_a.send_text(long_text));
  Bytes wire_a = drain(to_a);
  // Half of a's message, then a whole message on b, then the rest of a's.
  const std::size_t half = wire_a.size() / 2;
  auto first = feed(a, Bytes(wire_a.begin(), wire_a.begin() + static_cast<std::ptrdiff_t>(half)));
  EXPECT_TRUE(first.empty());
  ASSERT_FALSE(to_b.send_text(random_text(5000, rng)));
  auto on_b = feed(b, drain(to_b));
  ASSERT_EQ(on_b.size(), 1u);
  auto rest = feed(a, Bytes(wire_a.begin() + static_cast<std::ptrdiff_t>(half), wire_a.end()));
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].payload, long_text);
}

}  // namespace
}  // namespace duplex::test
