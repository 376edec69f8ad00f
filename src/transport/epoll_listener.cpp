#include "epoll_listener.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

namespace duplex::transport {
namespace {

// Accepts per wake-up: a busy listener must not starve the connections
// already accepted.
constexpr int accepts_per_turn = 128;
// How long accepting pauses when the process runs out of descriptors: long
// enough not to spin, short enough to pick up again quickly when
// descriptors free up.
constexpr std::int64_t pause_ms = 100;
// How often a held listener asks whether it may accept again.
constexpr std::int64_t recheck_ms = 20;

}  // namespace

EpollListener::EpollListener(EpollLoop& loop, int fd, AcceptHandler& handler)
    : loop_(loop), handler_(handler), fd_(fd) {
  // Failing that (out of memory), accepting starts with the next pause's end.
  if (const auto ec = loop_.watch(fd_, EPOLLIN, this)) {
    pause(ec.value());
    return;
  }
  watching_ = true;
}

void EpollListener::close() noexcept {
  if (fd_ < 0) return;
  loop_.cancel(static_cast<Timer&>(*this));
  if (watching_) loop_.unwatch(fd_);
  ::close(fd_);
  fd_ = -1;
}

void EpollListener::on_io(std::uint32_t) {
  for (int i = 0; i < accepts_per_turn && fd_ >= 0 && watching_; ++i) {
    Address peer;
    std::error_code ec;
    const int fd = accept_tcp(fd_, peer, ec);
    if (fd < 0) {
      const int e = ec.value();
      if (e == EAGAIN || e == EWOULDBLOCK) return;
      if (e == EINTR || e == ECONNABORTED || e == EPROTO) continue;
      pause(e);
      return;
    }
    handler_.on_accept(fd, peer);
  }
}

void EpollListener::pause(int error) {
  // EMFILE/ENFILE (and ENOBUFS/ENOMEM): the pending connection stays in the
  // backlog; stop watching for a moment.
  hold(pause_ms);
  handler_.on_accept_paused(error);
}

void EpollListener::hold(std::int64_t ms) noexcept {
  if (fd_ < 0) return;
  if (watching_) loop_.unwatch(fd_);
  watching_ = false;
  loop_.schedule(*this, loop_.now() + ms);
}

void EpollListener::on_timer() {
  if (fd_ < 0 || watching_) return;
  if (!handler_.may_accept()) {
    loop_.schedule(*this, loop_.now() + recheck_ms);
    return;
  }
  if (const auto ec = loop_.watch(fd_, EPOLLIN, this)) {
    pause(ec.value());
    return;
  }
  watching_ = true;
}

}  // namespace duplex::transport
