// One epoll event loop per thread. Level-triggered: a read that leaves data in
// the socket is reported again, so a connection can stop reading (backpressure)
// by dropping EPOLLIN and needs no extra recv() to find EAGAIN.
//
// Work is batched per iteration: handlers mark connections "dirty" when they
// queue output, and every dirty connection is flushed once after all I/O
// events of the iteration ran, so many messages leave in one writev.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace duplex::transport {

class IoHandler {
 public:
  virtual void on_io(std::uint32_t events) = 0;

 protected:
  ~IoHandler() = default;
};

// A timer owned by whoever embeds it; the loop keeps it in a binary heap.
class Timer {
 public:
  virtual void on_timer() = 0;
  bool scheduled() const noexcept { return heap_index_ != unscheduled; }
  std::int64_t deadline() const noexcept { return deadline_; }
  virtual ~Timer() = default;

 private:
  friend class EventLoop;
  static constexpr std::size_t unscheduled = static_cast<std::size_t>(-1);
  std::size_t heap_index_ = unscheduled;
  std::int64_t deadline_ = 0;
};

// A timer that runs a function: for owners that need more than one timer.
class CallbackTimer final : public Timer {
 public:
  explicit CallbackTimer(std::function<void()> fn) : fn_(std::move(fn)) {}
  void on_timer() override { fn_(); }

 private:
  std::function<void()> fn_;
};

// Work an object asks the loop for at the end of an iteration: flush its
// output once (mark_dirty), or try reading again (retry_soon) because it
// stopped with data possibly left in its socket, which edge-triggered epoll
// will not report again. One base for both keeps objects small.
class Flushable {
 public:
  virtual void flush() = 0;
  // Called just before the previous dirty object's flush(): start loading
  // what flush() will read, so that walking many objects does not wait on
  // memory at each one.
  virtual void prefetch_for_flush() const noexcept {}
  virtual void retry() {}
  virtual ~Flushable() = default;

 private:
  friend class EventLoop;
  bool dirty_ = false;
  bool retry_queued_ = false;
};

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until stop(). Must be called from one thread only.
  void run();
  // Thread-safe: the loop returns after finishing its current iteration.
  void stop();
  // Thread-safe: runs `fn` on the loop thread, soon.
  void post(std::function<void()> fn);

  // Registers/changes/removes interest in a file descriptor (loop thread).
  void watch(int fd, std::uint32_t events, IoHandler* handler);
  void rewatch(int fd, std::uint32_t events, IoHandler* handler);
  void unwatch(int fd) noexcept;

  // Monotonic milliseconds, read once per iteration.
  std::int64_t now() const noexcept { return now_; }
  std::int64_t refresh_now() noexcept;

  void schedule(Timer& timer, std::int64_t deadline);
  void cancel(Timer& timer) noexcept;

  // Queues `f` to be flushed at the end of this iteration (once).
  void mark_dirty(Flushable& f);
  // Calls r.retry() at the end of this iteration (once), after the flushes
  // and before deferred work; the next epoll wait will not sleep meanwhile.
  // A retry that asks again is called at the end of the next iteration.
  void retry_soon(Flushable& r);
  void cancel_retry(Flushable& r) noexcept;
  // Runs `fn` at the end of this iteration, after the flushes and retries:
  // for freeing objects that handlers later in the same epoll batch (or a
  // queued retry) may still name.
  void defer(std::function<void()> fn);

  // A receive buffer shared by every connection of this loop.
  std::span<std::uint8_t> read_buffer() noexcept { return {read_buffer_.get(), read_buffer_size}; }
  // A second one for decrypted TLS input (made on first use).
  std::span<std::uint8_t> plain_buffer() {
    if (!plain_buffer_) plain_buffer_.reset(new std::uint8_t[read_buffer_size]);
    return {plain_buffer_.get(), read_buffer_size};
  }
  static constexpr std::size_t read_buffer_size = 256 * 1024;

  bool stopping() const noexcept { return stop_.load(std::memory_order_relaxed); }
  // Lets run() be called again after it returned.
  void reset_stop() noexcept { stop_.store(false, std::memory_order_relaxed); }

 private:
  class Waker;
  void run_posted();
  void run_timers();
  void end_iteration();
  int poll_timeout() const noexcept;
  void heap_up(std::size_t i) noexcept;
  void heap_down(std::size_t i) noexcept;
  void heap_swap(std::size_t a, std::size_t b) noexcept;

  int epoll_fd_ = -1;
  std::unique_ptr<Waker> waker_;
  std::atomic<bool> stop_{false};
  std::int64_t now_ = 0;
  std::vector<Timer*> timers_;
  std::vector<Flushable*> dirty_;
  std::vector<Flushable*> retries_;

  std::vector<std::function<void()>> deferred_;
  std::unique_ptr<std::uint8_t[]> read_buffer_;
  std::unique_ptr<std::uint8_t[]> plain_buffer_;

  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  bool wake_pending_ = false;  // guarded by posted_mutex_
};

}  // namespace duplex::transport
