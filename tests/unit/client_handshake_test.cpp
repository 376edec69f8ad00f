// The client's side of the opening handshake (RFC 6455 section 4.1), with no
// sockets: the request it writes, and every rule it applies to the answer.
#include "test_frames.hpp"

#include <duplex/error.hpp>
#include <duplex/protocol/client_handshake.hpp>
#include <duplex/protocol/handshake_keys.hpp>
#include <duplex/protocol/permessage_deflate.hpp>
#include <duplex/protocol/server_handshake.hpp>

#include <gtest/gtest.h>

#include <set>

namespace duplex::test {
namespace {

using namespace protocol;

std::string drained(OutputQueue& q) {
  std::string out;
  q.drain_to(out);
  return out;
}

std::span<std::uint8_t> span_of(std::string& s) {
  return {reinterpret_cast<std::uint8_t*>(s.data()), s.size()};
}

struct ClientHandshakeTest : ::testing::Test {
  std::vector<std::string> protocols{"chat", "superchat"};
  PerMessageDeflate deflate{DeflateOptions{.enabled = true}};
  std::vector<const PerMessageExtension*> extensions{&deflate};
  ClientHandshake client;
  OutputQueue out;
  std::string request;

  void SetUp() override {
    ASSERT_FALSE(client.start({.host = "example.com:9002",
                               .target = "/chat?x=1",
                               .subprotocols = protocols,
                               .origin = "http://example.com",
                               .extensions = extensions},
                              out));
    request = drained(out);
  }

