// The epoll backend: readiness from epoll, edge-triggered for connections
// (registered once for input and output together, so there is no epoll_ctl
// per write, per pause or per resume), level-triggered for listeners and
// other watches. A socket that stopped reading with data possibly left in
// it (edge-triggered epoll will not say so again) asks to be retried at the
// end of the iteration. Loop thread only, but for the waker.
#pragma once

#include "event_loop.hpp"

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

namespace duplex::transport {

// Something registered with epoll.
class IoHandler {
 public:
  virtual void on_io(std::uint32_t events) = 0;
  // Called at the end of the iteration after retry_soon(*this).
  virtual void retry() {}

 protected:
  ~IoHandler() = default;
};

class EpollLoop final : public EventLoop {
 public:
  // Throws std::system_error when the system has no epoll or eventfd left
  // to give (out of descriptors).
  EpollLoop();
  ~EpollLoop() override;

  std::error_code watch(int fd, std::uint32_t events, IoHandler* handler) noexcept;
  void unwatch(int fd) noexcept;
  // Calls h.retry() at the end of this iteration (the caller keeps it from
  // being queued twice); the next wait will not sleep meanwhile.
  void retry_soon(IoHandler& h) { retries_.push_back(&h); }
  void cancel_retry(IoHandler& h) noexcept;

  // Scratch for gathering a write: a loop's writes run one at a time.
  static constexpr std::size_t max_iov = 64;
  std::span<protocol::OutputQueue::Bytes, max_iov> gather_parts() noexcept { return parts_; }
  iovec* iovecs() noexcept { return iov_; }
  // Small writes of several pieces are copied into one buffer and sent with
  // send(): cheaper for the kernel than an iovec walk.
  static constexpr std::size_t coalesce_limit = 2048;
  std::uint8_t* coalesce_buffer() noexcept { return coalesce_; }

  std::error_code open_stream(SocketSlot& slot, int fd, StreamHandler& handler) override;
  std::error_code connect_stream(SocketSlot& slot, const Address& address,
                                 StreamHandler& handler) override;
  std::unique_ptr<Listener> listen(int fd, AcceptHandler& handler) override;
  std::error_code watch_readable(int fd, ReadableHandler& handler) override;
  void unwatch_readable(int fd) noexcept override;

 protected:
  void wait(int timeout_ms) override;
  void wake() noexcept override;
  bool has_pending_work() const noexcept override { return !retries_.empty(); }
  void run_pending_work() override;

 private:
  class Waker;
  class Readable;

  int epoll_fd_ = -1;
  std::unique_ptr<Waker> waker_;
  std::vector<IoHandler*> retries_;
  std::unordered_map<int, std::unique_ptr<Readable>> readables_;
  protocol::OutputQueue::Bytes parts_[max_iov];
  iovec iov_[max_iov];
  std::uint8_t coalesce_[coalesce_limit];
};

}  // namespace duplex::transport
