// The loop's timer heap, without a loop: order, moving deadlines,
// cancelling from anywhere in the heap, timers that reschedule themselves.
#include "transport/timer_heap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace duplex::test {
namespace {

using transport::TimerHeap;

struct Probe final : transport::Timer {
  int id = 0;
  std::vector<int>* fired = nullptr;
  TimerHeap* heap = nullptr;
  std::int64_t again_after = 0;  // reschedule itself this much later, once
  void on_timer() override {
    fired->push_back(id);
    if (again_after > 0) {
      heap->schedule(*this, deadline() + again_after);
      again_after = 0;
    }
  }
};

TEST(TimerHeap, FiresInDeadlineOrderOnlyWhenDue) {
  TimerHeap heap;
  std::vector<int> fired;
  std::vector<Probe> probes(100);
  std::mt19937 rng(7);
  for (int i = 0; i < 100; ++i) {
    probes[i].id = i;
    probes[i].fired = &fired;
    heap.schedule(probes[i], static_cast<std::int64_t>(rng() % 1000));
  }
  EXPECT_EQ(heap.size(), 100u);
  heap.run_due(-1);
  EXPECT_TRUE(fired.empty());
  heap.run_due(499);
  for (int id : fired) EXPECT_LE(probes[id].deadline(), 499);
  heap.run_due(1000);
  ASSERT_EQ(fired.size(), 100u);
  EXPECT_TRUE(std::is_sorted(fired.begin(), fired.end(), [&](int a, int b) {
    return probes[a].deadline() < probes[b].deadline();
  }));
  EXPECT_TRUE(heap.empty());
  for (const Probe& p : probes) EXPECT_FALSE(p.scheduled());
}

TEST(TimerHeap, MovingAndCancellingKeepTheOrder) {
  TimerHeap heap;
  std::vector<int> fired;
  std::vector<Probe> probes(50);
  for (int i = 0; i < 50; ++i) {
    probes[i].id = i;
    probes[i].fired = &fired;
    heap.schedule(probes[i], 100 + i);
  }
  heap.schedule(probes[40], 1);    // earlier
  heap.schedule(probes[0], 1000);  // later
  for (int i = 10; i < 20; ++i) heap.cancel(probes[i]);
  heap.cancel(probes[10]);  // twice: nothing
  EXPECT_FALSE(probes[15].scheduled());
  EXPECT_EQ(heap.next_deadline(), 1);
  heap.run_due(2000);
  ASSERT_EQ(fired.size(), 40u);
  EXPECT_EQ(fired.front(), 40);
  EXPECT_EQ(fired.back(), 0);
  EXPECT_EQ(std::count_if(fired.begin(), fired.end(), [](int id) { return id >= 10 && id < 20; }),
            0);
}

TEST(TimerHeap, ATimerMayRescheduleItselfWhenItFires) {
  TimerHeap heap;
  std::vector<int> fired;
  Probe a, b;
  a.id = 1, a.fired = &fired, a.heap = &heap, a.again_after = 50;
  b.id = 2, b.fired = &fired;
  heap.schedule(a, 10);
  heap.schedule(b, 30);
  heap.run_due(40);
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
  EXPECT_TRUE(a.scheduled());
  EXPECT_EQ(a.deadline(), 60);
  heap.run_due(100);
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 1}));
  EXPECT_TRUE(heap.empty());
}

}  // namespace
}  // namespace duplex::test
