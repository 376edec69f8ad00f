// The server's side of the opening handshake (RFC 6455 section 4.2), with no
// sockets: every rule is checked by feeding request bytes to a
// ServerHandshake and reading the event and the bytes it answers with.
#include "test_frames.hpp"

#include <duplex/error.hpp>
#include <duplex/protocol/handshake_keys.hpp>
#include <duplex/protocol/http_response.hpp>
#include <duplex/protocol/permessage_deflate.hpp>
#include <duplex/protocol/server_handshake.hpp>

#include <gtest/gtest.h>

#include <memory>

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

std::string drained(OutputQueue& q) {
  std::string out;
  q.drain_to(out);
  return out;
}

// One handshake fed one request. It keeps the request bytes, which the
// handshake's views point into.
struct Served {
  explicit Served(std::string request, ServerPolicy p = {})
      : policy(std::move(p)), wire(std::move(request)) {
    handshake = std::make_unique<ServerHandshake>(policy);
    std::span<std::uint8_t> in(reinterpret_cast<std::uint8_t*>(wire.data()), wire.size());
    event = handshake->receive(in, out);
    rest = std::string(reinterpret_cast<const char*>(in.data()), in.size());
    answer = drained(out);
  }
  int status() const { return answer.size() > 12 ? std::stoi(answer.substr(9, 3)) : 0; }
  std::error_code error() const { return handshake->error(); }

  ServerPolicy policy;
  std::string wire;
  std::unique_ptr<ServerHandshake> handshake;
  OutputQueue out;
  HandshakeEvent event = HandshakeEvent::none;
  std::string rest;    // what followed the head
  std::string answer;  // what the handshake queued
};

std::error_code refusal(std::string request, ServerPolicy policy = {}) {
  Served s(std::move(request), std::move(policy));
  if (s.event == HandshakeEvent::upgrade_request) return {};
  EXPECT_EQ(s.event, HandshakeEvent::failed);
  return s.error();
}

