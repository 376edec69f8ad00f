// One event loop per thread. The loop owns what every backend shares:
// timers, work posted from other threads, end-of-iteration work (flushing
// what handlers queued, freeing what closed), application timers, and the
// receive buffers every connection of the loop reads into. A backend (epoll
// today) adds the readiness or completion source and makes the streams,
// listeners and watches that use it.
//
// Work is batched per iteration: handlers mark objects dirty when they
// queue output, and every dirty object flushes once after all I/O events of
// the iteration ran, so many messages to one socket leave in one write.
//
// Thread rule: everything is for the loop's thread except post(), stop(),
// mailbox() and the duplex::Loop members, which any thread may call.
#pragma once

#include "mailbox.hpp"
#include "stream.hpp"
#include "timer_heap.hpp"

#include <duplex/io_backend.hpp>
#include <duplex/loop.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

namespace duplex::transport {

// Work an object asks the loop for at the end of an iteration: flush its
// output once.
class Flushable {
 public:
  virtual void flush() = 0;
  // Called just before the previous dirty object's flush(): start loading
  // what flush() will read, so that walking many objects does not wait on
  // memory at each one.
  virtual void prefetch_for_flush() const noexcept {}

 protected:
  virtual ~Flushable() = default;

 private:
  friend class EventLoop;
  bool dirty_ = false;
};

class EventLoop : public duplex::Loop {
 public:
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  virtual ~EventLoop();

  // Runs until stop(). From one thread only.
  void run();
  // Thread-safe: run() returns after finishing its current iteration.
  void stop();
  bool stopping() const noexcept { return stop_.load(std::memory_order_relaxed); }
  // Lets run() be called again after it returned.
  void reset_stop() noexcept { stop_.store(false, std::memory_order_relaxed); }
  // Makes run() return by itself once `busy` says false at the end of an
  // iteration (a client's loop: no connection and no timer left).
  void stop_when_idle(std::function<bool()> busy) { busy_ = std::move(busy); }
  // Runs end-of-iteration work now: for an owner tearing down while the
  // loop is not running.
  void run_deferred();

  // Monotonic milliseconds, read once per iteration.
  std::int64_t now() const noexcept { return now_; }
  std::int64_t refresh_now() noexcept;

  void schedule(Timer& timer, std::int64_t deadline) { timers_.schedule(timer, deadline); }
  void cancel(Timer& timer) noexcept { timers_.cancel(timer); }

  // Queues `f` to be flushed at the end of this iteration (once).
  void mark_dirty(Flushable& f) {
    if (f.dirty_) return;
    f.dirty_ = true;
    dirty_.push_back(&f);
  }
  // Forgets a dirty mark (an object about to be freed).
  void cancel_dirty(Flushable& f) noexcept;
  // Runs `fn` at the end of this iteration, after the flushes: for freeing
  // objects that handlers later in the same batch of events may still name.
  void defer(std::function<void()> fn) { deferred_.push_back(std::move(fn)); }

  // A receive buffer shared by every connection of this loop.
  std::span<std::uint8_t> read_buffer() noexcept { return {read_buffer_.get(), read_buffer_size}; }
  // A second one for decrypted TLS input (made on first use).
  std::span<std::uint8_t> plain_buffer();
  static constexpr std::size_t read_buffer_size = 256 * 1024;

  // The mailbox other threads post to (see duplex::LoopHandle).
  const std::shared_ptr<detail::Mailbox>& mailbox() const noexcept { return mailbox_; }
  // Application timers still to run (a client loop runs while there are),
  // and cancelling them all.
  std::size_t app_timer_count() const noexcept { return app_timers_.size(); }
  // Work posted and not run yet (thread-safe).
  bool has_posted_work() const;
  void cancel_app_timers();

