#include "uring_listener.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace duplex::transport {
namespace {

// How long accepting pauses when the process runs out of descriptors (as
// the epoll listener does).
constexpr std::int64_t pause_ms = 100;
// How often a held listener asks whether it may accept again.
constexpr std::int64_t recheck_ms = 20;

}  // namespace

UringListener::UringListener(UringLoop& loop, int fd, AcceptHandler& handler)
    : loop_(loop), handler_(handler), fd_(fd), token_(loop.attach(*this)) {
  arm();
}

void UringListener::arm() {
  accepting_ = true;
  io_uring_sqe* sqe = loop_.prepare(token_, 0);
  // No address: with many accepts per wake-up one buffer would be
  // overwritten; the peer's address is asked for per connection instead.
  io_uring_prep_multishot_accept(sqe, fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

void UringListener::close() noexcept {
  if (fd_ < 0) return;
  loop_.cancel(static_cast<Timer&>(*this));
  // The port refuses connections from now on, not from the next submission
  // (the kernel holds the socket open while an accept is queued on it);
  // this also ends the accept.
  ::shutdown(fd_, SHUT_RDWR);
  loop_.detach(token_, true);
  loop_.close_after_submit(fd_);
  fd_ = -1;
}

void UringListener::on_complete(std::uint8_t, int result, std::uint32_t flags,
                                std::span<std::uint8_t>) {
  if (!(flags & IORING_CQE_F_MORE)) accepting_ = false;
  if (fd_ < 0) {
    if (result >= 0) ::close(result);
    return;
  }
  if (result >= 0) {
    Address peer;
    peer.length = sizeof peer.storage;
    ::getpeername(result, &peer.storage.base, &peer.length);
    set_nodelay(result);
    handler_.on_accept(result, peer);
  } else if (result == -EMFILE || result == -ENFILE || result == -ENOBUFS || result == -ENOMEM) {
    // The pending connection stays in the backlog; try again shortly.
    hold(pause_ms);
    handler_.on_accept_paused(-result);
    return;
  }
  if (!accepting_ && !paused_ && fd_ >= 0 && result != -ECANCELED) arm();
}

void UringListener::hold(std::int64_t ms) noexcept {
  if (fd_ < 0) return;
  paused_ = true;
  if (accepting_) loop_.cancel_op(token_, 0);
  loop_.schedule(*this, loop_.now() + ms);
}

void UringListener::on_timer() {
  if (fd_ >= 0 && !handler_.may_accept()) {
    loop_.schedule(*this, loop_.now() + recheck_ms);
    return;
  }
  paused_ = false;
  if (fd_ >= 0 && !accepting_) arm();
}

}  // namespace duplex::transport
