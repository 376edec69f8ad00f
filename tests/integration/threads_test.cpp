// Reaching connections and loops from application threads: handles, posted
// work, and timers on server loops.
#include "running_server.hpp"

#include <duplex/client.hpp>
#include <duplex/server.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace duplex::test {
namespace {

using namespace std::chrono_literals;

// Hands a value from a loop thread to the test thread.
template <typename T>
class Mailbox {
 public:
  void put(T value) {
    std::lock_guard lock(mutex_);
    value_ = std::move(value);
    ready_ = true;
    cv_.notify_all();
  }
  T take() {
    std::unique_lock lock(mutex_);
    EXPECT_TRUE(cv_.wait_for(lock, 10s, [&] { return ready_; }));
    return value_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool ready_ = false;
  T value_{};
};

TEST(Handles, SendAndCloseFromAnotherThread) {
  Mailbox<WebSocketHandle> opened;
  std::atomic<bool> closed_on_server{false};
  RunningServer rs({}, [&](Server& s) {
    ASSERT_FALSE(s.websocket(
        "/feed",
        {.on_open = [&](WebSocket& ws) { opened.put(ws.handle()); },
         .on_close = [&](WebSocket&, CloseCode, std::string_view) { closed_on_server = true; }}));
  });
  Client client;
  std::vector<std::string> got;
  CloseCode code = CloseCode::no_status;
  ASSERT_FALSE(
      client.connect(rs.url("/feed"), {},
                     {.on_message = [&](WebSocket&, Message m) { got.emplace_back(m.data); },
                      .on_close = [&](WebSocket&, CloseCode c, std::string_view) { code = c; }}));
  std::thread app([&] {
    const WebSocketHandle h = opened.take();
    ASSERT_TRUE(h);
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(h.send("tick " + std::to_string(i)));
    EXPECT_TRUE(h.post([](WebSocket& ws) { ws.send("from the loop"); }));
    EXPECT_TRUE(h.close(CloseCode::normal, "done"));
    // The connection goes: the handle then reaches nothing.
    for (int i = 0; i < 500 && h.is_open(); ++i) std::this_thread::sleep_for(10ms);
    EXPECT_FALSE(h.is_open());
    EXPECT_FALSE(h.send("too late"));
  });
  client.run();
  app.join();
  ASSERT_EQ(got.size(), 101u);
  EXPECT_EQ(got[0], "tick 0");
  EXPECT_EQ(got[99], "tick 99");
  EXPECT_EQ(got[100], "from the loop");
  EXPECT_EQ(code, CloseCode::normal);
  for (int i = 0; i < 500 && !closed_on_server; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(closed_on_server);
  EXPECT_FALSE(WebSocketHandle().send("nothing"));
}

TEST(ServerLoops, PostAndTimersRunOnTheLoops) {
  ServerOptions o;
  o.threads = 2;
  RunningServer rs(o, [](Server& s) {
    ASSERT_FALSE(s.websocket("/ticks", {.on_open = [](WebSocket& ws) { ws.subscribe("ticks"); }}));
  });
  Server& server = rs.server();
  ASSERT_EQ(server.loop_count(), 2u);
  Mailbox<bool> on_loop;
  EXPECT_TRUE(server.post([&] { on_loop.put(server.loop(0).in_loop_thread()); }));
  EXPECT_TRUE(on_loop.take());
  EXPECT_FALSE(server.loop(1).in_loop_thread());

  Client client;
  int ticks = 0;
  std::atomic<TimerId> timer{0};
  ASSERT_FALSE(client.connect(rs.url("/ticks"), {},
                              {.on_open =
                                   [&](WebSocket&) {
                                     // A timer on a server loop publishes; it
                                     // stops itself after five.
                                     auto count = std::make_shared<int>(0);
                                     server.loop(1).post([&, count] {
                                       timer = server.loop(1).every(5ms, [&, count] {
                                         server.publish("ticks", "t");
                                         if (++*count == 5) server.loop(1).cancel(timer);
                                       });
                                     });
                                   },
                               .on_message =
                                   [&](WebSocket& ws, Message) {
                                     if (++ticks == 5) ws.close();
                                   }}));
  client.run();
  EXPECT_EQ(ticks, 5);
}

}  // namespace
}  // namespace duplex::test