  static std::string response(std::initializer_list<std::string_view> lines,
                              std::string_view status = "HTTP/1.1 101 Switching Protocols") {
    std::string r(status);
    r += "\r\n";
    for (auto l : lines) {
      r += l;
      r += "\r\n";
    }
    r += "\r\n";
    return r;
  }
  std::string accept_line() const {
    return "Sec-WebSocket-Accept: " + compute_accept_key(client.key());
  }
  // Feeds a whole answer to a fresh copy of the handshake state: each test
  // line is judged on its own.
  HandshakeEvent answer(std::string wire) {
    std::span<std::uint8_t> in = span_of(wire);
    return client.receive(in);
  }
  std::error_code failure(std::string wire) {
    ClientHandshake fresh;
    OutputQueue q;
    EXPECT_FALSE(
        fresh.start({.host = "h", .subprotocols = protocols, .extensions = extensions}, q));
    // Swap in the accept key of this handshake.
    const std::string ours = "Sec-WebSocket-Accept: " + compute_accept_key(fresh.key());
    const std::string theirs = accept_line();
    for (std::size_t at = wire.find(theirs); at != std::string::npos; at = wire.find(theirs)) {
      wire.replace(at, theirs.size(), ours);
    }
    std::span<std::uint8_t> in = span_of(wire);
    const HandshakeEvent e = fresh.receive(in);
    if (e == HandshakeEvent::opened) return {};
    EXPECT_EQ(e, HandshakeEvent::failed);
    return fresh.error();
  }
};

TEST_F(ClientHandshakeTest, RequestIsAValidUpgrade) {
  ServerPolicy policy;
  ServerHandshake server(policy);
  OutputQueue answer_out;
  std::span<std::uint8_t> in = span_of(request);
  ASSERT_EQ(server.receive(in, answer_out), HandshakeEvent::upgrade_request);
  const UpgradeRequest& r = server.upgrade();
  EXPECT_EQ(r.head.target, "/chat?x=1");
  EXPECT_EQ(r.host, "example.com:9002");
  EXPECT_EQ(r.origin, "http://example.com");
  EXPECT_EQ(r.key, client.key());
  ASSERT_EQ(r.subprotocols.size(), 2u);
  // The preferred offer, then the one browsers make.
  ASSERT_EQ(r.extensions.size(), 2u);
  EXPECT_EQ(r.extensions[0].name, "permessage-deflate");
}

TEST_F(ClientHandshakeTest, EveryRequestGetsAFreshRandomKey) {
  std::set<std::string> keys;
  for (int i = 0; i < 100; ++i) {
    ClientHandshake c;
    OutputQueue q;
    ASSERT_FALSE(c.start({.host = "h"}, q));
    EXPECT_TRUE(is_valid_client_key(c.key()));
    keys.insert(c.key());
  }
  EXPECT_EQ(keys.size(), 100u);
}

TEST_F(ClientHandshakeTest, RoundTripWithOurServerSide) {
  ServerPolicy policy;
  ServerHandshake server(policy);
  OutputQueue server_out;
  std::span<std::uint8_t> in = span_of(request);
  ASSERT_EQ(server.receive(in, server_out), HandshakeEvent::upgrade_request);
  Agreement server_agreed;
  ASSERT_FALSE(server.accept({.subprotocol = "superchat", .extensions = extensions}, server_out,
                             server_agreed));
  ASSERT_EQ(answer(drained(server_out)), HandshakeEvent::opened);
  EXPECT_EQ(client.agreement().subprotocol, "superchat");
  EXPECT_EQ(client.agreement().extensions, server_agreed.extensions);
  EXPECT_NE(client.agreement().transform, nullptr);
}

TEST_F(ClientHandshakeTest, BytesAfterTheResponseAreFrameData) {
  std::string wire = response({"Upgrade: websocket", "Connection: Upgrade", accept_line()});
  const Bytes f = frame({.opcode = Opcode::text}, "first message");
  wire.append(f.begin(), f.end());
  std::span<std::uint8_t> in = span_of(wire);
  ASSERT_EQ(client.receive(in), HandshakeEvent::opened);
  Connection conn({.role = Role::client});
  auto events = feed(conn, Bytes(in.begin(), in.end()));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload, "first message");
}

TEST_F(ClientHandshakeTest, AResponseInPiecesIsCollected) {
  std::string wire = response({"Upgrade: websocket", "Connection: Upgrade", accept_line()});
  const Bytes f = frame({.opcode = Opcode::text}, "after");
  wire.append(f.begin(), f.end());
  std::string rest;
  HandshakeEvent event = HandshakeEvent::none;
  for (std::size_t at = 0; at < wire.size(); ++at) {
    std::string one = wire.substr(at, 1);
    std::span<std::uint8_t> in = span_of(one);
    const HandshakeEvent e = client.receive(in);
    if (e != HandshakeEvent::none) event = e;
    rest.append(reinterpret_cast<const char*>(in.data()), in.size());
  }
  ASSERT_EQ(event, HandshakeEvent::opened);
  EXPECT_EQ(Bytes(rest.begin(), rest.end()), f);
}

TEST_F(ClientHandshakeTest, RefusalKeepsStatusHeadersAndBody) {
  const std::string wire =
      response({"Content-Length: 9", "Content-Type: text/plain", "WWW-Authenticate: Bearer"},
               "HTTP/1.1 401 Unauthorized") +
      "go away!\n";
  // Head and body in separate pieces, then bytes past the body.
  std::string head = wire.substr(0, wire.size() - 6), tail = wire.substr(wire.size() - 6) + "xyz";
  std::span<std::uint8_t> a = span_of(head);
  EXPECT_EQ(client.receive(a), HandshakeEvent::none);
  std::span<std::uint8_t> b = span_of(tail);
  ASSERT_EQ(client.receive(b), HandshakeEvent::rejected);
  head.assign(head.size(), 'X');  // the caller's buffers are gone
  tail.assign(tail.size(), 'X');
  EXPECT_EQ(client.status(), 401);
  EXPECT_EQ(client.headers().get("www-authenticate"), "Bearer");
  EXPECT_EQ(client.body(), "go away!\n");
}

TEST_F(ClientHandshakeTest, RefusalWithoutLengthRunsToTheEndOfTheStream) {
  ASSERT_EQ(answer(response({"Content-Type: text/plain"}, "HTTP/1.1 403 Forbidden") + "no"),
            HandshakeEvent::none);
  std::string more = " entry";
  std::span<std::uint8_t> in = span_of(more);
  EXPECT_EQ(client.receive(in), HandshakeEvent::none);
  EXPECT_EQ(client.end_of_input(), HandshakeEvent::rejected);
  EXPECT_EQ(client.status(), 403);
  EXPECT_EQ(client.body(), "no entry");
}

TEST_F(ClientHandshakeTest, RefusalBodyIsBounded) {
  ClientHandshake small({}, 16);
  OutputQueue q;
  ASSERT_FALSE(small.start({.host = "h"}, q));
  std::string wire = response({}, "HTTP/1.1 500 Internal Server Error") + std::string(1000, 'x');
  std::span<std::uint8_t> in = span_of(wire);
  ASSERT_EQ(small.receive(in), HandshakeEvent::rejected);
  EXPECT_EQ(small.body(), std::string(16, 'x'));
}

TEST_F(ClientHandshakeTest, AStreamThatEndsEarlyIsNotAnAnswer) {
  EXPECT_EQ(answer("HTTP/1.1 101 Switching"), HandshakeEvent::none);
  EXPECT_EQ(client.end_of_input(), HandshakeEvent::none);
}

TEST_F(ClientHandshakeTest, IncompleteResponse) {
  const std::string wire = response({"Upgrade: websocket", "Connection: Upgrade", accept_line()});
  for (std::size_t n = 0; n < wire.size(); ++n) {
    ClientHandshake c;
    OutputQueue q;
    ASSERT_FALSE(c.start({.host = "h"}, q));
    std::string part = wire.substr(0, n);
    std::span<std::uint8_t> in = span_of(part);
    EXPECT_EQ(c.receive(in), HandshakeEvent::none) << n;
  }
}

TEST_F(ClientHandshakeTest, SomethingOtherThanHttpFailsAtOnce) {
  // A TLS alert, as a TLS server answers a plain request.
  EXPECT_EQ(failure(std::string("\x15\x03\x03\x00\x02\x02\x46", 7)),
            HandshakeError::http_malformed);
}

TEST_F(ClientHandshakeTest, UpgradeAndConnectionAreRequired) {
  EXPECT_EQ(failure(response({"Connection: Upgrade", accept_line()})),
            HandshakeError::not_an_upgrade);
  EXPECT_EQ(failure(response({"Upgrade: websocket", accept_line()})),
            HandshakeError::not_an_upgrade);
  EXPECT_FALSE(failure(response({"UPGRADE: WebSocket", "connection: upgrade", accept_line()})));
}

TEST_F(ClientHandshakeTest, AcceptMustMatchTheKey) {
  EXPECT_EQ(failure(response({"Upgrade: websocket", "Connection: Upgrade"})),
            HandshakeError::invalid_accept);
  EXPECT_EQ(failure(response({"Upgrade: websocket", "Connection: Upgrade",
                              "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="})),
            HandshakeError::invalid_accept);
  EXPECT_EQ(failure(response(
                {"Upgrade: websocket", "Connection: Upgrade", accept_line(), accept_line()})),
            HandshakeError::invalid_accept);
}

TEST_F(ClientHandshakeTest, SubprotocolOnlyFromThoseOffered) {
  const std::string a = "Upgrade: websocket", b = "Connection: Upgrade", c = accept_line();
  EXPECT_EQ(failure(response({a, b, c, "Sec-WebSocket-Protocol: mqtt"})),
            HandshakeError::unexpected_subprotocol);
  EXPECT_EQ(failure(response({a, b, c, "Sec-WebSocket-Protocol: chat, superchat"})),
            HandshakeError::unexpected_subprotocol);
  EXPECT_EQ(
      failure(response({a, b, c, "Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Protocol: chat"})),
      HandshakeError::unexpected_subprotocol);
  ASSERT_EQ(answer(response({a, b, c, "Sec-WebSocket-Protocol: chat"})), HandshakeEvent::opened);
  EXPECT_EQ(client.agreement().subprotocol, "chat");
  EXPECT_FALSE(failure(response({a, b, c})));
}

TEST_F(ClientHandshakeTest, ExtensionsOnlyFromThoseOffered) {
  const std::string a = "Upgrade: websocket", b = "Connection: Upgrade", c = accept_line();
  EXPECT_EQ(failure(response({a, b, c, "Sec-WebSocket-Extensions: x-webkit-deflate-frame"})),
            HandshakeError::unexpected_extension);
  EXPECT_EQ(failure(response(
                {a, b, c, "Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate"})),
            HandshakeError::unexpected_extension);
  EXPECT_EQ(failure(response({a, b, c, "Sec-WebSocket-Extensions: permessage-deflate;"})),
            HandshakeError::invalid_extension_header);
  // An answer that breaks RFC 7692 is refused with the rule it broke.
  ClientHandshake strict;
  OutputQueue q;
  ASSERT_FALSE(strict.start({.host = "h", .extensions = extensions}, q));
  std::string bad = response({a, b, "Sec-WebSocket-Accept: " + compute_accept_key(strict.key()),
                              "Sec-WebSocket-Extensions: permessage-deflate; foo"});
  std::span<std::uint8_t> in = span_of(bad);
  ASSERT_EQ(strict.receive(in), HandshakeEvent::failed);
  EXPECT_EQ(strict.error(), HandshakeError::invalid_extension_response);
  EXPECT_NE(strict.detail().find("unknown parameter foo"), std::string::npos);

  ASSERT_EQ(
      answer(response(
          {a, b, c, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10"})),
      HandshakeEvent::opened);
  EXPECT_EQ(client.agreement().extensions, "permessage-deflate; client_max_window_bits=10");
  EXPECT_NE(client.agreement().transform, nullptr);

  // Nothing offered, nothing may be accepted.
  ClientHandshake plain;
  OutputQueue pq;
  ASSERT_FALSE(plain.start({.host = "h"}, pq));
  EXPECT_EQ(drained(pq).find("Sec-WebSocket-Extensions"), std::string::npos);
  std::string wire = response({a, b, "Sec-WebSocket-Accept: " + compute_accept_key(plain.key()),
                               "Sec-WebSocket-Extensions: permessage-deflate"});
  std::span<std::uint8_t> pin = span_of(wire);
  ASSERT_EQ(plain.receive(pin), HandshakeEvent::failed);
  EXPECT_EQ(plain.error(), HandshakeError::unexpected_extension);
}

TEST_F(ClientHandshakeTest, RequestRefusesInjection) {
  ClientHandshake c;
  OutputQueue q;
  const HttpHeader evil{"X-A", "1\r\nX-B: 2"};
  EXPECT_EQ(c.start({.host = "h", .headers = {&evil, 1}}, q), UsageError::invalid_header);
  EXPECT_EQ(c.start({.host = "h", .target = "no-slash"}, q), UsageError::invalid_request_target);
  EXPECT_EQ(c.start({.host = "h", .target = "/a b"}, q), UsageError::invalid_request_target);
  EXPECT_EQ(c.start({.host = "h\r\n"}, q), UsageError::invalid_header);
  EXPECT_EQ(c.start({.host = "h", .origin = "a\nb"}, q), UsageError::invalid_header);
  const std::vector<std::string> bad_protocol{"a b"};
  EXPECT_EQ(c.start({.host = "h", .subprotocols = bad_protocol}, q),
            UsageError::invalid_subprotocol);
  EXPECT_TRUE(q.empty());
}

TEST(Extensions, GrammarCornerCases) {
  std::vector<Extension> out;
  EXPECT_FALSE(parse_extension_list("a; b=\"c\" , d;e ;f=1", out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].find("b")->value, "c");
  EXPECT_EQ(out[1].params.size(), 2u);
  EXPECT_EQ(format_extension(out[1]), "d; e; f=1");
  for (std::string_view bad : {"", ",", "a;", "a; =1", "a; b=\"c d\"", "a; b=\"unterminated", "a b",
                               "a; b=", "a; b=\"\""}) {
    std::vector<Extension> o;
    EXPECT_EQ(parse_extension_list(bad, o), HandshakeError::invalid_extension_header) << bad;
  }
}

TEST(HttpParsing, SomethingOtherThanAStatusLineIsRefusedAtOnce) {
  const std::string alert("\x15\x03\x03\x00\x02\x02\x46", 7);
  HttpResponseHead head;
  EXPECT_EQ(parse_response_head(alert, {}, head), HandshakeError::http_malformed);
  EXPECT_EQ(parse_response_head("HTT", {}, head), HandshakeError::http_incomplete);
  EXPECT_EQ(parse_response_head("HTTP/1.1 10", {}, head), HandshakeError::http_incomplete);
}

TEST(HttpParsing, BinaryInsteadOfARequestIsRefusedAtOnce) {
  HttpRequestHead head;
  EXPECT_EQ(parse_request_head("GET /\x01", {}, head), HandshakeError::http_malformed);
  // A plausible beginning is still just incomplete.
  EXPECT_EQ(parse_request_head("GET /chat HT", {}, head), HandshakeError::http_incomplete);
  EXPECT_EQ(parse_request_head("GE", {}, head), HandshakeError::http_incomplete);
}

}  // namespace
}  // namespace duplex::test
