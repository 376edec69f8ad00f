// A connected (or connecting) TCP socket on the epoll backend. Reads go
// into the loop's shared buffer and straight to the handler; a read stops
// at a short read (the socket is drained) or after a few full buffers (then
// the rest is read at the end of the iteration, so one fast sender cannot
// starve the loop). Writes are gathered from the caller's queue with send()
// or sendmsg(); what the kernel does not take waits for the next EPOLLOUT.
#pragma once

#include "epoll_loop.hpp"
#include "stream.hpp"

namespace duplex::transport {

class EpollStream final : public Stream, private IoHandler {
 public:
  // Takes `fd`; `connecting`: a non-blocking connect is under way.
  EpollStream(EpollLoop& loop, int fd, StreamHandler& handler, bool connecting);
  // Registers with epoll; until then (and if it fails) nothing is reported.
  std::error_code start();
  ~EpollStream() override { close(); }

  Write write(protocol::OutputQueue& queue) override;
  void pause_reading() noexcept override { paused_ = true; }
  void resume_reading() override;
  void shutdown_write() override;
  void close() noexcept override;
  std::size_t unacknowledged() const noexcept override {
    return fd_ < 0 ? 0 : unacknowledged_bytes(fd_);
  }
  void set_handler(StreamHandler& handler) noexcept override { handler_ = &handler; }

 private:
  void on_io(std::uint32_t events) override;
  void retry() override;
  void read();
  void read_later();

  EpollLoop& loop_;
  StreamHandler* handler_;
  // The descriptor and the state beside it, in one word: a server holds one
  // of these per connection.
  int fd_;
  bool paused_ : 1 = false;         // backpressure: not reading
  bool want_write_ : 1 = false;     // a write is waiting for EPOLLOUT
  bool connecting_ : 1;             // the connect has not completed yet
  bool peer_finished_ : 1 = false;  // EPOLLRDHUP seen: read to the end
  bool retry_queued_ : 1 = false;
  bool watched_ : 1 = false;
  // A write's failure (its errno), reported at the end of the iteration:
  // the writer (a fan-out walking a topic's subscribers) is not re-entered.
  std::uint8_t write_error_ = 0;
};

}  // namespace duplex::transport