TEST(AcceptKey, RfcExample) {
  EXPECT_EQ(compute_accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(ServerHandshake, RfcRequestIsAcceptedAndExposed) {
  Served s(rfc_request());
  ASSERT_EQ(s.event, HandshakeEvent::upgrade_request);
  EXPECT_TRUE(s.answer.empty());
  const UpgradeRequest& r = s.handshake->upgrade();
  EXPECT_EQ(r.head.method, "GET");
  EXPECT_EQ(r.head.path, "/chat");
  EXPECT_EQ(r.head.query, "room=1");
  EXPECT_EQ(r.host, "server.example.com");
  EXPECT_EQ(r.origin, "http://example.com");
  EXPECT_EQ(r.key, "dGhlIHNhbXBsZSBub25jZQ==");
  ASSERT_EQ(r.subprotocols.size(), 2u);
  EXPECT_EQ(r.subprotocols[0], "chat");
  EXPECT_EQ(r.subprotocols[1], "superchat");
  EXPECT_EQ(r.head.head_size, s.wire.size());
  EXPECT_EQ(r.head.headers.get("sec-websocket-version"), "13");

  Agreement agreed;
  ASSERT_FALSE(s.handshake->accept({.subprotocol = "chat"}, s.out, agreed));
  EXPECT_EQ(drained(s.out),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: chat\r\n"
            "\r\n");
  EXPECT_EQ(agreed.subprotocol, "chat");
  EXPECT_TRUE(agreed.extensions.empty());
  EXPECT_EQ(agreed.transform, nullptr);
}

TEST(ServerHandshake, ARequestInPiecesIsCollectedAndFramesAfterItAreKept) {
  const std::string request = rfc_request();
  const Bytes frame_bytes = frame({.opcode = Opcode::text, .masked = true}, "early");
  std::string wire = request + std::string(frame_bytes.begin(), frame_bytes.end());
  for (std::size_t piece : {1u, 2u, 7u, 100u}) {
    ServerPolicy policy;
    ServerHandshake hs(policy);
    OutputQueue out;
    HandshakeEvent event = HandshakeEvent::none;
    std::string rest;
    for (std::size_t at = 0; at < wire.size(); at += piece) {
      std::string chunk = wire.substr(at, piece);
      std::span<std::uint8_t> in(reinterpret_cast<std::uint8_t*>(chunk.data()), chunk.size());
      const HandshakeEvent e = hs.receive(in, out);
      if (e != HandshakeEvent::none) event = e;
      rest.append(reinterpret_cast<const char*>(in.data()), in.size());
    }
    ASSERT_EQ(event, HandshakeEvent::upgrade_request) << piece;
    EXPECT_EQ(hs.upgrade().head.path, "/chat");
    EXPECT_EQ(hs.upgrade().key, "dGhlIHNhbXBsZSBub25jZQ==");
    EXPECT_EQ(Bytes(rest.begin(), rest.end()), frame_bytes) << piece;
  }
}

TEST(ServerHandshake, IncompleteUntilTheBlankLine) {
  const std::string in = rfc_request();
  for (std::size_t n = 0; n < in.size(); ++n) {
    Served s(in.substr(0, n));
    EXPECT_EQ(s.event, HandshakeEvent::none) << n;
    EXPECT_TRUE(s.answer.empty());
  }
}

TEST(ServerHandshake, OnlyOneRequestIsRead) {
  Served s(rfc_request());
  std::string more = rfc_request();
  std::span<std::uint8_t> in(reinterpret_cast<std::uint8_t*>(more.data()), more.size());
  EXPECT_EQ(s.handshake->receive(in, s.out), HandshakeEvent::none);
  EXPECT_EQ(in.size(), more.size());
}

TEST(ServerHandshake, PlainHttpRequestsAreToldApart) {
  Served s("GET /index.html?x=1 HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n");
  ASSERT_EQ(s.event, HandshakeEvent::http_request);
  EXPECT_EQ(s.handshake->request().method, "GET");
  EXPECT_EQ(s.handshake->request().path, "/index.html");
  EXPECT_EQ(s.handshake->request().query, "x=1");
  EXPECT_TRUE(s.answer.empty());
  // An Upgrade to something else is plain HTTP too.
  EXPECT_EQ(
      Served("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n").event,
      HandshakeEvent::http_request);
}

TEST(ServerHandshake, MethodMustBeGet) {
  Served s(request_with({host, upgrade, connection, key, version}, "POST / HTTP/1.1"));
  EXPECT_EQ(s.error(), HandshakeError::method_not_get);
  EXPECT_EQ(s.status(), 405);
  EXPECT_NE(s.answer.find("\r\nAllow: GET\r\n"), std::string::npos);
}

TEST(ServerHandshake, VersionMustBeHttp11) {
  Served s(request_with({host, upgrade, connection, key, version}, "GET / HTTP/1.0"));
  EXPECT_EQ(s.error(), HandshakeError::http_version_not_1_1);
  EXPECT_EQ(s.status(), 400);
  EXPECT_EQ(refusal(request_with({host, upgrade, connection, key, version}, "GET / HTTP/2.0")),
            HandshakeError::http_malformed);
}

TEST(ServerHandshake, HostIsRequiredOnce) {
  EXPECT_EQ(refusal(request_with({upgrade, connection, key, version})),
            HandshakeError::missing_host);
  EXPECT_EQ(refusal(request_with({host, host, upgrade, connection, key, version})),
            HandshakeError::missing_host);
  EXPECT_EQ(Served(request_with({upgrade, connection, key, version})).status(), 400);
}

TEST(ServerHandshake, UpgradeAndConnectionAreCaseInsensitiveTokenLists) {
  EXPECT_FALSE(refusal(
      request_with({host, "upgrade: WebSocket", "connection: keep-alive, UPGRADE", key, version})));
  EXPECT_FALSE(refusal(
      request_with({host, "Upgrade: foo/1, websocket", "Connection: upgrade", key, version})));
  EXPECT_FALSE(refusal(request_with(
      {host, upgrade, "Connection: keep-alive", "Connection: Upgrade", key, version})));
  EXPECT_EQ(refusal(request_with({host, upgrade, key, version})), HandshakeError::not_an_upgrade);
  EXPECT_EQ(refusal(request_with({host, upgrade, "Connection: keep-alive", key, version})),
            HandshakeError::not_an_upgrade);
  EXPECT_EQ(refusal(request_with({host, upgrade, "Connection: upgraded", key, version})),
            HandshakeError::not_an_upgrade);
  EXPECT_EQ(Served(request_with({host, upgrade, key, version})).status(), 400);
}

TEST(ServerHandshake, VersionOtherThan13Gets426WithTheSupportedVersion) {
  for (std::string_view v : {"Sec-WebSocket-Version: 8", "Sec-WebSocket-Version: 13, 8",
                             "Sec-WebSocket-Version: 14", "Sec-WebSocket-Version: "}) {
    Served s(request_with({host, upgrade, connection, key, v}));
    EXPECT_EQ(s.error(), HandshakeError::unsupported_version) << v;
    EXPECT_EQ(s.answer.rfind("HTTP/1.1 426 Upgrade Required\r\n", 0), 0u);
    EXPECT_NE(s.answer.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos);
  }
  EXPECT_EQ(refusal(request_with({host, upgrade, connection, key})),
            HandshakeError::unsupported_version);
  EXPECT_EQ(refusal(request_with({host, upgrade, connection, key, version, version})),
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
    Served s(request_with({host, upgrade, connection, k, version}));
    EXPECT_EQ(s.error(), HandshakeError::invalid_key) << k;
    EXPECT_EQ(s.status(), 400);
  }
  EXPECT_EQ(refusal(request_with({host, upgrade, connection, version})),
            HandshakeError::invalid_key);
  EXPECT_EQ(refusal(request_with({host, upgrade, connection, key, key, version})),
            HandshakeError::invalid_key);
  EXPECT_TRUE(is_valid_client_key(generate_client_key()));
}

TEST(ServerHandshake, HeaderBlockSizeAndCountLimits) {
  const ServerPolicy limited{.limits = {.max_head_bytes = 512, .max_headers = 10}};
  // Too large while still incomplete: refused without waiting for the end.
  std::string big = "GET / HTTP/1.1\r\nX-Big: " + std::string(600, 'a');
  Served partial(big, limited);
  EXPECT_EQ(partial.error(), HandshakeError::http_headers_too_large);
  EXPECT_EQ(partial.status(), 431);
  // Complete but over the limit.
  EXPECT_EQ(refusal(big + "\r\n\r\n", limited), HandshakeError::http_headers_too_large);
  // Too many fields.
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 11; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  many += "\r\n";
  Served too_many(many, limited);
  EXPECT_EQ(too_many.error(), HandshakeError::http_too_many_headers);
  EXPECT_EQ(too_many.status(), 431);
  // Exactly at the limits is fine.
  EXPECT_FALSE(refusal(request_with({host, upgrade, connection, key, version}), limited));
}

TEST(ServerHandshake, StrictHttpSyntax) {
  for (std::string_view bad : {
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
    Served s{std::string(bad)};
    EXPECT_EQ(s.error(), HandshakeError::http_malformed) << bad;
    EXPECT_EQ(s.status(), 400) << bad;
  }
}

TEST(ServerHandshake, BareLineFeedsAreRefusedAtOnceNotWaitedFor) {
  // With LF alone the head never has its CRLF CRLF: without this check the
  // request would sit until the handshake timer, unanswered.
  for (std::string_view bad : {
           "GET / HTTP/1.1\nHost: h\n\n",      // every line
           "GET / HTTP/1.1\nHost: h\r\n\r\n",  // one line, the head otherwise whole
           "GET / HTTP/1.1\r\nHost: h\n",      // not yet whole: no need to wait
       }) {
    Served s{std::string(bad)};
    EXPECT_EQ(s.error(), HandshakeError::http_bare_line_feed) << bad;
    EXPECT_EQ(s.status(), 400) << bad;
  }
}

TEST(ServerHandshake, TargetMustBeOriginForm) {
  EXPECT_EQ(
      refusal(request_with({host, upgrade, connection, key, version}, "GET http://h/ HTTP/1.1")),
      HandshakeError::http_malformed);
}

TEST(ServerHandshake, BinaryInsteadOfARequestIsRefusedAtOnce) {
  // The first bytes of a TLS ClientHello, sent to a plain-HTTP port.
  Served s(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));
  EXPECT_EQ(s.error(), HandshakeError::http_malformed);
  EXPECT_EQ(s.status(), 400);
}

TEST(ServerHandshake, SubprotocolsFromEveryFieldInOrder) {
  Served s(request_with({host, upgrade, connection, key, version, "Sec-WebSocket-Protocol: a, b",
                         "Sec-WebSocket-Protocol: c"}));
  ASSERT_EQ(s.event, HandshakeEvent::upgrade_request);
  ASSERT_EQ(s.handshake->upgrade().subprotocols.size(), 3u);
  EXPECT_EQ(s.handshake->upgrade().subprotocols[2], "c");
  EXPECT_EQ(refusal(request_with(
                {host, upgrade, connection, key, version, "Sec-WebSocket-Protocol: a b"})),
            HandshakeError::http_malformed);
}

TEST(ServerHandshake, ExtensionOffersAreParsed) {
  Served s(request_with({host, upgrade, connection, key, version,
                         "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, "
                         "permessage-deflate; server_max_window_bits=\"10\"",
                         "Sec-WebSocket-Extensions: x-foo"}));
  ASSERT_EQ(s.event, HandshakeEvent::upgrade_request);
  const auto& e = s.handshake->upgrade().extensions;
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].name, "permessage-deflate");
  ASSERT_NE(e[0].find("client_max_window_bits"), nullptr);
  EXPECT_FALSE(e[0].find("client_max_window_bits")->value.has_value());
  ASSERT_NE(e[1].find("server_max_window_bits"), nullptr);
  EXPECT_EQ(e[1].find("server_max_window_bits")->value, "10");
  EXPECT_EQ(e[2].name, "x-foo");
  Served bad(request_with(
      {host, upgrade, connection, key, version, "Sec-WebSocket-Extensions: permessage-deflate;;"}));
  EXPECT_EQ(bad.error(), HandshakeError::invalid_extension_header);
  EXPECT_EQ(bad.status(), 400);
}

