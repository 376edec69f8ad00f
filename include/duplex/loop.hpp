/// @file
/// An event loop of a `Server` or a `Client`, as applications see it: run
/// work on its thread, and set timers there. Every handler of a connection
/// runs on its loop's thread, so work posted to that loop may touch the
/// connection without locks.
///
///     ws.loop().after(std::chrono::seconds(5), [handle = ws.handle()] { handle.send("still
///     there?"); });
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace duplex {

namespace detail {
class Mailbox;  // where posts to a loop go; outlives the loop (transport layer)
}  // namespace detail

/// Names a timer set with `Loop::after` or `Loop::every`, for `Loop::cancel`.
/// Never 0.
using TimerId = std::uint64_t;

/// A way to post to a loop that is safe from any thread at any time, even
/// after the loop has gone: copy it into threads that may outlive their
/// server or client. Thread-safe.
class LoopHandle {
 public:
  /// An empty handle: posts nothing.
  LoopHandle() = default;
  /// A handle to the loop that owns `mailbox` (from `Loop::handle()`).
  explicit LoopHandle(std::shared_ptr<detail::Mailbox> mailbox) noexcept
      : mailbox_(std::move(mailbox)) {}

  /// Runs `fn` on the loop's thread, after what was posted before it.
  /// Returns false (and drops `fn`) when the loop is gone.
  bool post(std::function<void()> fn) const;

 private:
  std::shared_ptr<detail::Mailbox> mailbox_;
};

/// One event loop: one thread that runs the handlers of its connections.
/// Every member is thread-safe; work and timers run on the loop's thread.
/// A loop lives as long as its server or client runs (see `Server::loop`,
/// `Client::loop`, `WebSocket::loop`).
class Loop {
 public:
  /// Runs `fn` on this loop's thread soon, after what was posted before it.
  virtual void post(std::function<void()> fn) = 0;

  /// Runs `fn` once on this loop's thread after `delay`.
  virtual TimerId after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;

  /// Runs `fn` on this loop's thread every `period` (the first time after
  /// one period) until cancelled. A period under 1 ms counts as 1 ms.
  virtual TimerId every(std::chrono::milliseconds period, std::function<void()> fn) = 0;

  /// Cancels a timer of this loop; nothing happens if it already ran (or
  /// is running now: a repeating one does not run again).
  virtual void cancel(TimerId id) = 0;

  /// True on this loop's thread, while it runs.
  virtual bool in_loop_thread() const noexcept = 0;

  /// A handle for posting from threads that may outlive this loop.
  virtual LoopHandle handle() = 0;

 protected:
  ~Loop() = default;
};

}  // namespace duplex
