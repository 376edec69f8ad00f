// The client: URL handling, failures before the open, and bytes that arrive
// together with the 101 response.
#include "loopback_ports.hpp"
#include "raw_client.hpp"
#include "running_server.hpp"

#include <duplex/client.hpp>
#include <duplex/url.hpp>

#include <gtest/gtest.h>

#include <netinet/in.h>

namespace duplex::test {
namespace {

using namespace std::chrono_literals;

TEST(Url, ParsesTheRfcForms) {
  WebSocketUrl u;
  ASSERT_TRUE(parse_websocket_url("ws://example.com", u).ok());
  EXPECT_FALSE(u.secure);
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.port, 80);
  EXPECT_EQ(u.target, "/");
  EXPECT_EQ(u.host_header(), "example.com");

  ASSERT_TRUE(parse_websocket_url("WSS://Example.com:8443/chat?room=1&x=%20", u).ok());
  EXPECT_TRUE(u.secure);
  EXPECT_EQ(u.port, 8443);
  EXPECT_EQ(u.target, "/chat?room=1&x=%20");
  EXPECT_EQ(u.host_header(), "Example.com:8443");

  ASSERT_TRUE(parse_websocket_url("wss://host", u).ok());
  EXPECT_EQ(u.port, 443);
  ASSERT_TRUE(parse_websocket_url("ws://[::1]:9002/x", u).ok());
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 9002);
  EXPECT_EQ(u.host_header(), "[::1]:9002");
  ASSERT_TRUE(parse_websocket_url("ws://[2001:db8::1]", u).ok());
  EXPECT_EQ(u.host_header(), "[2001:db8::1]");
  ASSERT_TRUE(parse_websocket_url("ws://h?only=query", u).ok());
  EXPECT_EQ(u.target, "/?only=query");
}

TEST(Url, RefusesWhatTheRfcRefuses) {
  WebSocketUrl u;
  EXPECT_EQ(parse_websocket_url("http://example.com/", u).error, ClientError::unsupported_scheme);
  EXPECT_EQ(parse_websocket_url("ftp://example.com/", u).error, ClientError::unsupported_scheme);
  EXPECT_EQ(parse_websocket_url("ws://example.com/#frag", u).error, ClientError::url_has_fragment);
  for (std::string_view bad :
       {"example.com", "ws://", "ws://:80/", "ws://h:0/", "ws://h:65536/", "ws://h:x/",
        "ws://user@h/", "ws://[::1/", "ws://[zz]/", "ws://h:/", "ws://h/a b", "ws://ho st/"}) {
    const Status parsed = parse_websocket_url(bad, u);
    EXPECT_EQ(parsed.error, ClientError::invalid_url) << bad;
    EXPECT_FALSE(parsed.detail.empty()) << bad;
  }
}

ConnectError connect_and_fail(const std::string& url, ClientOptions options = {}) {
  Client client;
  ConnectError error;
  bool opened = false;
  const auto ec = client.connect(url, options,
                                 {.on_open = [&](WebSocket&) { opened = true; },
                                  .on_error = [&](const ConnectError& e) { error = e; }});
  if (ec) return {ec, 0, {}};
  client.run();
  EXPECT_FALSE(opened);
  return error;
}

TEST(Client, ConnectionRefused) {
  const ConnectError e = connect_and_fail(refused_url());
  EXPECT_EQ(e.error, std::errc::connection_refused);
}

TEST(Client, ServerThatNeverAnswersTimesOut) {
  // Listening, but nobody accepts or answers.
  SilentPeer silent;
  ClientOptions o;
  o.handshake_timeout = 300ms;
  const ConnectError e = connect_and_fail(silent.url, o);
  EXPECT_EQ(e.error, ClientError::handshake_timeout);
}

TEST(Client, UrlErrorsComeBackAtOnce) {
  Client client;
  EXPECT_EQ(client.connect("http://x/", {}, {}), ClientError::unsupported_scheme);
  EXPECT_EQ(client.connect("ws://x/#y", {}, {}), ClientError::url_has_fragment);
}

