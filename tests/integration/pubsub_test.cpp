// Publish/subscribe over real sockets: order per publisher, no delivery
// after unsubscribe or close, fan-out across loops and from application
// threads, and the slow-consumer policies.
#include "raw_client.hpp"
#include "running_server.hpp"

#include <duplex/client.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>

#include <array>
#include <atomic>
#include <map>

namespace duplex::test {
namespace {

using namespace std::chrono_literals;

// /sub subscribes to "t"; /pub publishes every message it gets to "t";
// "unsub" on /sub unsubscribes and answers "unsubscribed".
void topic_routes(Server& s) {
  s.websocket("/sub", {.on_open =
                           [](WebSocket& ws) {
                             ws.subscribe("t");
                             ws.subscribe("control");
                           },
                       .on_message =
                           [](WebSocket& ws, Message m) {
                             if (m.data == "unsub") {
                               ws.unsubscribe("t");
                               ws.send_text("unsubscribed");
                             }
                           }});
  s.websocket("/pub",
              {.on_message = [](WebSocket& ws, Message m) { ws.publish("t", m.data, m.opcode); }});
}

// Waits (bounded) until `pred` holds.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(PubSub, EachPublishersMessagesArriveInOrderAtEverySubscriberAcrossLoops) {
  ServerOptions o;
  o.threads = 2;
  RunningServer rs(o, topic_routes);
  constexpr int subscribers = 24;
  constexpr int publishers = 3;
  constexpr int per_publisher = 200;
  constexpr int total = (publishers + 1) * per_publisher;  // + the application thread

  Client client;
  std::vector<std::vector<std::string>> received(subscribers);
  int opened = 0;
  bool all_done = false;
  std::vector<WebSocket*> subs;
  auto start_publishing = [&] {
    for (int p = 0; p < publishers; ++p) {
      client.connect(rs.url("/pub"), {}, {.on_open = [p](WebSocket& ws) {
                       for (int i = 0; i < per_publisher; ++i) {
                         ws.send_text("c" + std::to_string(p) + ":" + std::to_string(i));
                       }
                       ws.close();
                     }});
    }
    std::thread([&] {
      for (int i = 0; i < per_publisher; ++i) rs.server().publish("t", "app:" + std::to_string(i));
    }).detach();
  };
  for (int k = 0; k < subscribers; ++k) {
    client.connect(rs.url("/sub"), {},
                   {.on_open =
                        [&](WebSocket& ws) {
                          subs.push_back(&ws);
                          // Everyone subscribed (server side) before anything is published.
                          if (++opened == subscribers) {
                            ASSERT_TRUE(eventually(
                                [&] { return rs.server().subscriber_count("t") == subscribers; }));
                            start_publishing();
                          }
                        },
                    .on_message =
                        [&, k](WebSocket&, Message m) {
                          received[k].emplace_back(m.data);
                          bool done = true;
                          for (const auto& r : received) done = done && r.size() == total;
                          if (done && !all_done) {
                            all_done = true;
                            for (WebSocket* ws : subs) ws->close();
                          }
                        }});
  }
  std::thread watchdog([&] {
    for (int i = 0; i < 300 && !all_done; ++i) std::this_thread::sleep_for(100ms);
    client.stop();
  });
  client.run();
  watchdog.join();
  ASSERT_TRUE(all_done) << "not every subscriber got every message";
  for (const auto& messages : received) {
    std::map<std::string, int> next;
    for (const std::string& m : messages) {
      const auto colon = m.find(':');
      const std::string who = m.substr(0, colon);
      const int seq = std::stoi(m.substr(colon + 1));
      ASSERT_EQ(seq, next[who]) << "out of order from " << who;
      ++next[who];
    }
  }
}

TEST(PubSub, NothingArrivesAfterUnsubscribeOrClose) {
  RunningServer rs({}, topic_routes);
  RawClient sub(rs.port());
  sub.upgrade("/sub");
  ASSERT_TRUE(eventually([&] { return rs.server().subscriber_count("t") == 1; }));
  rs.server().publish("t", "before");
  auto f = sub.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload, "before");

  sub.send_frame(Opcode::text, "unsub");
  f = sub.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload, "unsubscribed");
  EXPECT_EQ(rs.server().subscriber_count("t"), 0u);
  // From one publishing thread, "after" (topic t) is handed over before
  // "sentinel" (topic control): had it been delivered, it would come first.
  rs.server().publish("t", "after");
  rs.server().publish("control", "sentinel");
  f = sub.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload, "sentinel");

  RawClient gone(rs.port());
  gone.upgrade("/sub");
  ASSERT_TRUE(eventually([&] { return rs.server().subscriber_count("control") == 2; }));
  EXPECT_EQ(rs.server().stats().topics, 2u);
  ::shutdown(gone.fd(), SHUT_RDWR);  // the peer vanishes
  EXPECT_TRUE(eventually([&] { return rs.server().subscriber_count("control") == 1; }))
      << "closing unsubscribes";
}

