// Timers of one event loop: a binary min-heap of Timer objects embedded in
// their owners (a session carries its own), so scheduling allocates nothing
// and cancelling is O(log n). Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace duplex::transport {

// A deadline in the loop's heap; the owner embeds it and says what to do.
class Timer {
 public:
  virtual void on_timer() = 0;
  bool scheduled() const noexcept { return heap_index_ != unscheduled; }
  std::int64_t deadline() const noexcept { return deadline_; }

 protected:
  virtual ~Timer() = default;

 private:
  friend class TimerHeap;
  static constexpr std::size_t unscheduled = static_cast<std::size_t>(-1);
  std::size_t heap_index_ = unscheduled;
  std::int64_t deadline_ = 0;
};

class TimerHeap {
 public:
  // Schedules `timer` for `deadline` (milliseconds), or moves it there.
  void schedule(Timer& timer, std::int64_t deadline);
  void cancel(Timer& timer) noexcept;

  bool empty() const noexcept { return timers_.empty(); }
  std::size_t size() const noexcept { return timers_.size(); }
  // The earliest deadline (the heap must not be empty).
  std::int64_t next_deadline() const noexcept { return timers_.front()->deadline_; }
  // Unschedules and calls every timer due at `now`, earliest first; a timer
  // may schedule itself (or others) again from on_timer().
  void run_due(std::int64_t now);

 private:
  void up(std::size_t i) noexcept;
  void down(std::size_t i) noexcept;
  void swap(std::size_t a, std::size_t b) noexcept;

  std::vector<Timer*> timers_;
};

}  // namespace duplex::transport
