#include "timer_heap.hpp"

#include <utility>

namespace duplex::transport {

void TimerHeap::swap(std::size_t a, std::size_t b) noexcept {
  std::swap(timers_[a], timers_[b]);
  timers_[a]->heap_index_ = a;
  timers_[b]->heap_index_ = b;
}

void TimerHeap::up(std::size_t i) noexcept {
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (timers_[parent]->deadline_ <= timers_[i]->deadline_) break;
    swap(i, parent);
    i = parent;
  }
}

void TimerHeap::down(std::size_t i) noexcept {
  const std::size_t n = timers_.size();
  while (true) {
    std::size_t smallest = i;
    const std::size_t l = 2 * i + 1;
    const std::size_t r = l + 1;
    if (l < n && timers_[l]->deadline_ < timers_[smallest]->deadline_) smallest = l;
    if (r < n && timers_[r]->deadline_ < timers_[smallest]->deadline_) smallest = r;
    if (smallest == i) return;
    swap(i, smallest);
    i = smallest;
  }
}

void TimerHeap::schedule(Timer& timer, std::int64_t deadline) {
  if (timer.scheduled()) {
    const std::int64_t old = timer.deadline_;
    timer.deadline_ = deadline;
    if (deadline < old) {
      up(timer.heap_index_);
    } else {
      down(timer.heap_index_);
    }
    return;
  }
  timer.deadline_ = deadline;
  timer.heap_index_ = timers_.size();
  timers_.push_back(&timer);
  up(timer.heap_index_);
}

void TimerHeap::cancel(Timer& timer) noexcept {
  if (!timer.scheduled()) return;
  const std::size_t i = timer.heap_index_;
  const std::size_t last = timers_.size() - 1;
  if (i != last) swap(i, last);
  timers_.pop_back();
  timer.heap_index_ = Timer::unscheduled;
  if (i < timers_.size()) {
    down(i);
    up(i);
  }
}

void TimerHeap::run_due(std::int64_t now) {
  while (!timers_.empty() && timers_.front()->deadline_ <= now) {
    Timer* t = timers_.front();
    cancel(*t);
    t->on_timer();
  }
}

}  // namespace duplex::transport
