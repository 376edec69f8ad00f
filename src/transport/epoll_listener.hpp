// A listening socket on the epoll backend: level-triggered, accepting in
// bounded batches, pausing for a moment when the process is out of
// descriptors (a level-triggered listener would otherwise spin).
#pragma once

#include "epoll_loop.hpp"

namespace duplex::transport {

class EpollListener final : public Listener, private IoHandler, private Timer {
 public:
  EpollListener(EpollLoop& loop, int fd, AcceptHandler& handler);
  ~EpollListener() override { close(); }
  void close() noexcept override;
  void hold(std::int64_t ms) noexcept override;

 private:
  void on_io(std::uint32_t events) override;
  void on_timer() override;  // the pause is over
  void pause(int error);

  EpollLoop& loop_;
  AcceptHandler& handler_;
  int fd_;
  bool watching_ = false;
};

}  // namespace duplex::transport