TEST(Client, ResolvesNamesOffTheLoop) {
  RunningServer rs({}, [](Server& s) {
    s.websocket("/", {.on_message = [](WebSocket& ws, Message m) { ws.send(m.data, m.opcode); }});
  });
  Client client;
  std::string got;
  ASSERT_FALSE(client.connect("ws://localhost:" + std::to_string(rs.port()) + "/", {},
                              {.on_open = [](WebSocket& ws) { ws.send_text("by name"); },
                               .on_message =
                                   [&](WebSocket& ws, Message m) {
                                     got = std::string(m.data);
                                     ws.close();
                                   },
                               .on_error = [&](const ConnectError& e) { got = e.message(); }}));
  client.run();
  EXPECT_EQ(got, "by name");
}

// A hand-written server that sends a frame in the same write as its 101.
TEST(Client, FrameDataRightAfterThe101IsNotLost) {
  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ::listen(lfd, 1);
  socklen_t len = sizeof a;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  std::thread server([lfd] {
    const int fd = ::accept(lfd, nullptr, nullptr);
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    const auto accepted = accept_upgrade(request);
    if (!accepted) {
      ::close(fd);
      return;
    }
    std::string out = *accepted;
    const Bytes f = frame({.opcode = Opcode::text}, "sent with the 101");
    out.append(f.begin(), f.end());
    ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    // Wait for the client's close, answer it, close.
    while (::recv(fd, buf, sizeof buf, 0) > 0) {
      const Bytes c = frame({.opcode = Opcode::close}, std::string("\x03\xe8", 2));
      ::send(fd, c.data(), c.size(), MSG_NOSIGNAL);
      break;
    }
    ::close(fd);
  });
  Client client;
  std::string got;
  ASSERT_FALSE(client.connect("ws://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/", {},
                              {.on_message = [&](WebSocket& ws, Message m) {
                                got = std::string(m.data);
                                ws.close();
                              }}));
  client.run();
  server.join();
  ::close(lfd);
  EXPECT_EQ(got, "sent with the 101");
}

}  // namespace
}  // namespace duplex::test

namespace duplex::test {
namespace {

// A server that sends its close frame and its FIN together while the client
// is busy: both are announced by one edge, and the client must still see the
// end of the stream instead of waiting out its close timeout.
TEST(Client, CloseFrameAndFinTogetherEndTheConnectionPromptly) {
  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ::listen(lfd, 1);
  socklen_t len = sizeof a;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  std::thread server([lfd] {
    const int fd = ::accept(lfd, nullptr, nullptr);
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    if (const auto accepted = accept_upgrade(request)) {
      std::string out = *accepted;
      const Bytes text = frame({.opcode = Opcode::text}, "hold on");
      out.append(text.begin(), text.end());
      ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the client is now busy
      const Bytes close = frame({.opcode = Opcode::close}, std::string("\x03\xe8", 2));
      ::send(fd, close.data(), close.size(), MSG_NOSIGNAL);
      ::shutdown(fd, SHUT_WR);
      while (::recv(fd, buf, sizeof buf, 0) > 0) {
      }
    }
    ::close(fd);
  });
  Client client;
  ClientOptions o;
  o.close_timeout = std::chrono::seconds(60);
  CloseCode code = CloseCode::abnormal;
  ASSERT_FALSE(
      client.connect("ws://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/", o,
                     {.on_message = [](WebSocket&, Message) { std::this_thread::sleep_for(200ms); },
                      .on_close = [&](WebSocket&, CloseCode c, std::string_view) { code = c; }}));
  const auto start = std::chrono::steady_clock::now();
  client.run();
  server.join();
  ::close(lfd);
  EXPECT_EQ(code, CloseCode::normal);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30))
      << "the client waited for a FIN it had already received";
}

}  // namespace
}  // namespace duplex::test
