// The io_uring backend: completions instead of readiness. Everything an
// iteration asks of the kernel (receives re-armed, sends, accepts, closes)
// is queued as submission entries and goes in with the one io_uring_enter
// that also waits for the next completions, so a loop makes one system call
// per iteration however many sockets it serves.
//
// Receives are multishot and land in buffers the loop provides to the
// kernel (a buffer ring): a connection holds no receive buffer of its own,
// and a buffer goes back to the ring as soon as its bytes were handled.
//
// Every operation carries a token naming its owner (an index into the
// loop's table and a generation), never a pointer: an owner that closes
// while its operations are still in the kernel is forgotten, and their
// completions are dropped (their buffers returned) when they arrive.
//
// Loop thread only, but for wake(). A server loop's ring takes the
// kernel's single-issuer, deferred-task-run mode: it is enabled by the
// first run() and used from that thread only.
#pragma once

#include "event_loop.hpp"

#include <liburing.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace duplex::transport {

// Something that submits operations and hears of their completions.
class Completion {
 public:
  // `op` is the owner's own tag for the operation; `result` and `flags`
  // are the completion's (a buffer, if any, is passed separately).
  virtual void on_complete(std::uint8_t op, int result, std::uint32_t flags,
                           std::span<std::uint8_t> buffer) = 0;

 protected:
  ~Completion() = default;
};

class UringLoop final : public EventLoop {
 public:
  // `single_thread`: the loop is always run from one thread (a server's):
  // take the kernel's cheaper single-issuer mode. Throws std::system_error
  // when the kernel refuses a ring or lacks what this backend needs.
  explicit UringLoop(bool single_thread);
  ~UringLoop() override;

  // Why this process cannot have a usable ring, or nothing. Cheap enough
  // to call once per loop made.
  static std::error_code probe(std::string& why);

  // ----- operations
  using Token = std::uint32_t;
  // How completions reach an owner that is not a Completion (a stream,
  // which has no room for a second virtual table pointer).
  using CompleteFn = void (*)(void* owner, std::uint8_t op, int result, std::uint32_t flags,
                              std::span<std::uint8_t> buffer);
  Token attach(void* owner, CompleteFn fn);
  Token attach(Completion& owner);
  // No completion reaches `token`'s owner from now on. `results_are_fds`:
  // what its operations still in flight complete with are descriptors the
  // kernel opened (accepted sockets), which the loop closes.
  void detach(Token token, bool results_are_fds = false) noexcept;
  // A submission entry for `op` of `token`'s owner (submitting what is
  // queued first when the ring is full).
  io_uring_sqe* prepare(Token token, std::uint8_t op);
  // One whose completion nobody hears of (closes, cancels).
  io_uring_sqe* prepare_untracked();
  // Cancels `op` of `token` (its completion says -ECANCELED, or the result
  // it had reached).
  void cancel_op(Token token, std::uint8_t op);
  // Keeps the bytes of a closed stream's send in flight (the kernel points
  // into them) until its last operation completes.
  void adopt(Token token, protocol::OutputQueue&& queue);
  // Closes `fd` once what is queued for it reached the kernel: until then
  // the number must not be reused by another socket.
  void close_after_submit(int fd) { closing_.push_back(fd); }
  // A submission entry for `op` of `token`'s owner with room for a
  // gathered send's header and `iov_count` iovecs in `*message` (null when
  // there is none now: send the first part alone). The header is valid
  // until the next submission, which copies it; nothing is submitted
  // between the two being handed out.
  io_uring_sqe* prepare_message(Token token, std::uint8_t op, std::size_t iov_count,
                                msghdr** message);

  // ----- provided receive buffers
  static constexpr std::uint16_t buffer_group = 0;
  static constexpr std::size_t buffer_size = 32 * 1024;

  // Scratch for gathering a write (one write at a time on a loop).
  static constexpr std::size_t max_iov = 64;
  std::span<protocol::OutputQueue::Bytes, max_iov> gather_parts() noexcept { return parts_; }

