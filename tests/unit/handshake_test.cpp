// Opening handshake, both roles (RFC 6455 section 4).
#include "test_frames.hpp"

#include <duplex/error.hpp>
#include <duplex/protocol/handshake.hpp>
#include <duplex/protocol/handshake_keys.hpp>

#include <gtest/gtest.h>

#include <set>

namespace duplex::test {
namespace {

using namespace protocol;

// The request from RFC 6455 section 1.2, made complete.
std::string rfc_request(std::string_view extra = {}) {
  std::string r =
      "GET /chat?room=1 HTTP/1.1\r\n"
      "Host: server.example.com\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Origin: http://example.com\r\n"
      "Sec-WebSocket-Protocol: chat, superchat\r\n"
      "Sec-WebSocket-Version: 13\r\n";
  r += extra;
  r += "\r\n";
  return r;
}

// A request built from lines, so each test can drop or change one.
std::string request_with(std::initializer_list<std::string_view> lines,
                         std::string_view request_line = "GET / HTTP/1.1") {
  std::string r(request_line);
  r += "\r\n";
  for (auto l : lines) {
    r += l;
    r += "\r\n";
  }
  r += "\r\n";
  return r;
}

constexpr std::string_view host = "Host: h";
constexpr std::string_view upgrade = "Upgrade: websocket";
constexpr std::string_view connection = "Connection: Upgrade";
constexpr std::string_view key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view version = "Sec-WebSocket-Version: 13";

std::error_code parse(const std::string& in, UpgradeRequest& out, HttpLimits limits = {}) {
  return parse_upgrade_request(in, limits, out);
}

// The parsed views point into the request text: a temporary would dangle.
std::error_code parse(std::string&& in, UpgradeRequest& out, HttpLimits limits = {}) = delete;

std::error_code parse(const std::string& in) {
  UpgradeRequest r;
  return parse(in, r);
}

TEST(AcceptKey, RfcExample) {
  EXPECT_EQ(compute_accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(ServerHandshake, RfcRequestIsAcceptedAndExposed) {
  const std::string in = rfc_request();
  UpgradeRequest r;
  ASSERT_FALSE(parse(in, r));
  EXPECT_EQ(r.head.method, "GET");
  EXPECT_EQ(r.head.path, "/chat");
  EXPECT_EQ(r.head.query, "room=1");
  EXPECT_EQ(r.host, "server.example.com");
  EXPECT_EQ(r.origin, "http://example.com");
  EXPECT_EQ(r.key, "dGhlIHNhbXBsZSBub25jZQ==");
  ASSERT_EQ(r.subprotocols.size(), 2u);
  EXPECT_EQ(r.subprotocols[0], "chat");
  EXPECT_EQ(r.subprotocols[1], "superchat");
  EXPECT_EQ(r.head.head_size, in.size());
  EXPECT_EQ(r.head.headers.get("sec-websocket-version"), "13");

  const std::string response = build_accept_response(r, {.subprotocol = "chat"});
  EXPECT_EQ(response,
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: chat\r\n"
            "\r\n");
}

TEST(ServerHandshake, IncompleteUntilTheBlankLine) {
  const std::string in = rfc_request();
  for (std::size_t n = 0; n < in.size(); ++n) {
    UpgradeRequest r;
    const std::string prefix = in.substr(0, n);
    EXPECT_EQ(parse(prefix, r), HandshakeError::http_incomplete) << n;
  }
}

TEST(ServerHandshake, MethodMustBeGet) {
  const auto ec = parse(request_with({host, upgrade, connection, key, version}, "POST / HTTP/1.1"));
  EXPECT_EQ(ec, HandshakeError::method_not_get);
  EXPECT_EQ(handshake_status(ec), 405);
  EXPECT_NE(build_handshake_rejection(ec).find("\r\nAllow: GET\r\n"), std::string::npos);
}

TEST(ServerHandshake, VersionMustBeHttp11) {
  const auto ec = parse(request_with({host, upgrade, connection, key, version}, "GET / HTTP/1.0"));
  EXPECT_EQ(ec, HandshakeError::http_version_not_1_1);
  EXPECT_EQ(handshake_status(ec), 400);
  EXPECT_EQ(parse(request_with({host, upgrade, connection, key, version}, "GET / HTTP/2.0")),
            HandshakeError::http_malformed);
}

TEST(ServerHandshake, HostIsRequiredOnce) {
  EXPECT_EQ(parse(request_with({upgrade, connection, key, version})), HandshakeError::missing_host);
  EXPECT_EQ(parse(request_with({host, host, upgrade, connection, key, version})),
            HandshakeError::missing_host);
  EXPECT_EQ(handshake_status(make_error_code(HandshakeError::missing_host)), 400);
}

TEST(ServerHandshake, UpgradeAndConnectionAreCaseInsensitiveTokenLists) {
  EXPECT_FALSE(parse(
      request_with({host, "upgrade: WebSocket", "connection: keep-alive, UPGRADE", key, version})));
  EXPECT_FALSE(parse(
      request_with({host, "Upgrade: foo/1, websocket", "Connection: upgrade", key, version})));
  EXPECT_FALSE(parse(request_with(
      {host, upgrade, "Connection: keep-alive", "Connection: Upgrade", key, version})));
  EXPECT_EQ(parse(request_with({host, connection, key, version})), HandshakeError::not_an_upgrade);
  EXPECT_EQ(parse(request_with({host, "Upgrade: h2c", connection, key, version})),
            HandshakeError::not_an_upgrade);
  EXPECT_EQ(parse(request_with({host, "Upgrade: websocketx", connection, key, version})),
            HandshakeError::not_an_upgrade);
  EXPECT_EQ(parse(request_with({host, upgrade, key, version})), HandshakeError::not_an_upgrade);
  EXPECT_EQ(parse(request_with({host, upgrade, "Connection: keep-alive", key, version})),
            HandshakeError::not_an_upgrade);
  EXPECT_EQ(parse(request_with({host, upgrade, "Connection: upgraded", key, version})),
            HandshakeError::not_an_upgrade);
  EXPECT_EQ(handshake_status(make_error_code(HandshakeError::not_an_upgrade)), 400);
}

TEST(ServerHandshake, VersionOtherThan13Gets426WithTheSupportedVersion) {
  for (std::string_view v : {"Sec-WebSocket-Version: 8", "Sec-WebSocket-Version: 13, 8",
                             "Sec-WebSocket-Version: 14", "Sec-WebSocket-Version: "}) {
    const auto ec = parse(request_with({host, upgrade, connection, key, v}));
    EXPECT_EQ(ec, HandshakeError::unsupported_version) << v;
    EXPECT_EQ(handshake_status(ec), 426);
    const std::string rejection = build_handshake_rejection(ec);
    EXPECT_EQ(rejection.rfind("HTTP/1.1 426 Upgrade Required\r\n", 0), 0u);
    EXPECT_NE(rejection.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos);
  }
  EXPECT_EQ(parse(request_with({host, upgrade, connection, key})),
            HandshakeError::unsupported_version);
  EXPECT_EQ(parse(request_with({host, upgrade, connection, key, version, version})),
            HandshakeError::unsupported_version);
}

TEST(ServerHandshake, KeyMustBeBase64Of16Bytes) {
  for (std::string_view k : {
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ",    // no padding
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j",      // 15 bytes
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZTE=",  // 17 bytes
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ*==",  // not base64
           "Sec-WebSocket-Key: ",                          // empty
       }) {
    const auto ec = parse(request_with({host, upgrade, connection, k, version}));
    EXPECT_EQ(ec, HandshakeError::invalid_key) << k;
    EXPECT_EQ(handshake_status(ec), 400);
  }
  EXPECT_EQ(parse(request_with({host, upgrade, connection, version})), HandshakeError::invalid_key);
  EXPECT_EQ(parse(request_with({host, upgrade, connection, key, key, version})),
            HandshakeError::invalid_key);
  EXPECT_TRUE(is_valid_client_key(generate_client_key()));
}

TEST(ServerHandshake, HeaderBlockSizeAndCountLimits) {
  HttpLimits limits{.max_head_bytes = 512, .max_headers = 10};
  UpgradeRequest r;
  // Too large while still incomplete: refused without waiting for the end.
  std::string big = "GET / HTTP/1.1\r\nX-Big: " + std::string(600, 'a');
  EXPECT_EQ(parse(big, r, limits), HandshakeError::http_headers_too_large);
  // Complete but over the limit.
  big += "\r\n\r\n";
  EXPECT_EQ(parse(big, r, limits), HandshakeError::http_headers_too_large);
  EXPECT_EQ(handshake_status(make_error_code(HandshakeError::http_headers_too_large)), 431);
  // Too many fields.
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 11; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  many += "\r\n";
  EXPECT_EQ(parse(many, r, limits), HandshakeError::http_too_many_headers);
  EXPECT_EQ(handshake_status(make_error_code(HandshakeError::http_too_many_headers)), 431);
  // Exactly at the limits is fine.
  const std::string fits = request_with({host, upgrade, connection, key, version});
  EXPECT_FALSE(parse(fits, r, limits));
}

TEST(ServerHandshake, StrictHttpSyntax) {
  for (std::string_view bad : {
           "GET / HTTP/1.1\nHost: h\r\n\r\n",               // bare LF
           "GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",  // obs-fold
           "GET / HTTP/1.1\r\nHost : h\r\n\r\n",            // space before colon
           "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",            // double space
           "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",             // method not a token
           "GET / HTTP/1.1\r\nHost: h\x01x\r\n\r\n",        // control char in value
           "GET / HTTP/1.1\r\nNoColon\r\n\r\n",             // no colon
           "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n",          // space in target
           "GET / HTTP/1.1 \r\nHost: h\r\n\r\n",            // trailing space
           "\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",         // leading blank line
       }) {
    UpgradeRequest r;
    const std::string request(bad);
    EXPECT_EQ(parse(request, r), HandshakeError::http_malformed) << bad;
  }
}

TEST(ServerHandshake, TargetMustBeOriginForm) {
  EXPECT_EQ(
      parse(request_with({host, upgrade, connection, key, version}, "GET http://h/ HTTP/1.1")),
      HandshakeError::http_malformed);
}

TEST(ServerHandshake, SubprotocolsFromEveryFieldInOrder) {
  UpgradeRequest r;
  const std::string in =
      request_with({host, upgrade, connection, key, version, "Sec-WebSocket-Protocol: a, b",
                    "Sec-WebSocket-Protocol: c"});
  ASSERT_FALSE(parse(in, r));
  ASSERT_EQ(r.subprotocols.size(), 3u);
  EXPECT_EQ(r.subprotocols[2], "c");
  EXPECT_EQ(
      parse(request_with({host, upgrade, connection, key, version, "Sec-WebSocket-Protocol: a b"})),
      HandshakeError::http_malformed);
}

TEST(ServerHandshake, ExtensionOffersAreParsed) {
  UpgradeRequest r;
  const std::string in =
      request_with({host, upgrade, connection, key, version,
                    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, "
                    "permessage-deflate; server_max_window_bits=\"10\"",
                    "Sec-WebSocket-Extensions: x-foo"});
  ASSERT_FALSE(parse(in, r));
  ASSERT_EQ(r.extensions.size(), 3u);
  EXPECT_EQ(r.extensions[0].name, "permessage-deflate");
  ASSERT_NE(r.extensions[0].find("client_max_window_bits"), nullptr);
  EXPECT_FALSE(r.extensions[0].find("client_max_window_bits")->value.has_value());
  ASSERT_NE(r.extensions[1].find("server_max_window_bits"), nullptr);
  EXPECT_EQ(r.extensions[1].find("server_max_window_bits")->value, "10");
  EXPECT_EQ(r.extensions[2].name, "x-foo");
  const auto ec = parse(request_with(
      {host, upgrade, connection, key, version, "Sec-WebSocket-Extensions: permessage-deflate;;"}));
  EXPECT_EQ(ec, HandshakeError::invalid_extension_header);
  EXPECT_EQ(handshake_status(ec), 400);
}

TEST(ServerHandshake, OriginIsExposedAndRefusalIs403) {
  UpgradeRequest r;
  const std::string in = request_with({host, upgrade, connection, key, version});
  ASSERT_FALSE(parse(in, r));
  EXPECT_TRUE(r.origin.empty());
  EXPECT_EQ(handshake_status(make_error_code(HandshakeError::origin_not_allowed)), 403);
  const std::string rejection =
      build_handshake_rejection(make_error_code(HandshakeError::origin_not_allowed));
  EXPECT_EQ(rejection.rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u);
  EXPECT_NE(rejection.find("Origin not allowed"), std::string::npos);
}

TEST(ServerHandshake, AcceptResponseRefusesWhatWasNotOffered) {
  UpgradeRequest r;
  const std::string in = rfc_request();
  ASSERT_FALSE(parse(in, r));
  EXPECT_THROW(build_accept_response(r, {.subprotocol = "mqtt"}), std::invalid_argument);
  const HttpHeader evil{"X-Evil", "a\r\nSet-Cookie: b"};
  EXPECT_THROW(build_accept_response(r, {.headers = {&evil, 1}}), std::invalid_argument);
  const HttpHeader good{"X-Server", "duplex"};
  const std::string ok =
      build_accept_response(r, {.extensions = "permessage-deflate", .headers = {&good, 1}});
  EXPECT_NE(ok.find("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"), std::string::npos);
  EXPECT_NE(ok.find("\r\nX-Server: duplex\r\n"), std::string::npos);
}

TEST(ServerHandshake, RejectionIsACompleteResponseWithAReason) {
  const std::string r = build_http_response(400, "bad key\n");
  EXPECT_EQ(r,
            "HTTP/1.1 400 Bad Request\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 8\r\n"
            "Connection: close\r\n"
            "\r\n"
            "bad key\n");
}

// ------------------------------------------------------------------ client

struct ClientFixture : ::testing::Test {
  std::vector<std::string> protocols{"chat", "superchat"};
  std::vector<Extension> extensions{{"permessage-deflate", {{"client_max_window_bits", {}}}}};
  ClientHandshake client;
  std::string request;

  void SetUp() override {
    request = client.start({.host = "example.com:9002",
                            .target = "/chat?x=1",
                            .subprotocols = protocols,
                            .extensions = extensions,
                            .origin = "http://example.com"});
  }

  std::string response(std::initializer_list<std::string_view> lines,
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
};

TEST_F(ClientFixture, RequestIsAValidUpgrade) {
  UpgradeRequest r;
  ASSERT_FALSE(parse_upgrade_request(request, {}, r));
  EXPECT_EQ(r.head.target, "/chat?x=1");
  EXPECT_EQ(r.host, "example.com:9002");
  EXPECT_EQ(r.origin, "http://example.com");
  EXPECT_EQ(r.key, client.key());
  ASSERT_EQ(r.subprotocols.size(), 2u);
  ASSERT_EQ(r.extensions.size(), 1u);
  EXPECT_EQ(r.extensions[0].name, "permessage-deflate");
}

TEST_F(ClientFixture, EveryRequestGetsAFreshRandomKey) {
  std::set<std::string> keys;
  for (int i = 0; i < 100; ++i) {
    ClientHandshake c;
    c.start({.host = "h"});
    EXPECT_TRUE(is_valid_client_key(c.key()));
    keys.insert(c.key());
  }
  EXPECT_EQ(keys.size(), 100u);
}

TEST_F(ClientFixture, RoundTripWithOurServerSide) {
  UpgradeRequest r;
  ASSERT_FALSE(parse_upgrade_request(request, {}, r));
  const std::string resp =
      build_accept_response(r, {.subprotocol = "superchat", .extensions = "permessage-deflate"});
  ClientHandshakeResult result;
  ASSERT_FALSE(client.finish(resp, result));
  EXPECT_EQ(result.subprotocol, "superchat");
  ASSERT_EQ(result.extensions.size(), 1u);
  EXPECT_EQ(result.consumed, resp.size());
}

TEST_F(ClientFixture, BytesAfterTheResponseAreFrameData) {
  std::string wire = response({"Upgrade: websocket", "Connection: Upgrade", accept_line()});
  const std::size_t head = wire.size();
  const Bytes f = frame({.opcode = Opcode::text}, "first message");
  wire.append(f.begin(), f.end());
  ClientHandshakeResult result;
  ASSERT_FALSE(client.finish(wire, result));
  ASSERT_EQ(result.consumed, head);
  Connection conn({.role = Role::client});
  auto events = feed(conn, bytes(std::string_view(wire).substr(result.consumed)));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload, "first message");
}

TEST_F(ClientFixture, IncompleteResponse) {
  const std::string wire = response({"Upgrade: websocket", "Connection: Upgrade", accept_line()});
  for (std::size_t n = 0; n < wire.size(); ++n) {
    ClientHandshakeResult result;
    EXPECT_EQ(client.finish(wire.substr(0, n), result), HandshakeError::http_incomplete) << n;
  }
}

TEST_F(ClientFixture, NonSwitchingStatusIsARejectionWithTheStatus) {
  const std::string wire =
      response({"Content-Length: 9", "Content-Type: text/plain"}, "HTTP/1.1 403 Forbidden") +
      "go away!\n";
  ClientHandshakeResult result;
  EXPECT_EQ(client.finish(wire, result), HandshakeError::rejected);
  EXPECT_EQ(result.head.status, 403);
  EXPECT_EQ(result.head.reason, "Forbidden");
  EXPECT_EQ(result.head.headers.get("content-length"), "9");
  EXPECT_EQ(wire.substr(result.consumed), "go away!\n");
  EXPECT_EQ(client.finish(response({}, "HTTP/1.1 200 OK"), result), HandshakeError::rejected);
}

TEST_F(ClientFixture, UpgradeAndConnectionAreRequired) {
  ClientHandshakeResult result;
  EXPECT_EQ(client.finish(response({"Connection: Upgrade", accept_line()}), result),
            HandshakeError::not_an_upgrade);
  EXPECT_EQ(client.finish(response({"Upgrade: websocket", accept_line()}), result),
            HandshakeError::not_an_upgrade);
  EXPECT_FALSE(client.finish(response({"UPGRADE: WebSocket", "connection: upgrade", accept_line()}),
                             result));
}

TEST_F(ClientFixture, AcceptMustMatchTheKey) {
  ClientHandshakeResult result;
  EXPECT_EQ(client.finish(response({"Upgrade: websocket", "Connection: Upgrade"}), result),
            HandshakeError::invalid_accept);
  EXPECT_EQ(client.finish(response({"Upgrade: websocket", "Connection: Upgrade",
                                    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}),
                          result),
            HandshakeError::invalid_accept);
  EXPECT_EQ(client.finish(response({"Upgrade: websocket", "Connection: Upgrade", accept_line(),
                                    accept_line()}),
                          result),
            HandshakeError::invalid_accept);
}

TEST_F(ClientFixture, SubprotocolOnlyFromThoseOffered) {
  ClientHandshakeResult result;
  const std::string base_ok[] = {"Upgrade: websocket", "Connection: Upgrade", accept_line()};
  EXPECT_EQ(
      client.finish(response({base_ok[0], base_ok[1], base_ok[2], "Sec-WebSocket-Protocol: mqtt"}),
                    result),
      HandshakeError::unexpected_subprotocol);
  EXPECT_EQ(client.finish(response({base_ok[0], base_ok[1], base_ok[2],
                                    "Sec-WebSocket-Protocol: chat, superchat"}),
                          result),
            HandshakeError::unexpected_subprotocol);
  EXPECT_EQ(
      client.finish(response({base_ok[0], base_ok[1], base_ok[2], "Sec-WebSocket-Protocol: chat",
                              "Sec-WebSocket-Protocol: chat"}),
                    result),
      HandshakeError::unexpected_subprotocol);
  ASSERT_FALSE(client.finish(
      response({base_ok[0], base_ok[1], base_ok[2], "Sec-WebSocket-Protocol: chat"}), result));
  EXPECT_EQ(result.subprotocol, "chat");
  ASSERT_FALSE(client.finish(response({base_ok[0], base_ok[1], base_ok[2]}), result));
  EXPECT_EQ(result.subprotocol, "");
}

TEST_F(ClientFixture, ExtensionsOnlyFromThoseOffered) {
  ClientHandshakeResult result;
  const std::string a = "Upgrade: websocket", b = "Connection: Upgrade", c = accept_line();
  EXPECT_EQ(client.finish(response({a, b, c, "Sec-WebSocket-Extensions: x-webkit-deflate-frame"}),
                          result),
            HandshakeError::unexpected_extension);
  EXPECT_EQ(
      client.finish(
          response({a, b, c, "Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate"}),
          result),
      HandshakeError::unexpected_extension);
  EXPECT_EQ(
      client.finish(response({a, b, c, "Sec-WebSocket-Extensions: permessage-deflate;"}), result),
      HandshakeError::invalid_extension_header);
  ASSERT_FALSE(client.finish(
      response(
          {a, b, c, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10"}),
      result));
  ASSERT_EQ(result.extensions.size(), 1u);

  ClientHandshake plain;
  plain.start({.host = "h"});
  const std::string plain_accept = "Sec-WebSocket-Accept: " + compute_accept_key(plain.key());
  EXPECT_EQ(
      plain.finish(response({a, b, plain_accept, "Sec-WebSocket-Extensions: permessage-deflate"}),
                   result),
      HandshakeError::unexpected_extension);
}

TEST_F(ClientFixture, RequestRefusesInjection) {
  ClientHandshake c;
  const HttpHeader evil{"X-A", "1\r\nX-B: 2"};
  EXPECT_THROW(c.start({.host = "h", .headers = {&evil, 1}}), std::invalid_argument);
  EXPECT_THROW(c.start({.host = "h", .target = "no-slash"}), std::invalid_argument);
  EXPECT_THROW(c.start({.host = "h\r\n"}), std::invalid_argument);
  const std::vector<std::string> bad_protocol{"a b"};
  EXPECT_THROW(c.start({.host = "h", .subprotocols = bad_protocol}), std::invalid_argument);
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

}  // namespace
}  // namespace duplex::test

namespace duplex::test {
namespace {

TEST(HttpParsing, BinaryInsteadOfARequestIsRefusedAtOnce) {
  // The first bytes of a TLS ClientHello, sent to a plain-HTTP port.
  const std::string hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  protocol::HttpRequestHead head;
  EXPECT_EQ(protocol::parse_request_head(hello, {}, head), HandshakeError::http_malformed);
  EXPECT_EQ(protocol::parse_request_head("GET /\x01", {}, head), HandshakeError::http_malformed);
  // A plausible beginning is still just incomplete.
  EXPECT_EQ(protocol::parse_request_head("GET /chat HT", {}, head),
            HandshakeError::http_incomplete);
  EXPECT_EQ(protocol::parse_request_head("GE", {}, head), HandshakeError::http_incomplete);
}

TEST(HttpParsing, SomethingOtherThanAStatusLineIsRefusedAtOnce) {
  // A TLS alert, as a TLS server answers a plain request.
  const std::string alert("\x15\x03\x03\x00\x02\x02\x46", 7);
  protocol::HttpResponseHead head;
  EXPECT_EQ(protocol::parse_response_head(alert, {}, head), HandshakeError::http_malformed);
  EXPECT_EQ(protocol::parse_response_head("HTT", {}, head), HandshakeError::http_incomplete);
  EXPECT_EQ(protocol::parse_response_head("HTTP/1.1 10", {}, head),
            HandshakeError::http_incomplete);
}

}  // namespace
}  // namespace duplex::test
