// A connected (or connecting) TCP socket on the io_uring backend.
//
// Reading: one multishot receive stays armed; each completion names a
// buffer of the loop's, handed to the handler and given back right after.
// Pausing cancels the receive; what was already on its way is kept by the
// loop and delivered on resume.
//
// Writing: a write only notes that the stream has something to send; just
// before the loop's next submission the stream gathers its whole queue into
// one send (so the messages of an iteration leave together), and the queue
// is consumed when the send completes. One send is in flight at a time. A
// write reports `blocked` while the kernel holds a send it could not finish
// (the peer is not reading) and while reading is paused, so that whoever
// paused for backpressure hears on_stream_writable() once the queue is
// empty, as with epoll.
//
// Closing with a send pending hands the queue's bytes to the loop, which
// keeps them until the kernel is done with them. A send not submitted yet
// still goes out, without waiting for room (a close frame, say); one the
// kernel already holds is waiting for room the peer does not make, and a
// shutdown ends it. The descriptor is closed once the entries queued for it
// reached the kernel, so that its number cannot be reused under them.
#pragma once

#include "stream.hpp"
#include "uring_loop.hpp"

namespace duplex::transport {

class UringStream final : public Stream {
 public:
  // Takes `fd`; `connecting`: a non-blocking connect is under way.
  UringStream(UringLoop& loop, int fd, StreamHandler& handler, bool connecting);
  // Arms the receive (or the wait for the connect).
  void start();
  ~UringStream() override { close(); }

  Write write(protocol::OutputQueue& queue) override;
  void pause_reading() noexcept override;
  void resume_reading() override;
  void shutdown_write() override;
  void close() noexcept override;
  std::size_t unacknowledged() const noexcept override {
    return fd_ < 0 ? 0 : unacknowledged_bytes(fd_);
  }
  void set_handler(StreamHandler& handler) noexcept override { handler_ = &handler; }

 private:
  enum Op : std::uint8_t {
    op_receive = 1,
    op_send,
    op_connect,
    op_rearm,         // a receive that ran out of buffers starts again
    op_deliver_held,  // input held during a pause goes to the handler
    op_start_send,    // the loop is about to submit: prepare the send
    op_sent_nothing,  // a send found its queue emptied by its owner
  };

  void on_complete(std::uint8_t op, int result, std::uint32_t flags,
                   std::span<std::uint8_t> buffer);
  void received(int result, std::uint32_t flags, std::span<std::uint8_t> buffer);
  void sent(int result);
  void connected(int result);
  void deliver_held();
  void arm_receive();
  void queue_send();
  void start_send(int extra_flags);
  void shutdown_now();
  bool reading() const noexcept { return fd_ >= 0 && !paused_ && !ended_; }

  UringLoop& loop_;
  StreamHandler* handler_;
  protocol::OutputQueue* queue_ = nullptr;  // what the stream sends from
  int fd_;
  UringLoop::Token token_;
  std::uint32_t handed_ = 0;  // bytes given to the send in flight
  bool connecting_ : 1;
  bool receiving_ : 1 = false;         // a receive is armed (or being cancelled)
  bool send_queued_ : 1 = false;       // a send is to be prepared before the submit
  bool sending_ : 1 = false;           // the kernel holds a send
  bool want_writable_ : 1 = false;     // a write returned blocked
  bool paused_ : 1 = false;            // backpressure: not reading
  bool ended_ : 1 = false;             // the peer's end was received
  bool end_held_ : 1 = false;          // ... while paused: reported on resume
  bool holding_ : 1 = false;           // the loop holds input not delivered yet
  bool shutdown_pending_ : 1 = false;  // shut down once the queue is out
  bool failed_ : 1 = false;            // an error was reported
};

}  // namespace duplex::transport