TEST(ServerHandshake, OriginPolicy) {
  const ServerPolicy strict{.allowed_origins = {"https://a.example", "http://example.com"}};
  // Listed (case-insensitively): accepted.
  EXPECT_FALSE(refusal(rfc_request(), strict));
  EXPECT_FALSE(
      refusal(request_with({host, upgrade, connection, key, version, "Origin: HTTPS://A.EXAMPLE"}),
              strict));
  // Not listed, or empty: 403 with the reason.
  Served other(
      request_with({host, upgrade, connection, key, version, "Origin: https://evil.example"}),
      strict);
  EXPECT_EQ(other.error(), HandshakeError::origin_not_allowed);
  EXPECT_EQ(other.answer.rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u);
  EXPECT_NE(other.answer.find("Origin not allowed"), std::string::npos);
  EXPECT_EQ(refusal(request_with({host, upgrade, connection, key, version, "Origin: "}), strict),
            HandshakeError::origin_not_allowed);
  EXPECT_EQ(
      refusal(request_with({host, upgrade, connection, key, version, "Origin: null"}), strict),
      HandshakeError::origin_not_allowed);
  // No Origin at all (not a browser): as the policy says.
  const std::string no_origin = request_with({host, upgrade, connection, key, version});
  EXPECT_FALSE(refusal(no_origin, strict));
  ServerPolicy browsers_only = strict;
  browsers_only.allow_missing_origin = false;
  EXPECT_EQ(refusal(no_origin, browsers_only), HandshakeError::origin_not_allowed);
  // Without an allow-list, any Origin.
  EXPECT_FALSE(refusal(
      request_with({host, upgrade, connection, key, version, "Origin: https://any.example"})));
  // Two Origin headers are malformed.
  EXPECT_EQ(refusal(request_with(
                {host, upgrade, connection, key, version, "Origin: http://a", "Origin: http://b"})),
            HandshakeError::http_malformed);
}

