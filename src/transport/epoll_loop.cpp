#include "epoll_loop.hpp"

#include "epoll_listener.hpp"
#include "epoll_stream.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace duplex::transport {

// Wakes the loop from other threads through an eventfd.
class EpollLoop::Waker final : public IoHandler {
 public:
  explicit Waker(EpollLoop& loop) : loop_(loop) {
    fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd_ < 0) throw std::system_error(errno, std::system_category(), "eventfd");
  }
  ~Waker() { ::close(fd_); }
  int fd() const noexcept { return fd_; }
  void wake() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof one);
  }
  void on_io(std::uint32_t) override {
    std::uint64_t count;
    [[maybe_unused]] const ssize_t n = ::read(fd_, &count, sizeof count);
    loop_.run_posted();
  }

 private:
  EpollLoop& loop_;
  int fd_;
};

// A watched descriptor's readiness, handed to its ReadableHandler.
class EpollLoop::Readable final : public IoHandler {
 public:
  explicit Readable(ReadableHandler& handler) : handler_(handler) {}
  void on_io(std::uint32_t) override { handler_.on_readable(); }

 private:
  ReadableHandler& handler_;
};

EpollLoop::EpollLoop() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::system_category(), "epoll_create1");
  waker_ = std::make_unique<Waker>(*this);
  if (const auto ec = watch(waker_->fd(), EPOLLIN, waker_.get())) {
    ::close(epoll_fd_);
    throw std::system_error(ec, "epoll_ctl");
  }
}

EpollLoop::~EpollLoop() {
  detach_mailbox();  // before the waker goes: posters call wake()
  waker_.reset();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

std::error_code EpollLoop::watch(int fd, std::uint32_t events, IoHandler* handler) noexcept {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return {errno, std::system_category()};
  }
  return {};
}

void EpollLoop::unwatch(int fd) noexcept {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void EpollLoop::wake() noexcept {
  if (waker_) waker_->wake();
}

void EpollLoop::cancel_retry(IoHandler& h) noexcept {
  std::erase(retries_, &h);
}

void EpollLoop::run_pending_work() {
  // Retries queued now go to the next iteration: one busy connection gets
  // one more turn per iteration, not the whole loop.
  std::vector<IoHandler*> batch;
  batch.swap(retries_);
  for (IoHandler* h : batch) h->retry();
}

void EpollLoop::wait(int timeout_ms) {
  constexpr int max_events = 512;
  epoll_event events[max_events];
  const int n = ::epoll_wait(epoll_fd_, events, max_events, timeout_ms);
  if (n < 0 && errno != EINTR) throw std::system_error(errno, std::system_category(), "epoll_wait");
  // The clock before the events: the wait may have slept for long, and
  // what they start (a connection's handshake clock) counts from now.
  refresh_now();
  for (int i = 0; i < n; ++i) {
    static_cast<IoHandler*>(events[i].data.ptr)->on_io(events[i].events);
  }
}

std::error_code EpollLoop::open_stream(SocketSlot& slot, int fd, StreamHandler& handler) {
  EpollStream& stream = slot.emplace<EpollStream>(*this, fd, handler, false);
  if (const auto ec = stream.start()) {
    slot.reset();
    return ec;
  }
  return {};
}

std::error_code EpollLoop::connect_stream(SocketSlot& slot, const Address& address,
                                          StreamHandler& handler) {
  std::error_code ec;
  const int fd = connect_tcp(address, ec);
  if (fd < 0) return ec;
  EpollStream& stream = slot.emplace<EpollStream>(*this, fd, handler, true);
  if ((ec = stream.start())) slot.reset();
  return ec;
}

std::unique_ptr<Listener> EpollLoop::listen(int fd, AcceptHandler& handler) {
  return std::make_unique<EpollListener>(*this, fd, handler);
}

std::error_code EpollLoop::watch_readable(int fd, ReadableHandler& handler) {
  auto& slot = readables_[fd];
  slot = std::make_unique<Readable>(handler);
  const std::error_code ec = watch(fd, EPOLLIN, slot.get());
  if (ec) readables_.erase(fd);
  return ec;
}

void EpollLoop::unwatch_readable(int fd) noexcept {
  unwatch(fd);
  readables_.erase(fd);
}

}  // namespace duplex::transport
