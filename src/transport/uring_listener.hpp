// A listening socket on the io_uring backend: one multishot accept stays
// armed and yields every connection the kernel accepts, with no system call
// per connection. When the process runs out of descriptors (or memory) the
// kernel ends the accept; it starts again after a pause.
#pragma once

#include "uring_loop.hpp"

namespace duplex::transport {

class UringListener final : public Listener, private Completion, private Timer {
 public:
  UringListener(UringLoop& loop, int fd, AcceptHandler& handler);
  ~UringListener() override { close(); }
  void close() noexcept override;
  void hold(std::int64_t ms) noexcept override;

 private:
  void on_complete(std::uint8_t op, int result, std::uint32_t flags,
                   std::span<std::uint8_t> buffer) override;
  void on_timer() override;  // the pause is over
  void arm();

  UringLoop& loop_;
  AcceptHandler& handler_;
  int fd_;
  UringLoop::Token token_;
  bool accepting_ = false;
  bool paused_ = false;
};

}  // namespace duplex::transport
