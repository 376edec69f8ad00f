// A client's connections from start to end: reconnecting from on_error and
// from on_close (at once or from a timer), stop(), and destruction, with
// on_close exactly once for every connection that opened.
#include "loopback_ports.hpp"
#include "running_server.hpp"

#include <duplex/client.hpp>
#include <duplex/server.hpp>

#include <gtest/gtest.h>

namespace duplex::test {
namespace {

using namespace std::chrono_literals;

Handlers<> echo() {
  return {.on_message = [](WebSocket& ws, Message m) { ws.send(m.data, m.opcode); }};
}

TEST(Reconnect, FromOnErrorAndFromOnCloseAlike) {
  RunningServer rs({}, [](Server& s) { ASSERT_FALSE(s.websocket("/echo", echo())); });
  Client client;
  int errors = 0, opens = 0, closes = 0;
  Handlers<> h;
  h.on_open = [&](WebSocket& ws) {
    ++opens;
    ws.close();
  };
  h.on_close = [&](WebSocket&, CloseCode, std::string_view) {
    ++closes;
    // Second life: again, after a backoff, from a timer of the client's loop.
    if (closes == 1) client.loop().after(20ms, [&] { client.connect(rs.url("/echo"), {}, h); });
  };
  h.on_error = [&](const ConnectError& e) {
    EXPECT_EQ(e.error, Condition::connection_failed);
    ++errors;
    // First life: refused, so connect to the live server right away.
    client.connect(rs.url("/echo"), {}, h);
  };
  ASSERT_FALSE(client.connect(refused_url(), {}, h));
  client.run();  // keeps going through both reconnects
  EXPECT_EQ(errors, 1);
  EXPECT_EQ(opens, 2);
  EXPECT_EQ(closes, 2);
}

TEST(Reconnect, ATimerAloneKeepsRunGoing) {
  RunningServer rs({}, [](Server& s) { ASSERT_FALSE(s.websocket("/echo", echo())); });
  Client client;
  bool opened = false;
  client.loop().after(30ms, [&] {
    client.connect(rs.url("/echo"), {}, {.on_open = [&](WebSocket& ws) {
                     opened = true;
                     ws.close();
                   }});
  });
  client.run();
  EXPECT_TRUE(opened);
}

TEST(ClientStop, ClosesOpenConnectionsAndCancelsPendingOnes) {
  RunningServer rs({}, [](Server& s) { ASSERT_FALSE(s.websocket("/echo", echo())); });
  SilentPeer silent;
  Client client;
  int opens = 0, closes = 0, cancelled = 0, other_errors = 0;
  std::vector<CloseCode> codes;
  const Handlers<> h{
      .on_open =
          [&](WebSocket&) {
            if (++opens == 3) client.stop();
          },
      .on_close =
          [&](WebSocket&, CloseCode code, std::string_view) {
            ++closes;
            codes.push_back(code);
          },
      .on_error =
          [&](const ConnectError& e) {
            if (e.error == ClientError::cancelled) {
              ++cancelled;
            } else {
              ++other_errors;
            }
          },
  };
  ClientOptions patient;
  patient.handshake_timeout = 30s;
  ASSERT_FALSE(client.connect(silent.url, patient, h));
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(client.connect(rs.url("/echo"), {}, h));
  client.run();
  EXPECT_EQ(opens, 3);
  EXPECT_EQ(closes, 3);                                           // exactly once each
  for (CloseCode c : codes) EXPECT_EQ(c, CloseCode::going_away);  // the server echoed our 1001
  EXPECT_EQ(cancelled, 1);
  EXPECT_EQ(other_errors, 0);
  EXPECT_EQ(client.connect(rs.url("/echo"), {}, h), std::error_code{});  // usable again
}

TEST(ClientDestruction, ConnectionsThatNeverRanAreReportedOnce) {
  int cancelled = 0, opens = 0;
  {
    Client client;
    for (int i = 0; i < 2; ++i) {
      ASSERT_FALSE(client.connect("ws://127.0.0.1:1/", {},
                                  {.on_open = [&](WebSocket&) { ++opens; },
                                   .on_error =
                                       [&](const ConnectError& e) {
                                         EXPECT_EQ(e.error, ClientError::cancelled);
                                         ++cancelled;
                                       }}));
    }
  }
  EXPECT_EQ(cancelled, 2);
  EXPECT_EQ(opens, 0);
}

}  // namespace
}  // namespace duplex::test