// A message published before a subscription began never reaches it, even
// while it is still on its way to the subscriber's loop. Here the handler
// publishes through Server::publish (handed to the loops after the handler
// returns) and then subscribes; across loops the same happens whenever a
// client subscribes in answer to a reply its publisher sent.
TEST(PubSub, ASubscriptionGetsNothingPublishedBeforeIt) {
  for (const unsigned threads : {1u, 2u}) {
    ServerOptions o;
    o.threads = threads;
    RunningServer rs(o, [](Server& s) {
      s.websocket("/late", {.on_message = [&s](WebSocket& ws, Message m) {
                    if (m.data == "join") {
                      s.publish("t", "published before the subscription");
                      ws.subscribe("t");
                      ws.send_text("joined");
                    } else {
                      ws.publish("t", m.data, Opcode::text, true);
                    }
                  }});
    });
    RawClient c(rs.port());
    c.upgrade("/late");
    c.send_frame(Opcode::text, "join");
    auto f = c.read_frame();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->payload, "joined");
    c.send_frame(Opcode::text, "after");
    f = c.read_frame();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->payload, "after") << "with " << threads << " threads";
  }
}

// A subscriber that stops reading: a tiny receive buffer, never read.
std::unique_ptr<RawClient> stalled_subscriber(std::uint16_t port) {
  auto c = std::make_unique<RawClient>(port, 4096);
  c->upgrade("/sub");
  return c;
}

struct Receivers {
  Client client;
  std::atomic<int> done{0};
  std::array<std::atomic<int>, 4> counts{};

  int slowest() const {
    int m = counts[0];
    for (const auto& c : counts) m = std::min(m, c.load());
    return m;
  }
};

// Opens the reading subscribers on `client`; each closes after `expected` messages.
void open_readers(Receivers& r, const std::string& url, int expected) {
  for (std::size_t k = 0; k < r.counts.size(); ++k) {
    r.client.connect(url, {}, {.on_message = [&r, k, expected](WebSocket& ws, Message) {
                       if (++r.counts[k] == expected) {
                         ++r.done;
                         ws.close();
                       }
                     }});
  }
}

// Publishes `messages` to "t" in batches, each time waiting (bounded) until
// the readers caught up: a pace they can follow, which a stalled reader
// cannot.
void publish_paced(Server& server, Receivers& r, int messages) {
  const std::string payload(1024, 'x');
  constexpr int batch = 50;
  for (int sent = 0; sent < messages;) {
    for (int i = 0; i < batch && sent < messages; ++i, ++sent) server.publish("t", payload);
    if (!eventually([&] { return r.slowest() >= sent; })) return;
  }
}

// Publishes `messages` paced for four readers once they and the stalled
// subscriber (five in all) are subscribed; returns when the readers are done
// or after 30 s.
void publish_to_readers_beside(RunningServer& rs, Receivers& r, int messages) {
  open_readers(r, rs.url("/sub"), messages);
  std::thread publisher([&] {
    if (!eventually([&] { return rs.server().subscriber_count("t") == 5; })) return;
    publish_paced(rs.server(), r, messages);
  });
  std::thread watchdog([&] {
    for (int i = 0; i < 300 && r.done < 4; ++i) std::this_thread::sleep_for(100ms);
    r.client.stop();
  });
  r.client.run();
  publisher.join();
  watchdog.join();
}

TEST(PubSub, StalledReaderLosesMessagesAloneUnderTheDropPolicy) {
  constexpr std::size_t limit = 64 * 1024;
  // Far more than the kernel buffers a stalled socket can absorb (the send
  // side grows to a few MiB).
  constexpr int messages = 20000;
  ServerOptions o;
  o.max_backpressure = limit;
  o.ping_interval = 0ms;
  o.slow_consumer = SlowConsumerPolicy::drop_message;
  RunningServer rs(o, topic_routes);
  auto stalled = stalled_subscriber(rs.port());

  Receivers r;
  publish_to_readers_beside(rs, r, messages);
  // The readers got everything although one subscriber stopped reading: the
  // stalled one cost them neither messages nor a wait.
  EXPECT_EQ(r.done.load(), 4);
  // The stalled one only ever had about `limit` queued; the rest was dropped.
  const auto stats = rs.server().stats();
  EXPECT_GT(stats.messages_dropped, static_cast<std::uint64_t>(messages / 2));
  EXPECT_LT(stats.messages_dropped, static_cast<std::uint64_t>(messages));
  EXPECT_EQ(stats.slow_consumers_closed, 0u);
}

TEST(PubSub, StalledReaderIsClosedWith1013UnderTheClosePolicy) {
  constexpr std::size_t limit = 64 * 1024;
  constexpr int messages = 20000;
  ServerOptions o;
  o.max_backpressure = limit;
  o.ping_interval = 0ms;
  o.slow_consumer = SlowConsumerPolicy::close_connection;
  o.close_timeout = 30s;
  RunningServer rs(o, topic_routes);
  auto stalled = stalled_subscriber(rs.port());

  Receivers r;
  publish_to_readers_beside(rs, r, messages);
  EXPECT_EQ(r.done.load(), 4);
  EXPECT_EQ(rs.server().stats().slow_consumers_closed, 1u);
  // When the stalled reader reads at last, behind the queued messages it
  // finds the close frame: 1013 with the reason.
  std::optional<DecodedFrame> last;
  const auto until = std::chrono::steady_clock::now() + 30s;
  for (int i = 0; i < messages + 10 && std::chrono::steady_clock::now() < until; ++i) {
    auto f = stalled->read_frame(5s);
    if (!f) break;
    last = f;
    if (f->header.opcode == 0x8) break;
  }
  ASSERT_TRUE(last);
  EXPECT_EQ(last->header.opcode, 0x8);
  EXPECT_EQ(close_code_of(*last), 1013);
  EXPECT_NE(last->payload.find("too slow"), std::string::npos);
}

}  // namespace
}  // namespace duplex::test
