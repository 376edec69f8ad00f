// Graceful shutdown: every open connection gets close 1001, run() returns
// once they are gone or the bound passes.
#include "raw_client.hpp"
#include "running_server.hpp"

#include <duplex/client.hpp>

#include <gtest/gtest.h>

#include <atomic>

namespace duplex::test {
namespace {

using namespace std::chrono_literals;

void echo(Server& s) {
  s.websocket("/", {.on_message = [](WebSocket& ws, Message m) { ws.send(m.data, m.opcode); }});
}

TEST(Shutdown, EveryConnectionGets1001AndRunReturns) {
  ServerOptions o;
  o.threads = 2;
  RunningServer rs(o, echo);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(std::make_unique<RawClient>(rs.port()));
    clients.back()->upgrade();
  }
  RawClient half_open(rs.port());
  half_open.send("GET / HTTP/1.1\r\n");  // not a WebSocket yet: simply dropped

  std::thread stopper([&] { rs.stop(); });
  for (auto& c : clients) {
    auto f = c->read_frame(5s);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->header.opcode, 0x8);
    EXPECT_EQ(close_code_of(*f), 1001);
    EXPECT_EQ(f->payload.substr(2), "server shutting down");
    c->send_frame(Opcode::close, f->payload.substr(0, 2));
    EXPECT_TRUE(c->closed_within(5s));
    c.reset();  // and close our side, as a real client does on EOF
  }

  EXPECT_TRUE(half_open.closed_within(5s));
  stopper.join();  // run() returned
}

TEST(Shutdown, PeersThatIgnoreTheCloseAreDroppedAfterTheBound) {
  ServerOptions o;
  o.shutdown_timeout = 300ms;
  o.close_timeout = 10s;  // longer than the shutdown bound: the bound must win
  RunningServer rs(o, echo);
  RawClient stubborn(rs.port());
  stubborn.upgrade();
  const auto start = std::chrono::steady_clock::now();
  rs.stop();
  EXPECT_TRUE(stubborn.closed_within(5s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s)
      << "run() must return once the bound passed";
}

TEST(Shutdown, OurClientSeesGoingAway) {
  RunningServer rs({}, echo);
  Client client;
  CloseCode code = CloseCode::abnormal;
  std::string reason;
  ASSERT_FALSE(client.connect(rs.url(), {},
                              {.on_open = [&](WebSocket&) { rs.server().stop(); },

                               .on_close =
                                   [&](WebSocket&, CloseCode c, std::string_view r) {
                                     code = c;
                                     reason = std::string(r);
                                   }}));
  client.run();
  EXPECT_EQ(code, CloseCode::going_away);
  EXPECT_EQ(reason, "server shutting down");
}

}  // namespace
}  // namespace duplex::test

namespace duplex::test {
namespace {

// The peer's close frame and its FIN often arrive together. With
// edge-triggered epoll the end of stream behind the data gets no edge of its
// own: the server must still see it, not wait out its close timeout.
TEST(Closing, CloseFrameAndFinTogetherEndTheConnectionPromptly) {
  ServerOptions o;
  o.close_timeout = std::chrono::seconds(60);
  o.shutdown_timeout = std::chrono::seconds(1);
  std::atomic<int> closes{0};
  RunningServer rs(o, [&](Server& s) {
    s.websocket(
        "/", {
                 // Holds the loop while the close frame and the FIN both
                 // arrive, so that they are announced by one edge.
                 .on_message =
                     [](WebSocket&, Message) {
                       std::this_thread::sleep_for(std::chrono::milliseconds(200));
                     },
                 .on_close = [&](WebSocket&, CloseCode, std::string_view) { closes.fetch_add(1); },
             });
  });
  for (int i = 0; i < 5; ++i) {
    RawClient raw(rs.port());
    raw.upgrade();
    raw.send_frame(Opcode::text, "hold the loop");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    raw.send_frame(Opcode::close, std::string("\x03\xe8", 2));
    ::shutdown(raw.fd(), SHUT_WR);
    std::string got;
    EXPECT_TRUE(raw.closed_within(std::chrono::seconds(20), &got)) << "the server must close TCP";
    const auto frames = decode_all(Bytes(got.begin(), got.end()));
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(close_code_of(frames[0]), 1000);
  }
  // The sessions are gone without lingering for the close timeout (60 s).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (rs.server().stats().connections > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(rs.server().stats().connections, 0u);
  EXPECT_EQ(closes.load(), 5);
}

}  // namespace
}  // namespace duplex::test
