// Handshake timeout, idle timeout and ping keepalive, with short settings.
#include "raw_client.hpp"
#include "running_server.hpp"

#include <gtest/gtest.h>

namespace duplex::test {
namespace {

using namespace std::chrono_literals;

void echo(Server& s) {
  s.websocket("/", {.on_message = [](WebSocket& ws, Message m) { ws.send(m.data, m.opcode); }});
}

TEST(Timers, ClientThatNeverFinishesItsRequestIsDropped) {
  ServerOptions o;
  o.handshake_timeout = 200ms;
  RunningServer rs(o, echo);
  RawClient raw(rs.port());
  raw.send("GET / HTTP/1.1\r\nHost: h\r\n");  // and nothing more
  std::string got;
  EXPECT_TRUE(raw.closed_within(5s, &got));
  EXPECT_TRUE(got.empty()) << got;
}

TEST(Timers, FinishedRequestIsNotDroppedByTheHandshakeTimeout) {
  ServerOptions o;
  o.handshake_timeout = 200ms;
  o.ping_interval = 0ms;
  RunningServer rs(o, echo);
  RawClient raw(rs.port());
  raw.upgrade();
  bool eof = false;
  raw.read_some(600ms, &eof);
  EXPECT_FALSE(eof);
  raw.send_frame(Opcode::text, "still here");
  auto f = raw.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload, "still here");
}

TEST(Timers, IdleConnectionIsClosedWith1001) {
  ServerOptions o;
  o.idle_timeout = 300ms;
  o.ping_interval = 0ms;
  RunningServer rs(o, echo);
  RawClient raw(rs.port());
  raw.upgrade();
  auto f = raw.read_frame(5s);
  ASSERT_TRUE(f) << "expected a close frame";
  EXPECT_EQ(f->header.opcode, 0x8);
  EXPECT_EQ(close_code_of(*f), 1001);
  EXPECT_EQ(f->payload.substr(2), "idle timeout");
  raw.send_frame(Opcode::close, std::string("\x03\xe9", 2));
  EXPECT_TRUE(raw.closed_within(5s)) << "the server closes TCP after the handshake";
}

TEST(Timers, TrafficKeepsAConnectionFromBeingIdle) {
  ServerOptions o;
  o.idle_timeout = 400ms;
  o.ping_interval = 0ms;
  RunningServer rs(o, echo);
  RawClient raw(rs.port());
  raw.upgrade();
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(150ms);
    raw.send_frame(Opcode::text, "tick");
    auto f = raw.read_frame();
    ASSERT_TRUE(f);
    ASSERT_EQ(f->payload, "tick") << "closed after " << i << " ticks";
  }
}

TEST(Timers, QuietConnectionsArePingedAndKeptWhenTheyAnswer) {
  ServerOptions o;
  o.ping_interval = 200ms;
  o.idle_timeout = 0ms;
  RunningServer rs(o, echo);
  RawClient raw(rs.port());
  raw.upgrade();
  for (int i = 0; i < 3; ++i) {
    auto ping = raw.read_frame(5s);
    ASSERT_TRUE(ping);
    ASSERT_EQ(ping->header.opcode, 0x9);
    raw.send_frame(Opcode::pong, ping->payload);
  }
  raw.send_frame(Opcode::text, "alive");
  auto f = raw.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload, "alive");
}

TEST(Timers, ConnectionThatDoesNotAnswerPingsIsDropped) {
  ServerOptions o;
  o.ping_interval = 200ms;
  o.idle_timeout = 0ms;
  RunningServer rs(o, echo);
  RawClient raw(rs.port());
  raw.upgrade();
  std::string got;
  EXPECT_TRUE(raw.closed_within(5s, &got));
  const auto frames = decode_all(Bytes(got.begin(), got.end()));
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames.front().header.opcode, 0x9) << "it was pinged first";
}

}  // namespace
}  // namespace duplex::test
