#include "epoll_stream.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace duplex::transport {
namespace {

// Edge-triggered, everything at once: no epoll_ctl per write or per pause.
// EPOLLOUT only fires after a write found the socket buffer full (or when a
// connect completes).
constexpr std::uint32_t stream_events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

// Full buffers read per turn before the rest waits for the iteration's end.
constexpr int reads_per_turn = 4;

}  // namespace

EpollStream::EpollStream(EpollLoop& loop, int fd, StreamHandler& handler, bool connecting)
    : loop_(loop), handler_(&handler), fd_(fd), connecting_(connecting) {}

std::error_code EpollStream::start() {
  const std::error_code ec = loop_.watch(fd_, stream_events, this);
  watched_ = !ec;
  return ec;
}

void EpollStream::close() noexcept {
  if (fd_ < 0) return;
  if (retry_queued_) {
    retry_queued_ = false;
    loop_.cancel_retry(*this);
  }
  if (watched_) loop_.unwatch(fd_);
  ::close(fd_);
  fd_ = -1;
}

void EpollStream::on_io(std::uint32_t events) {
  if (fd_ < 0 || write_error_) return;
  if (connecting_) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    connecting_ = false;
    if (const std::error_code ec = connect_result(fd_)) {
      handler_->on_stream_error(ec, {});
      return;
    }
    handler_->on_stream_connected();
    if (fd_ < 0) return;
  } else if ((events & (EPOLLOUT | EPOLLERR)) && want_write_) {
    want_write_ = false;
    handler_->on_stream_writable();
    if (fd_ < 0) return;
  }
  if (paused_ && (events & (EPOLLHUP | EPOLLERR))) {
    // Not reading (backpressure) but the peer is gone: nothing will
    // announce it again, so end now.
    handler_->on_stream_end();
    return;
  }
  // The peer's FIN may sit behind the data of this same edge: after a short
  // read the socket looks drained, but the end of stream is still to be read
  // and no new edge will announce it. So once the peer closed its side, read
  // until recv() says so.
  if (events & (EPOLLRDHUP | EPOLLHUP)) peer_finished_ = true;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read();
}

void EpollStream::retry() {
  retry_queued_ = false;
  if (write_error_) {
    handler_->on_stream_error(std::error_code(write_error_, std::system_category()), {});
    return;
  }
  read();
}

void EpollStream::read_later() {
  if (retry_queued_ || fd_ < 0) return;
  retry_queued_ = true;
  loop_.retry_soon(*this);
}

void EpollStream::read() {
  const auto buffer = loop_.read_buffer();
  for (int round = 0; round < reads_per_turn; ++round) {
    if (paused_ || fd_ < 0) return;
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n > 0) {
      handler_->on_stream_data(buffer.first(static_cast<std::size_t>(n)));
      if (static_cast<std::size_t>(n) < buffer.size() && !peer_finished_) return;
      continue;
    }
    if (n == 0) {
      handler_->on_stream_end();
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      handler_->on_stream_error(std::error_code(errno, std::system_category()), {});
    }
    return;
  }
  if (!paused_) read_later();
}

void EpollStream::resume_reading() {
  paused_ = false;
  // The socket may hold more that no new edge will announce.
  read_later();
}

Stream::Write EpollStream::write(protocol::OutputQueue& queue) {
  if (fd_ < 0 || write_error_) return Write::failed;
  if (connecting_) return Write::blocked;  // on_stream_connected() comes first
  const auto parts = loop_.gather_parts();
  iovec* iov = loop_.iovecs();
  while (!queue.empty()) {
    const std::size_t count = queue.gather(parts);
    std::size_t total = 0;
    for (std::size_t i = 0; i < count; ++i) {
      iov[i].iov_base = const_cast<std::uint8_t*>(parts[i].data());
      iov[i].iov_len = parts[i].size();
      total += parts[i].size();
    }
    ssize_t n;
    if (count == 1) {
      n = ::send(fd_, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } else if (total <= EpollLoop::coalesce_limit) {
      // A few small pieces (published messages, say): copying them is
      // cheaper than the kernel's walk over an iovec array.
      std::uint8_t* scratch = loop_.coalesce_buffer();
      std::size_t at = 0;
      for (std::size_t i = 0; i < count; ++i) {
        std::memcpy(scratch + at, iov[i].iov_base, iov[i].iov_len);
        at += iov[i].iov_len;
      }
      n = ::send(fd_, scratch, total, MSG_NOSIGNAL | MSG_DONTWAIT);
    } else {
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = count;
      n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        want_write_ = true;
        return Write::blocked;
      }
      write_error_ = static_cast<std::uint8_t>(errno);
      read_later();  // reports it at the end of the iteration
      return Write::failed;
    }
    queue.consume(static_cast<std::size_t>(n));
    if (static_cast<std::size_t>(n) < total) {
      want_write_ = true;  // the socket buffer is full
      return Write::blocked;
    }
  }
  want_write_ = false;
  return Write::done;
}

void EpollStream::shutdown_write() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

}  // namespace duplex::transport
