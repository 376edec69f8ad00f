// Whole connections without sockets: a ServerProtocol and a ClientProtocol
// exchange bytes in memory from the upgrade request to the last close frame,
// whole and byte by byte, with and without permessage-deflate.
#include "test_frames.hpp"

#include <duplex/error.hpp>
#include <duplex/protocol/client_protocol.hpp>
#include <duplex/protocol/permessage_deflate.hpp>
#include <duplex/protocol/server_protocol.hpp>

#include <gtest/gtest.h>

namespace duplex::test {
namespace {

using namespace protocol;

std::string take(OutputQueue& q) {
  std::string out;
  q.drain_to(out);
  return out;
}

// Feeds `wire` in pieces of `piece` bytes and keeps what each event said.
template <typename Protocol>
std::vector<std::string> feed(Protocol& p, std::string wire, std::size_t piece,
                              std::vector<LifecycleEvent>* kinds = nullptr) {
  std::vector<std::string> seen;
  for (std::size_t at = 0; at < wire.size(); at += piece) {
    std::string chunk = wire.substr(at, piece);
    std::span<std::uint8_t> in(reinterpret_cast<std::uint8_t*>(chunk.data()), chunk.size());
    while (true) {
      const LifecycleEvent e = p.receive(in);
      if (!e) break;
      if (kinds) kinds->push_back(e);
      if (e.frame.type == EventType::message) seen.push_back(std::string(e.frame.text()));
      if (e.frame.type == EventType::close) seen.push_back("close " + std::string(e.frame.text()));
    }
  }
  return seen;
}

class Lifecycle : public ::testing::TestWithParam<std::tuple<bool, std::size_t>> {};

TEST_P(Lifecycle, UpgradeEchoAndCloseInMemory) {
  const auto [compress, piece] = GetParam();
  const PerMessageDeflate deflate({.enabled = true, .threshold = 0});
  std::vector<const PerMessageExtension*> extensions;
  if (compress) extensions.push_back(&deflate);
  const ServerPolicy policy{.allowed_origins = {"https://app.example"}};
  ServerProtocol server(policy);
  ClientProtocol client;
  const std::vector<std::string> protocols{"v2", "v1"};
  ASSERT_FALSE(client.start({.host = "app.example",
                             .target = "/live",
                             .subprotocols = protocols,
                             .origin = "https://app.example",
                             .extensions = extensions}));
  // The client sends a message before it has the 101: legal, and kept.
  ASSERT_FALSE(client.connection().send_text("early"));
  std::vector<LifecycleEvent> server_events;
  std::string request = take(client.output());
  feed(server, request, piece, &server_events);
  ASSERT_EQ(server_events.size(), 1u);
  ASSERT_EQ(server_events[0].handshake, HandshakeEvent::upgrade_request);
  ASSERT_FALSE(server.accept({.subprotocol = "v1", .extensions = extensions}));
  EXPECT_TRUE(server.is_open());
  std::span<std::uint8_t> nothing;
  const LifecycleEvent early = server.receive(nothing);
  ASSERT_EQ(early.frame.type, EventType::message);
  EXPECT_EQ(early.frame.text(), "early");
  ASSERT_FALSE(server.connection().send_text("welcome, and a message long enough to compress"));

  std::vector<LifecycleEvent> client_events;
  const auto greetings = feed(client, take(server.output()), piece, &client_events);
  ASSERT_TRUE(client.is_open());
  EXPECT_EQ(client_events.front().handshake, HandshakeEvent::opened);
  EXPECT_EQ(client.agreement().subprotocol, "v1");
  EXPECT_EQ(client.agreement().extensions.empty(), !compress);
  EXPECT_EQ(server.agreement().extensions, client.agreement().extensions);
  ASSERT_EQ(greetings.size(), 1u);
  EXPECT_EQ(greetings[0], "welcome, and a message long enough to compress");

  for (const std::string text : {"one", "two two two two two two two two two two", "three"}) {
    ASSERT_FALSE(client.connection().send_text(text));
    const auto got = feed(server, take(client.output()), piece);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], text);
    ASSERT_FALSE(server.connection().send_text(got[0]));
    const auto echoed = feed(client, take(server.output()), piece);
    ASSERT_EQ(echoed.size(), 1u);
    EXPECT_EQ(echoed[0], text);
  }
  ASSERT_FALSE(client.connection().close(CloseCode::normal, "done"));
  EXPECT_EQ(feed(server, take(client.output()), piece), std::vector<std::string>{"close done"});
  EXPECT_TRUE(server.should_close_transport());
  // The server answers with the same code (and no reason).
  EXPECT_EQ(feed(client, take(server.output()), piece), std::vector<std::string>{"close "});
}

INSTANTIATE_TEST_SUITE_P(WholeAndInPieces, Lifecycle,
                         ::testing::Combine(::testing::Bool(), ::testing::Values(1u, 3u, 4096u)));

TEST(LifecycleRefusals, ARejectedUpgradeReachesTheClientWithItsBody) {
  const ServerPolicy policy;
  ServerProtocol server(policy);
  ClientProtocol client;
  ASSERT_FALSE(client.start({.host = "h", .target = "/private"}));
  std::vector<LifecycleEvent> events;
  feed(server, take(client.output()), 4096, &events);
  ASSERT_EQ(events.size(), 1u);
  const HttpHeader challenge{"WWW-Authenticate", "Bearer"};
  ASSERT_FALSE(server.reject(401, "log in first\n", {&challenge, 1}));
  EXPECT_TRUE(server.should_close_transport());
  EXPECT_FALSE(server.is_open());
  std::vector<LifecycleEvent> answers;
  feed(client, take(server.output()), 5, &answers);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].handshake, HandshakeEvent::rejected);
  EXPECT_EQ(client.handshake().status(), 401);
  EXPECT_EQ(client.handshake().headers().get("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(client.handshake().body(), "log in first\n");
}

TEST(LifecycleRefusals, ABadRequestIsAnsweredAndEndsTheConnection) {
  const ServerPolicy policy;
  ServerProtocol server(policy);
  std::vector<LifecycleEvent> events;
  feed(server, "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n", 4096, &events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].handshake, HandshakeEvent::failed);
  EXPECT_EQ(server.handshake().error(), HandshakeError::not_an_upgrade);
  EXPECT_TRUE(server.should_close_transport());
  EXPECT_EQ(take(server.output()).rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u);
  // Anything more is ignored.
  EXPECT_TRUE(feed(server, "more", 4096, &events).empty());
  EXPECT_EQ(events.size(), 1u);
}

TEST(LifecycleRefusals, PlainHttpIsAnsweredByTheApplication) {
  const ServerPolicy policy;
  ServerProtocol server(policy);
  // The request's views point into the bytes given: keep them.
  std::string wire = "GET /health HTTP/1.1\r\nHost: h\r\n\r\n";
  std::span<std::uint8_t> in(reinterpret_cast<std::uint8_t*>(wire.data()), wire.size());
  EXPECT_EQ(server.receive(in).handshake, HandshakeEvent::http_request);
  EXPECT_EQ(server.handshake().request().path, "/health");
  server.respond("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
  EXPECT_TRUE(server.should_close_transport());
  EXPECT_EQ(take(server.output()).substr(0, 15), "HTTP/1.1 200 OK");
}

}  // namespace
}  // namespace duplex::test
