// Where work posted to a loop from other threads waits. Shared (by
// shared_ptr) with everyone who may post, it outlives its loop: once the
// loop is gone, posts are dropped instead of touching freed memory.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

namespace duplex::transport {
class EventLoop;
}

namespace duplex::detail {

class Mailbox {
 public:
  // Thread-safe. False (and `fn` dropped) once the loop has gone.
  bool post(std::function<void()> fn);

 private:
  friend class duplex::transport::EventLoop;

  std::mutex mutex_;
  transport::EventLoop* loop_ = nullptr;  // null once the loop is gone
  std::vector<std::function<void()>> queue_;
  bool wake_pending_ = false;  // one wake-up per batch of posts
};

}  // namespace duplex::detail