TEST(ServerHandshake, AcceptRefusesWhatCannotBeSent) {
  Served s(rfc_request());
  Agreement agreed;
  EXPECT_EQ(s.handshake->accept({.subprotocol = "mqtt"}, s.out, agreed),
            UsageError::invalid_subprotocol);
  const HttpHeader evil{"X-Evil", "a\r\nSet-Cookie: b"};
  EXPECT_EQ(s.handshake->accept({.headers = {&evil, 1}}, s.out, agreed),
            UsageError::invalid_header);
  const HttpHeader bad_name{"X Evil", "a"};
  EXPECT_EQ(s.handshake->accept({.headers = {&bad_name, 1}}, s.out, agreed),
            UsageError::invalid_header);
  EXPECT_TRUE(s.out.empty());
  const HttpHeader good{"X-Server", "duplex"};
  ASSERT_FALSE(s.handshake->accept({.headers = {&good, 1}}, s.out, agreed));
  EXPECT_NE(drained(s.out).find("\r\nX-Server: duplex\r\n"), std::string::npos);
}

TEST(ServerHandshake, ExtensionsAreNegotiatedInOurOrderOfPreference) {
  const PerMessageDeflate deflate({.enabled = true});
  const PerMessageExtension* ours[] = {&deflate};
  // The client's first acceptable offer wins; a malformed one is skipped.
  Served s(
      rfc_request("Sec-WebSocket-Extensions: permessage-deflate; bogus, permessage-deflate; "
                  "client_max_window_bits\r\n"));
  Agreement agreed;
  ASSERT_FALSE(s.handshake->accept({.extensions = ours}, s.out, agreed));
  ASSERT_NE(agreed.transform, nullptr);
  EXPECT_EQ(agreed.extensions,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  EXPECT_NE(drained(s.out).find("\r\nSec-WebSocket-Extensions: " + agreed.extensions + "\r\n"),
            std::string::npos);

  // Offers we cannot honour are declined, and the connection opens without.
  Served unusable(rfc_request("Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n"));
  Agreement none;
  ASSERT_FALSE(unusable.handshake->accept({.extensions = ours}, unusable.out, none));
  EXPECT_EQ(none.transform, nullptr);
  EXPECT_EQ(drained(unusable.out).find("Sec-WebSocket-Extensions"), std::string::npos);

  // A route without compression never agrees, whatever is offered.
  Served off(rfc_request("Sec-WebSocket-Extensions: permessage-deflate\r\n"));
  Agreement plain;
  ASSERT_FALSE(off.handshake->accept({}, off.out, plain));
  EXPECT_EQ(plain.transform, nullptr);
}

TEST(ServerHandshake, RejectionIsACompleteResponseWithAReason) {
  Served s(rfc_request());
  const HttpHeader retry{"Retry-After", "5"};
  ASSERT_FALSE(s.handshake->reject(503, "busy\n", {&retry, 1}, s.out));
  EXPECT_EQ(drained(s.out),
            "HTTP/1.1 503 Service Unavailable\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 5\r\n"
            "Connection: close\r\n"
            "Retry-After: 5\r\n"
            "\r\n"
            "busy\n");
  // Statuses that do not refuse become 403.
  Served t(rfc_request());
  ASSERT_FALSE(t.handshake->reject(200, "", {}, t.out));
  EXPECT_EQ(drained(t.out).rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u);
  const HttpHeader evil{"X-A", "1\r\nX-B: 2"};
  EXPECT_EQ(t.handshake->reject(401, "", {&evil, 1}, t.out), UsageError::invalid_header);
  EXPECT_TRUE(t.out.empty());
}

TEST(HttpResponse, HeadsAndBodies) {
  std::string out;
  ASSERT_FALSE(write_http_response(400, "bad key\n", {}, "text/plain; charset=utf-8", out));
  EXPECT_EQ(out,
            "HTTP/1.1 400 Bad Request\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 8\r\n"
            "Connection: close\r\n"
            "\r\n"
            "bad key\n");
  std::string head;
  ASSERT_FALSE(write_http_response_head(200, 1234, "text/html", {}, head));
  EXPECT_NE(head.find("Content-Length: 1234\r\n"), std::string::npos);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
  std::string refused;
  EXPECT_EQ(write_http_response_head(200, 0, "text/html\r\nX: y", {}, refused),
            UsageError::invalid_header);
  EXPECT_TRUE(refused.empty());
}

}  // namespace
}  // namespace duplex::test
