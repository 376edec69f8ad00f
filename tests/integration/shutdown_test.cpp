// Graceful shutdown: every open connection gets close 1001, run() returns
// once they are gone or the bound passes.
#include "raw_client.hpp"
#include "running_server.hpp"

#include <duplex/client.hpp>

#include <gtest/gtest.h>

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