  // ----- duplex::Loop: thread-safe
  void post(std::function<void()> fn) override;
  TimerId after(std::chrono::milliseconds delay, std::function<void()> fn) override;
  TimerId every(std::chrono::milliseconds period, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  bool in_loop_thread() const noexcept override;
  LoopHandle handle() override { return LoopHandle(mailbox_); }

  // ----- what a backend provides
  // A stream over the connected socket `fd`, made in `slot`, reporting to
  // `handler`. The stream owns the descriptor from now on (it is closed if
  // the stream cannot be set up: then the error, and the slot stays empty).
  virtual std::error_code open_stream(SocketSlot& slot, int fd, StreamHandler& handler) = 0;
  // A stream that connects to `address` without blocking; the handler hears
  // on_stream_connected() or on_stream_error(). An error now when the
  // connect cannot even start.
  virtual std::error_code connect_stream(SocketSlot& slot, const Address& address,
                                         StreamHandler& handler) = 0;
  // Accepts connections on the listening socket `fd` (owned from now on).
  virtual std::unique_ptr<Listener> listen(int fd, AcceptHandler& handler) = 0;
  // Tells `handler` whenever `fd` is readable, until unwatch_readable().
  virtual std::error_code watch_readable(int fd, ReadableHandler& handler) = 0;
  virtual void unwatch_readable(int fd) noexcept = 0;

 protected:
  EventLoop();

  // Waits up to `timeout_ms` (-1: no limit) for I/O and handles it, with
  // the clock refreshed (refresh_now) between the wait and the handling.
  virtual void wait(int timeout_ms) = 0;
  // Thread-safe: makes a wait() in progress return.
  virtual void wake() noexcept = 0;
  // Work of the backend's own that keeps the next wait from sleeping, and
  // that it runs at the end of an iteration (after the first flushes).
  virtual bool has_pending_work() const noexcept { return false; }
  virtual void run_pending_work() {}
  // Called as run() returns: hands the kernel what the last iteration left
  // prepared (a backend that submits in batches would otherwise hold a
  // close frame or a descriptor's close until the next run()).
  virtual void finish_run() {}

  // Called by the backend when the waker fired: runs what was posted.
  void run_posted();
  // Stops taking posts (they are dropped from now on). A backend's
  // destructor calls it first, before it tears down its waker.
  void detach_mailbox() noexcept;
  // Flushes every dirty object (a flush may mark others dirty).
  void flush_dirty();

 private:
  class AppTimer;
  void end_iteration();
  int poll_timeout() const noexcept;
  void start_timer(TimerId id, std::int64_t delay, std::int64_t period, std::function<void()> fn);
  void stop_timer(TimerId id);

  std::atomic<bool> stop_{false};
  std::atomic<std::thread::id> thread_{};
  std::int64_t now_ = 0;
  TimerHeap timers_;
  std::vector<Flushable*> dirty_;
  std::vector<std::function<void()>> deferred_;
  std::unordered_map<TimerId, std::unique_ptr<AppTimer>> app_timers_;
  std::function<bool()> busy_;
  std::unique_ptr<std::uint8_t[]> read_buffer_;
  std::unique_ptr<std::uint8_t[]> plain_buffer_;
  std::shared_ptr<detail::Mailbox> mailbox_;

  friend class detail::Mailbox;
};

// A loop on `backend` (see duplex::IoBackend; `automatic` consults the
// DUPLEX_IO environment variable, then probes io_uring). `single_thread`:
// it will always run on one thread (a server's loops), which lets io_uring
// take its cheaper single-issuer mode. Throws std::system_error when the
// system cannot make one (out of descriptors; io_uring asked for by name
// and refused). `note`, if given, receives why `automatic` chose epoll.
std::unique_ptr<EventLoop> make_event_loop(IoBackend backend = IoBackend::automatic,
                                           bool single_thread = false, std::string* note = nullptr);
// The backend a loop uses.
IoBackend backend_of(const EventLoop& loop) noexcept;

}  // namespace duplex::transport
