// Routes with settings of their own, typed per-connection data, and routes
// refused once the server listens.
#include "running_server.hpp"

#include <duplex/client.hpp>
#include <duplex/server.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <string>

namespace duplex::test {
namespace {

using namespace std::chrono_literals;

Handlers<> echo() {
  return {.on_message = [](WebSocket& ws, Message m) { ws.send(m.data, m.opcode); }};
}

// Connects to `url`, sends `text`, and reports the close code (or 0 when
// the echo came back and we closed normally).
struct Outcome {
  bool echoed = false;
  CloseCode code = CloseCode::no_status;
  std::string extensions;
};
Outcome send_one(const std::string& url, const std::string& text, ClientOptions options = {}) {
  Client client;
  Outcome out;
  EXPECT_FALSE(client.connect(
      url, std::move(options),
      {.on_open =
           [&](WebSocket& ws) {
             out.extensions = std::string(ws.extensions());
             ws.send_text(text);
           },
       .on_message =
           [&](WebSocket& ws, Message m) {
             out.echoed = m.data == text;
             ws.close();
           },
       .on_close = [&](WebSocket&, CloseCode code, std::string_view) { out.code = code; }}));
  client.run();
  return out;
}

TEST(RouteOptions, MessageLimitsArePerRoute) {
  RunningServer rs({}, [](Server& s) {
    ASSERT_FALSE(s.websocket("/small", echo(), {.max_message_size = 1024}));
    ASSERT_FALSE(s.websocket("/large", echo()));
  });
  const std::string big(2000, 'x');
  const Outcome small = send_one(rs.url("/small"), big);
  EXPECT_FALSE(small.echoed);
  EXPECT_EQ(small.code, CloseCode::message_too_big);
  const Outcome large = send_one(rs.url("/large"), big);
  EXPECT_TRUE(large.echoed);
  EXPECT_EQ(large.code, CloseCode::normal);
}

TEST(RouteOptions, CompressionIsPerRoute) {
  ServerOptions o;
  o.deflate.enabled = true;
  RunningServer rs(o, [](Server& s) {
    ASSERT_FALSE(s.websocket("/compressed", echo()));
    ASSERT_FALSE(s.websocket("/plain", echo(), {.compression = false}));
  });
  ClientOptions offers;
  offers.deflate.enabled = true;
  const Outcome z = send_one(rs.url("/compressed"), std::string(500, 'z'), offers);
  EXPECT_TRUE(z.echoed);
  EXPECT_NE(z.extensions.find("permessage-deflate"), std::string::npos);
  const Outcome plain = send_one(rs.url("/plain"), std::string(500, 'p'), offers);
  EXPECT_TRUE(plain.echoed);
  EXPECT_EQ(plain.extensions, "");
}

// Five 2 MiB messages that compress to a few KiB each, sent at once; the
// echoes counted and how the connection ended.
struct InflateRun {
  int echoes = 0;
  CloseCode code = CloseCode::no_status;
  std::string reason;
};
InflateRun send_compressible(const std::string& url) {
  ClientOptions offers;
  offers.deflate.enabled = true;
  offers.max_message_size = 4 << 20;
  Client client;
  InflateRun run;
  const std::string big(2 << 20, 'z');
  EXPECT_FALSE(client.connect(url, offers,
                              {.on_open =
                                   [&](WebSocket& ws) {
                                     for (int i = 0; i < 5; ++i) ws.send_text(big);
                                   },
                               .on_message =
                                   [&](WebSocket& ws, Message) {
                                     if (++run.echoes == 5) ws.close();
                                   },
                               .on_close =
                                   [&](WebSocket&, CloseCode c, std::string_view r) {
                                     run.code = c;
                                     run.reason = std::string(r);
                                   }}));
  client.run();
  return run;
}

TEST(RouteOptions, InflatingFasterThanTheRouteAllowsCloses1008) {
  ServerOptions o;
  o.deflate.enabled = true;
  RunningServer rs(o, [](Server& s) {
    ASSERT_FALSE(s.websocket("/limited", echo(), {.max_inflate_per_second = 1 << 20}));
    ASSERT_FALSE(s.websocket("/free", echo(), {.max_inflate_per_second = 0}));
  });
  // One message overdraws the 1 MiB a second; the next, at once, is refused.
  const InflateRun limited = send_compressible(rs.url("/limited"));
  EXPECT_EQ(limited.code, CloseCode::policy_violation);
  EXPECT_EQ(limited.reason, "inflating too much");
  EXPECT_GE(limited.echoes, 1);
  EXPECT_LT(limited.echoes, 5);
  EXPECT_EQ(rs.server().stats().rate_limited_closed, 1u);
  const InflateRun free = send_compressible(rs.url("/free"));
  EXPECT_EQ(free.echoes, 5);
  EXPECT_EQ(free.code, CloseCode::normal);
}

TEST(RouteOptions, IdleTimeoutIsPerRoute) {
  RunningServer rs(
      {}, [](Server& s) { ASSERT_FALSE(s.websocket("/quick", echo(), {.idle_timeout = 100ms})); });
  Client client;
  CloseCode code = CloseCode::no_status;
  std::string reason;
  ASSERT_FALSE(client.connect(rs.url("/quick"), {},
                              {.on_close = [&](WebSocket&, CloseCode c, std::string_view r) {
                                code = c;
                                reason = std::string(r);
                              }}));
  client.run();  // the server closes the silent connection by itself
  EXPECT_EQ(code, CloseCode::going_away);
  EXPECT_EQ(reason, "idle timeout");
}

// Counts the lives of per-connection objects.
struct Tally {
  static inline std::atomic<int> made{0};
  static inline std::atomic<int> gone{0};
  Tally() { ++made; }
  ~Tally() { ++gone; }
  int messages = 0;
  std::string who;
};

TEST(TypedData, EachConnectionHasItsOwnFromUpgradeToClose) {
  Tally::made = 0;
  Tally::gone = 0;
  std::atomic<int> closes_seen{0};
  {
    RunningServer rs({}, [&](Server& s) {
      ASSERT_FALSE(s.websocket<Tally>(
          "/count",
          {.on_upgrade = [](Upgrade& u, Tally& t) { t.who = std::string(u.query()); },
           .on_message = [](WebSocket& ws, Tally& t,
                            Message) { ws.send(t.who + ":" + std::to_string(++t.messages)); },
           .on_close =
               [&](WebSocket&, Tally& t, CloseCode, std::string_view) {
                 EXPECT_EQ(t.messages, 3);  // still there in on_close
                 ++closes_seen;
               }}));
      // A refused upgrade makes (and frees) an object that never opens.
      ASSERT_FALSE(s.websocket<Tally>("/refused",
                                      {.on_upgrade = [](Upgrade& u, Tally&) { u.reject(403); }}));
    });
    for (const char* who : {"ann", "bob"}) {
      Client client;
      std::vector<std::string> replies;
      ASSERT_FALSE(client.connect(rs.url("/count?") + who, {},
                                  {.on_open =
                                       [](WebSocket& ws) {
                                         for (int i = 0; i < 3; ++i) ws.send("x");
                                       },
                                   .on_message =
                                       [&](WebSocket& ws, Message m) {
                                         replies.emplace_back(m.data);
                                         if (replies.size() == 3) ws.close();
                                       }}));
      client.run();
      ASSERT_EQ(replies.size(), 3u);
      EXPECT_EQ(replies[2], std::string(who) + ":3");
    }
    Client refused;
    ASSERT_FALSE(refused.connect(rs.url("/refused"), {}, {}));
    refused.run();
  }
  EXPECT_EQ(closes_seen.load(), 2);
  EXPECT_EQ(Tally::made.load(), 3);
  EXPECT_EQ(Tally::gone.load(), 3);
}

TEST(TypedData, ClientConnectionsHaveTheirsToo) {
  RunningServer rs({}, [](Server& s) { ASSERT_FALSE(s.websocket("/echo", echo())); });
  struct Progress {
    int round_trips = 0;
  };
  Client client;
  int final_count = 0;
  ASSERT_FALSE(client.connect<Progress>(
      rs.url("/echo"), {},
      {.on_open = [](WebSocket& ws, Progress&) { ws.send("ping"); },
       .on_message =
           [](WebSocket& ws, Progress& p, Message) {
             if (++p.round_trips < 5) {
               ws.send("ping");
             } else {
               ws.close();
             }
           },
       .on_close = [&](WebSocket&, Progress& p, CloseCode,
                       std::string_view) { final_count = p.round_trips; }}));
  client.run();
  EXPECT_EQ(final_count, 5);
}

TEST(Routes, RefusedOnceTheServerListens) {
  Server server({.host = "127.0.0.1", .port = 0, .threads = 1, .handle_signals = false});
  ASSERT_FALSE(server.websocket("/before", echo()));
  ASSERT_TRUE(server.listen().ok());
  EXPECT_EQ(server.websocket("/after", echo()), UsageError::server_running);
  EXPECT_EQ(server.http("/after", [](const HttpRequest&, HttpResponse&) {}),
            UsageError::server_running);
  EXPECT_EQ(server.loop_count(), 1u);
}

}  // namespace
}  // namespace duplex::test
