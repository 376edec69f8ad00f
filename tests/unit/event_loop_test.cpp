// The event loop without connections, on every backend: work posted from
// other threads, application timers (once, repeating, cancelled, set from
// other threads), the loop's thread identity, and handles that outlive the
// loop.
#include "transport/event_loop.hpp"

#include "backend_params.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace duplex::test {
namespace {

using namespace std::chrono_literals;

class EventLoop : public ::testing::TestWithParam<BackendParam> {
 protected:
  std::unique_ptr<transport::EventLoop> make_loop() {
    return transport::make_event_loop(GetParam().backend, GetParam().single_thread);
  }
};

TEST_P(EventLoop, PostedWorkRunsOnTheLoopThreadInOrder) {
  auto loop = make_loop();
  std::vector<int> seen;
  std::atomic<bool> on_loop{true};
  std::thread poster([&] {
    for (int i = 0; i < 1000; ++i) {
      loop->post([&, i] {
        if (!loop->in_loop_thread()) on_loop = false;
        seen.push_back(i);
        if (i == 999) loop->stop();
      });
    }
  });
  EXPECT_FALSE(loop->in_loop_thread());
  loop->run();
  poster.join();
  ASSERT_EQ(seen.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(seen[i], i);
  EXPECT_TRUE(on_loop);
}

TEST_P(EventLoop, TimersRunOnceRepeatOrAreCancelled) {
  auto loop = make_loop();
  int once = 0, repeated = 0, cancelled = 0;
  loop->after(5ms, [&] { ++once; });
  const TimerId never = loop->after(20ms, [&] { ++cancelled; });
  TimerId every = 0;
  every = loop->every(2ms, [&] {
    if (++repeated == 5) loop->cancel(every);  // a timer may cancel itself
  });
  loop->cancel(never);
  loop->after(60ms, [&] { loop->stop(); });
  loop->run();
  EXPECT_EQ(once, 1);
  EXPECT_EQ(repeated, 5);
  EXPECT_EQ(cancelled, 0);
  EXPECT_EQ(loop->app_timer_count(), 0u);
}

TEST_P(EventLoop, TimersCanBeSetAndCancelledFromOtherThreads) {
  auto loop = make_loop();
  std::atomic<int> fired{0};
  std::thread other([&] {
    const TimerId doomed = loop->after(30ms, [&] { fired += 100; });
    loop->after(1ms, [&] { fired += 1; });
    loop->cancel(doomed);
    loop->after(60ms, [&] { loop->stop(); });
  });
  other.join();
  loop->run();
  EXPECT_EQ(fired.load(), 1);
}

TEST_P(EventLoop, StopsWhenIdleIfAskedTo) {
  auto loop = make_loop();
  int left = 3;
  loop->stop_when_idle([&] { return left > 0; });
  loop->every(1ms, [&] { --left; });
  loop->run();  // returns by itself once nothing is left
  EXPECT_EQ(left, 0);
}

TEST_P(EventLoop, AHandleOutlivesItsLoop) {
  auto loop = make_loop();
  LoopHandle handle = loop->handle();
  bool ran = false;
  EXPECT_TRUE(handle.post([&] { ran = true; }));
  loop->post([&] { loop->stop(); });
  loop->run();
  EXPECT_TRUE(ran);
  loop.reset();
  EXPECT_FALSE(handle.post([] {}));  // dropped, not run on freed memory
  EXPECT_FALSE(LoopHandle().post([] {}));
}

INSTANTIATE_TEST_SUITE_P(Backends, EventLoop, ::testing::ValuesIn(available_backends()),
                         backend_name);

}  // namespace
}  // namespace duplex::test
