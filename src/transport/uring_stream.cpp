#include "uring_stream.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace duplex::transport {
namespace {

std::error_code errno_code(int e) {
  return {e, std::system_category()};
}

}  // namespace

UringStream::UringStream(UringLoop& loop, int fd, StreamHandler& handler, bool connecting)
    : loop_(loop),
      handler_(&handler),
      fd_(fd),
      token_(loop.attach(this,
                         [](void* self, std::uint8_t op, int result, std::uint32_t flags,
                            std::span<std::uint8_t> buffer) {
                           static_cast<UringStream*>(self)->on_complete(op, result, flags, buffer);
                         })),
      connecting_(connecting) {}

void UringStream::start() {
  if (connecting_) {
    io_uring_sqe* sqe = loop_.prepare(token_, op_connect);
    io_uring_prep_poll_add(sqe, fd_, POLLOUT);
    return;
  }
  arm_receive();
}

void UringStream::close() noexcept {
  if (fd_ < 0) return;
  try {
    if (sending_ || (send_queued_ && queue_ && !queue_->empty())) {
      if (sending_) {
        // The kernel has held this send since an earlier submission: it
        // waits for room the peer does not make. End it.
        ::shutdown(fd_, SHUT_RDWR);
      } else {
        // The last bytes (a close frame, say) still go if there is room.
        start_send(MSG_DONTWAIT);
      }
      // The caller frees its queue next, and the kernel points into it.
      if (queue_) loop_.adopt(token_, std::move(*queue_));
    }
    if (receiving_) loop_.cancel_op(token_, op_receive);
    if (connecting_) loop_.cancel_op(token_, op_connect);
  } catch (const std::exception&) {
    // The ring or memory is exhausted: a shutdown ends every operation on
    // the socket just as well (and the queue is not read after it).
    ::shutdown(fd_, SHUT_RDWR);
  }
  if (holding_) loop_.drop_held_input(token_);
  loop_.detach(token_);
  loop_.close_after_submit(fd_);
  fd_ = -1;
  queue_ = nullptr;
}

void UringStream::on_complete(std::uint8_t op, int result, std::uint32_t flags,
                              std::span<std::uint8_t> buffer) {
  switch (op) {
    case op_receive: received(result, flags, buffer); break;
    case op_send: sent(result); break;
    case op_connect: connected(result); break;
    case op_rearm:
      if (reading() && !receiving_) arm_receive();
      break;
    case op_deliver_held: deliver_held(); break;
    case op_start_send: start_send(0); break;
    case op_sent_nothing:
      if (!sending_ && !send_queued_) sent(0);
      break;
    default: break;
  }
}

// ------------------------------------------------------------------ reading

