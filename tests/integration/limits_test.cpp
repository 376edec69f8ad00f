// The limits an operator sets: connections in total, per client address
// and still in their handshake; frames per message; messages per second.
#include "raw_client.hpp"
#include "running_server.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace duplex::test {
namespace {

using namespace std::chrono_literals;

void echo_route(Server& s) {
  s.websocket("/echo", {.on_message = [](WebSocket& ws, Message m) { ws.send(m.data, m.opcode); }});
}

// Waits (bounded) until the server counts `n` open connections.
bool wait_for_connections(Server& server, std::size_t n) {
  for (int i = 0; i < 500; ++i) {
    if (server.stats().connections == n) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

std::string upgrade_response(RawClient& raw) {
  raw.send(
      "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  return raw.read_http_response();
}

TEST(Limits, ConnectionsOverMaxConnectionsGet503UntilOneCloses) {
  ServerOptions o;
  o.max_connections = 3;
  RunningServer rs(o, echo_route);
  std::vector<std::unique_ptr<RawClient>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(std::make_unique<RawClient>(rs.port()));
    open.back()->upgrade("/echo");
  }
  {
    RawClient fourth(rs.port());
    const std::string refused = upgrade_response(fourth);
    EXPECT_EQ(refused.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << refused;
    EXPECT_NE(refused.find("Retry-After: 5\r\n"), std::string::npos) << refused;
    EXPECT_NE(refused.find("connection limit"), std::string::npos) << refused;
    EXPECT_TRUE(fourth.closed_within(2s));
  }
  EXPECT_EQ(rs.server().stats().connections_refused, 1u);

  open.pop_back();  // one leaves: a new connection is served again
  ASSERT_TRUE(wait_for_connections(rs.server(), 2));
  RawClient again(rs.port());
  again.upgrade("/echo");
  again.send_frame(Opcode::text, "served");
  const auto echoed = again.read_frame();
  ASSERT_TRUE(echoed.has_value());
  EXPECT_EQ(echoed->payload, "served");
}

TEST(Limits, OneAddressGetsNoMoreThanItsShare) {
  ServerOptions o;
  o.max_connections_per_address = 2;
  RunningServer rs(o, echo_route);
  auto first = std::make_unique<RawClient>(rs.port());
  first->upgrade("/echo");
  RawClient second(rs.port());
  second.upgrade("/echo");
  {
    RawClient third(rs.port());
    const std::string refused = upgrade_response(third);
    EXPECT_EQ(refused.rfind("HTTP/1.1 503 ", 0), 0u) << refused;
    EXPECT_NE(refused.find("from your address"), std::string::npos) << refused;
    ASSERT_TRUE(third.closed_within(2s));
  }

  // The refused connection took no slot, the closed one gives its back.
  first.reset();
  ASSERT_TRUE(wait_for_connections(rs.server(), 1));
  RawClient fourth(rs.port());
  fourth.upgrade("/echo");
  EXPECT_EQ(rs.server().stats().connections_refused, 1u);
}

TEST(Limits, ConnectionsThatSayNothingCannotCrowdOutTheRestForEver) {
  ServerOptions o;
  o.max_pending_handshakes = 2;
  RunningServer rs(o, echo_route);
  RawClient silent1(rs.port());
  RawClient silent2(rs.port());
  ASSERT_TRUE(wait_for_connections(rs.server(), 2));
  // Two wait for their requests: a third waits in the backlog, unread
  // (one more may have been taken with them, so the fourth is the test).
  RawClient third(rs.port());
  RawClient fourth(rs.port());
  const std::string request =
      "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  third.send(request);
  fourth.send(request);
  std::this_thread::sleep_for(300ms);
  EXPECT_LE(rs.server().stats().connections, 3u);
  EXPECT_EQ(fourth.read_some(10ms), "") << "answered while the handshakes were full";

  // The silent ones finish their handshakes: the waiting ones are taken.
  silent1.upgrade("/echo");
  silent2.upgrade("/echo");
  const std::string answer = fourth.read_http_response();
  EXPECT_EQ(answer.rfind("HTTP/1.1 101 ", 0), 0u) << answer;
  EXPECT_EQ(third.read_http_response().rfind("HTTP/1.1 101 ", 0), 0u);
  EXPECT_EQ(rs.server().stats().connections_refused, 0u);
}

TEST(Limits, AMessageInMoreFramesThanAllowedCloses1009) {
  ServerOptions o;
  o.max_fragments = 4;
  RunningServer rs(o, echo_route);
  RawClient raw(rs.port());
  raw.prepend_pending(raw.upgrade("/echo"));
  raw.send_frame(Opcode::text, "a", false);
  for (int i = 0; i < 2; ++i) raw.send_frame(Opcode::continuation, "b", false);
  raw.send_frame(Opcode::continuation, "c", true);
  auto echoed = raw.read_frame();
  ASSERT_TRUE(echoed.has_value());
  EXPECT_EQ(echoed->payload, "abbc") << "four frames are allowed";

  raw.send_frame(Opcode::binary, "", false);
  for (int i = 0; i < 4; ++i) raw.send_frame(Opcode::continuation, "", false);
  const auto close = raw.read_frame();
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->header.opcode, static_cast<std::uint8_t>(Opcode::close));
  EXPECT_EQ(close_code_of(*close), 1009);
}

TEST(Limits, AClientSendingFasterThanItsRateIsClosed1008) {
  ServerOptions o;
  o.max_messages_per_second = 5;
  RunningServer rs(o, echo_route);
  RawClient calm(rs.port());
  calm.prepend_pending(calm.upgrade("/echo"));
  for (int i = 0; i < 3; ++i) calm.send_frame(Opcode::text, "calm");
  for (int i = 0; i < 3; ++i) {
    const auto echoed = calm.read_frame();
    ASSERT_TRUE(echoed.has_value());
    EXPECT_EQ(echoed->payload, "calm");
  }

  RawClient flood(rs.port());
  flood.prepend_pending(flood.upgrade("/echo"));
  Bytes burst;
  for (int i = 0; i < 20; ++i) {
    const Bytes one = frame({.opcode = Opcode::text, .masked = true}, "x");
    burst.insert(burst.end(), one.begin(), one.end());
  }
  flood.send_bytes(burst);  // one write: read at one instant, so 5 pass and the 6th closes
  int echoes = 0;
  std::optional<DecodedFrame> f;
  while ((f = flood.read_frame()) && f->header.opcode == static_cast<std::uint8_t>(Opcode::text)) {
    ++echoes;
  }
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.opcode, static_cast<std::uint8_t>(Opcode::close));
  EXPECT_EQ(close_code_of(*f), 1008);
  EXPECT_EQ(echoes, 5);
  EXPECT_EQ(rs.server().stats().rate_limited_closed, 1u);
}

// A client that sends big messages to an echo route and reads nothing.
struct Hoarder {
  explicit Hoarder(std::uint16_t port) : raw(port, 4096) {
    raw.prepend_pending(raw.upgrade("/echo"));
  }
  void send(std::size_t size) { raw.send_frame(Opcode::binary, std::string(size, 'h')); }
  RawClient raw;
};

bool wait_until(const std::function<bool()>& done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST(Limits, AMessageEchoedToAClientThatDoesNotReadIsHeldOnceNotTwice) {
  RunningServer rs({}, echo_route);
  Hoarder h(rs.port());
  h.send(4 << 20);
  // Once a second the loop adds up what connections hold: the part of the
  // echo the kernel did not take, not the 4 MiB reassembled message too.
  ASSERT_TRUE(wait_until([&] { return rs.server().stats().memory_held > 0; }));
  EXPECT_LT(rs.server().stats().memory_held, 4u << 20);
}

TEST(Limits, OverTheMemoryBudgetTheLargestHoldersAreDropped) {
  ServerOptions o;
  o.memory_budget = 12 << 20;
  RunningServer rs(o, echo_route);
  std::vector<std::unique_ptr<Hoarder>> hoarders;
  for (int i = 0; i < 4; ++i) {
    hoarders.push_back(std::make_unique<Hoarder>(rs.port()));
    hoarders.back()->send((8 + 2 * i) << 20);  // 8, 10, 12 and 14 MiB
  }
  ASSERT_TRUE(wait_until([&] { return rs.server().stats().memory_shed >= 1; }));
  // 44 MiB echoed (less what the kernel took, a few MiB each) against a
  // 12 MiB budget: the largest holders go first, the smallest stays.
  EXPECT_TRUE(hoarders[3]->raw.closed_within(5s));
  EXPECT_TRUE(hoarders[2]->raw.closed_within(5s));
  EXPECT_FALSE(hoarders[0]->raw.closed_within(100ms));
  EXPECT_LE(rs.server().stats().memory_held, o.memory_budget);

  RawClient healthy(rs.port());
  healthy.prepend_pending(healthy.upgrade("/echo"));
  healthy.send_frame(Opcode::text, "unharmed");
  const auto echoed = healthy.read_frame();
  ASSERT_TRUE(echoed.has_value());
  EXPECT_EQ(echoed->payload, "unharmed");
}

}  // namespace
}  // namespace duplex::test