  // Calls the owner of `token` with op `op` (result 0, no buffer) just
  // before the next submission: a stream prepares its send there, once per
  // iteration with everything its queue gathered meanwhile.
  void before_submit(Token token, std::uint8_t op) {
    before_submit_.push_back({token, entries_[token].generation, op});
  }
  // Calls the owner of `token` with op `op` (result 0, no buffer) at the
  // end of this iteration: re-arming a receive that ran out of buffers,
  // delivering held input. Dropped if the owner detaches meanwhile.
  void retry_soon(Token token, std::uint8_t op) {
    retries_.push_back({token, entries_[token].generation, op});
  }

  // Input that arrived for a stream that paused reading, kept until it
  // resumes (rare: only what was on its way when the pause began).
  void hold_input(Token token, std::span<const std::uint8_t> bytes);
  std::string take_held_input(Token token);
  bool has_held_input(Token token) const { return held_.count(token) != 0; }
  void drop_held_input(Token token) noexcept { held_.erase(token); }

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
  void finish_run() override;

 private:
  class Waker;
  class Readable;
  struct Entry {
    void* owner = nullptr;
    CompleteFn fn = nullptr;
    std::uint32_t generation = 0;
    std::uint32_t pending = 0;   // operations whose last completion is to come
    bool close_results = false;  // detached: results are descriptors to close
  };
  struct Retry {
    Token token;
    std::uint32_t generation;
    std::uint8_t op;
  };

  static std::uint64_t user_data(Token token, std::uint32_t generation, std::uint8_t op) {
    return (static_cast<std::uint64_t>(generation & 0xffffff) << 40) |
           (static_cast<std::uint64_t>(op) << 32) | token;
  }
  void start_on_this_thread();
  void setup_buffers();
  void submit_and_wait(int timeout_ms);
  // The ring, the waker and the buffer mappings (constructor failure, or
  // the destructor).
  void release_kernel_resources() noexcept;
  // Prepares the sends streams asked for in this iteration.
  void start_queued_sends();
  void after_submit() noexcept;
  void reap();
  void complete(std::uint64_t data, int result, std::uint32_t flags);
  void recycle(std::uint16_t buffer_id) { free_buffers_.push_back(buffer_id); }
  void provide_buffers();
  void release(Token token) noexcept;

  io_uring ring_{};
  bool ring_ready_ = false;
  bool single_thread_;
  bool started_ = false;
  std::uint32_t submissions_ = 0;  // entries prepared since the last submit

  std::vector<Entry> entries_;
  std::vector<Token> free_tokens_;
  std::vector<Retry> retries_;
  std::vector<Retry> before_submit_;
  std::vector<int> closing_;
  std::unordered_map<Token, std::string> held_;
  std::unordered_map<Token, protocol::OutputQueue> orphans_;

  // The buffer ring: `buffer_count` buffers, of which `provided_target_`
  // at most are in the kernel's hands at once. The target grows when a
  // burst used many, so a quiet loop keeps touching a few hot buffers
  // instead of cycling through all of them.
  io_uring_buf_ring* buffer_ring_ = nullptr;
  std::uint8_t* buffers_ = nullptr;
  std::uint32_t buffer_count_ = 0;
  std::uint32_t provided_ = 0;
  std::uint32_t provided_target_ = 0;
  std::uint32_t used_since_refill_ = 0;
  std::vector<std::uint16_t> free_buffers_;  // most recently used last

  // Gathered sends of this submission: fixed arrays, since prepared
  // entries point into them (a full arena submits first).
  static constexpr std::size_t max_headers = 256;
  static constexpr std::size_t max_iovecs = 2048;
  std::unique_ptr<msghdr[]> headers_;
  std::unique_ptr<iovec[]> iovecs_;
  std::size_t headers_used_ = 0;
  std::size_t iovecs_used_ = 0;
  protocol::OutputQueue::Bytes parts_[max_iov];

  std::unique_ptr<Waker> waker_;
  std::vector<std::unique_ptr<Readable>> readables_;
};

}  // namespace duplex::transport