void UringStream::arm_receive() {
  io_uring_sqe* sqe = loop_.prepare(token_, op_receive);
  io_uring_prep_recv_multishot(sqe, fd_, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = UringLoop::buffer_group;
  receiving_ = true;  // only once the entry exists
}

void UringStream::received(int result, std::uint32_t flags, std::span<std::uint8_t> buffer) {
  if (!(flags & IORING_CQE_F_MORE)) receiving_ = false;
  if (fd_ < 0) return;
  if (result > 0) {
    // Held input goes first: a receive that completes between a resume and
    // the delivery of what was held joins it, in order.
    if (paused_ || holding_) {
      loop_.hold_input(token_, buffer);
      holding_ = true;
    } else {
      handler_->on_stream_data(buffer);
    }
  } else if (result == 0) {
    ended_ = true;
    if (paused_ || holding_) {
      end_held_ = true;
    } else {
      handler_->on_stream_end();
    }
    return;
  } else if (result == -ENOBUFS) {
    // Every buffer was taken: the loop provides more at the end of the
    // iteration, then this receive starts again.
    if (!receiving_) loop_.retry_soon(token_, op_rearm);
    return;
  } else if (result != -ECANCELED) {
    failed_ = true;
    handler_->on_stream_error(errno_code(-result), {});
    return;
  }
  // The kernel ends a multishot receive now and then (a full completion
  // ring, a cancel for a pause that is over): start another.
  if (!receiving_ && reading()) arm_receive();
}

void UringStream::pause_reading() noexcept {
  if (paused_) return;
  paused_ = true;
  if (receiving_ && fd_ >= 0) {
    try {
      loop_.cancel_op(token_, op_receive);
    } catch (const std::exception&) {
      // Data that still comes is held until the resume.
    }
  }
}

void UringStream::resume_reading() {
  if (!paused_ || fd_ < 0) return;
  paused_ = false;
  if (holding_ || end_held_) {
    loop_.retry_soon(token_, op_deliver_held);
    return;
  }
  // A receive still being cancelled re-arms itself when its end comes.
  if (reading() && !receiving_) arm_receive();
}

void UringStream::deliver_held() {
  if (paused_ || fd_ < 0) return;
  std::string held = loop_.take_held_input(token_);
  holding_ = false;
  if (!held.empty()) {
    handler_->on_stream_data({reinterpret_cast<std::uint8_t*>(held.data()), held.size()});
    if (fd_ < 0 || paused_) return;
  }
  if (end_held_) {
    end_held_ = false;
    handler_->on_stream_end();
    return;
  }
  if (reading() && !receiving_) arm_receive();
}

void UringStream::connected(int result) {
  connecting_ = false;
  if (fd_ < 0) return;
  const std::error_code ec = result < 0 ? errno_code(-result) : connect_result(fd_);
  if (ec) {
    failed_ = true;
    handler_->on_stream_error(ec, {});
    return;
  }
  if (reading()) arm_receive();  // a stream paused before it connected waits
  handler_->on_stream_connected();
}

// ------------------------------------------------------------------ writing

Stream::Write UringStream::write(protocol::OutputQueue& queue) {
  if (fd_ < 0 || failed_) return Write::failed;
  if (connecting_) return Write::blocked;  // on_stream_connected() comes first
  const bool busy = sending_ || send_queued_;
  if (busy && &queue != queue_) {
    // Another queue's bytes are still going out (a TLS filter that gave
    // the socket back): this one waits for them.
    want_writable_ = true;
    return Write::blocked;
  }
  if (!busy) {
    if (queue.empty()) return Write::done;
    queue_ = &queue;
    queue_send();
  }
  // The bytes go with this iteration's submission, and the kernel may take
  // only part: the writer hears when all are out.
  want_writable_ = true;
  return Write::blocked;
}

void UringStream::queue_send() {
  send_queued_ = true;
  loop_.before_submit(token_, op_start_send);
}

void UringStream::start_send(int extra_flags) {
  send_queued_ = false;
  if (fd_ < 0 || sending_) return;
  if (queue_->empty()) {
    // Its owner emptied the queue meanwhile: nothing to send, but whoever
    // waits for the writable call still gets it (after this submission,
    // not from inside it).
    loop_.retry_soon(token_, op_sent_nothing);
    return;
  }
  const auto parts = loop_.gather_parts();
  std::size_t count = queue_->gather(parts);
  msghdr* message = nullptr;
  io_uring_sqe* sqe = count > 1 ? loop_.prepare_message(token_, op_send, count, &message)
                                : loop_.prepare(token_, op_send);
  if (!message) count = 1;  // no room for the iovecs now: the first part
  std::size_t total = 0;
  if (count == 1) {
    total = parts[0].size();
    io_uring_prep_send(sqe, fd_, parts[0].data(), total, MSG_NOSIGNAL | extra_flags);
  } else {
    for (std::size_t i = 0; i < count; ++i) {
      message->msg_iov[i].iov_base = const_cast<std::uint8_t*>(parts[i].data());
      message->msg_iov[i].iov_len = parts[i].size();
      total += parts[i].size();
    }
    io_uring_prep_sendmsg(sqe, fd_, message, MSG_NOSIGNAL | extra_flags);
  }
  handed_ = static_cast<std::uint32_t>(total);
  sending_ = true;
}

void UringStream::sent(int result) {
  sending_ = false;
  if (fd_ < 0) return;
  if (result < 0) {
    failed_ = true;
    handler_->on_stream_error(errno_code(-result), {});
    return;
  }
  queue_->consume(static_cast<std::size_t>(result));
  if (!queue_->empty()) {
    // What the kernel did not take (its buffer is full), and what was
    // queued meanwhile, go in the next submission.
    queue_send();
    return;
  }
  if (shutdown_pending_) {
    shutdown_pending_ = false;
    shutdown_now();
  }
  if (want_writable_) {
    want_writable_ = false;
    handler_->on_stream_writable();
  }
}

void UringStream::shutdown_write() {
  if (fd_ < 0) return;
  if (sending_ || send_queued_) {
    shutdown_pending_ = true;
    return;
  }
  shutdown_now();
}

void UringStream::shutdown_now() {
  // A system call, not a ring operation: the kernel runs a queued shutdown
  // on a worker thread later, by which time this descriptor's number may
  // name a newer connection (seen as new connections ending at once).
  // Once per connection, and only after its last send.
  ::shutdown(fd_, SHUT_WR);
}

}  // namespace duplex::transport
