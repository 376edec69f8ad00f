#include "uring_loop.hpp"

#include "uring_listener.hpp"
#include "uring_stream.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

namespace duplex::transport {
namespace {

// Submission entries per ring: a fan-out to more subscribers than this
// submits in several batches within the iteration.
constexpr unsigned ring_entries = 4096;
// Completions can outnumber submissions (multishot operations): room for
// four per entry before the kernel has to hold them back.
constexpr unsigned completion_entries = 4 * ring_entries;
// Receive buffers: at most this many in the kernel's hands; the first few
// are provided at once, more when a burst needs them.
constexpr std::uint32_t buffer_count = 1024;
constexpr std::uint32_t initial_buffers = 64;

// Linux 6.0 brought multishot receive, which this backend is built on (the
// buffer ring came with 5.19, single-issuer rings with 6.0).
bool kernel_at_least_6_0(std::string& release) {
  utsname u{};
  if (::uname(&u) != 0) return false;
  release = u.release;
  int major = 0;
  int minor = 0;
  if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 0);
}

std::error_code errno_code(int e) {
  return {e, std::system_category()};
}

unsigned setup_flags(bool single_thread) {
  unsigned flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
  if (single_thread) {
    // Completions are processed only when this thread asks for them (no
    // interrupting task work), and the kernel skips the locking that
    // several submitters would need. The ring is enabled by run(), so that
    // the thread that runs the loop is the one the kernel binds it to.
    flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED;
  } else {
    flags |= IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  }
  return flags;
}

}  // namespace

// Wakes the loop from other threads: an eventfd whose read is always queued
// on the ring.
class UringLoop::Waker final : public Completion {
 public:
  explicit Waker(UringLoop& loop) : loop_(loop) {
    fd_ = ::eventfd(0, EFD_CLOEXEC);
    if (fd_ < 0) throw std::system_error(errno, std::system_category(), "eventfd");
    token_ = loop_.attach(*this);
    arm();
  }
  ~Waker() {
    loop_.detach(token_);
    ::close(fd_);
  }
  void wake() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof one);
  }
  void on_complete(std::uint8_t, int, std::uint32_t, std::span<std::uint8_t>) override {
    arm();
    loop_.run_posted();
  }

 private:
  void arm() {
    io_uring_sqe* sqe = loop_.prepare(token_, 0);
    io_uring_prep_read(sqe, fd_, &count_, sizeof count_, 0);
  }

  UringLoop& loop_;
  int fd_;
  Token token_;
  std::uint64_t count_ = 0;  // written by the kernel
};

// A watched descriptor: a one-shot poll, queued again after each report,
// so that a handler that does not drain the descriptor hears again (as
// level-triggered epoll would tell it).
class UringLoop::Readable final : public Completion {
 public:
  Readable(UringLoop& loop, int fd, ReadableHandler& handler)
      : loop_(loop), fd_(fd), handler_(handler), token_(loop.attach(*this)) {
    arm();
  }
  ~Readable() {
    loop_.cancel_op(token_, 0);
    loop_.detach(token_);
  }
  int fd() const noexcept { return fd_; }
  void on_complete(std::uint8_t, int result, std::uint32_t, std::span<std::uint8_t>) override {
    if (result == -ECANCELED) return;
    arm();
    handler_.on_readable();  // may destroy this object
  }

 private:
  void arm() {
    io_uring_sqe* sqe = loop_.prepare(token_, 0);
    io_uring_prep_poll_add(sqe, fd_, POLLIN);
  }

  UringLoop& loop_;
  int fd_;
  ReadableHandler& handler_;
  Token token_;
};

std::error_code UringLoop::probe(std::string& why) {
  std::string release;
  if (!kernel_at_least_6_0(release)) {
    why = "io_uring: kernel " + release + " is older than 6.0";
    return errno_code(ENOSYS);
  }
  io_uring ring;
  io_uring_params params{};
  params.flags = setup_flags(true);
  params.cq_entries = 8;
  const int r = io_uring_queue_init_params(4, &ring, &params);
  if (r < 0) {
    why = std::string("io_uring: ") + std::strerror(-r);
    return errno_code(-r);
  }
  const bool complete = (params.features & IORING_FEAT_NODROP) &&
                        (params.features & IORING_FEAT_FAST_POLL) &&
                        (params.features & IORING_FEAT_EXT_ARG);
  io_uring_queue_exit(&ring);
  if (!complete) {
    why = "io_uring: the kernel lacks fast poll, no-drop or timed waits";
    return errno_code(ENOSYS);
  }
  return {};
}

UringLoop::UringLoop(bool single_thread)
    : single_thread_(single_thread),
      headers_(new msghdr[max_headers]),
      iovecs_(new iovec[max_iovecs]) {
  // Token 0 is never given out: a tracked operation's user data is never
  // 0, which marks the untracked ones.
  entries_.emplace_back();
  std::string release;
  if (!kernel_at_least_6_0(release)) {
    throw std::system_error(errno_code(ENOSYS),
                            "io_uring needs Linux 6.0 (this is " + release + ")");
  }
  io_uring_params params{};
  params.flags = setup_flags(single_thread);
  params.cq_entries = completion_entries;
  int r = io_uring_queue_init_params(ring_entries, &ring_, &params);
  if (r < 0) throw std::system_error(errno_code(-r), "io_uring_setup");
  ring_ready_ = true;
  buffer_ring_ = nullptr;
  // The buffers: address space for all of them; pages are touched (and
  // count) only as buffers are used.
  void* memory = ::mmap(nullptr, std::size_t{buffer_count} * buffer_size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (memory == MAP_FAILED) {
    io_uring_queue_exit(&ring_);
    throw std::system_error(errno_code(errno), "mmap");
  }
  buffers_ = static_cast<std::uint8_t*>(memory);
  buffer_count_ = buffer_count;
  try {
    free_buffers_.reserve(buffer_count);
    // Highest ids first, so that the lowest (first pages) are used first.
    for (std::uint32_t i = buffer_count; i-- > 0;) {
      free_buffers_.push_back(static_cast<std::uint16_t>(i));
    }
    provided_target_ = initial_buffers;
    if (!single_thread_) start_on_this_thread();
    waker_ = std::make_unique<Waker>(*this);
  } catch (...) {
    // No destructor runs for a constructor that throws: give back the
    // ring and the mappings here (a client may try again, or use epoll).
    release_kernel_resources();
    throw;
  }
}

UringLoop::~UringLoop() {
  detach_mailbox();  // before the waker goes: posters call wake()
  readables_.clear();
  release_kernel_resources();
}

void UringLoop::release_kernel_resources() noexcept {
  waker_.reset();
  // Closing the ring cancels whatever is still in the kernel (and drops
  // its hold on the sockets); descriptors whose close was only queued are
  // closed here.
  if (ring_ready_) io_uring_queue_exit(&ring_);
  ring_ready_ = false;
  for (int fd : closing_) ::close(fd);
  closing_.clear();
  if (buffer_ring_) {
    ::munmap(buffer_ring_, std::size_t{buffer_count_} * sizeof(io_uring_buf));
    buffer_ring_ = nullptr;
  }
  if (buffers_) ::munmap(buffers_, std::size_t{buffer_count_} * buffer_size);
  buffers_ = nullptr;
}

void UringLoop::start_on_this_thread() {
  if (started_) return;
  if (single_thread_) {
    // io_uring_enable_rings() is declared by liburing 2.3 but not exported
    // by every build of it: the system call itself.
    if (::syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0) <
        0) {
      throw std::system_error(errno_code(errno), "io_uring_register(ENABLE_RINGS)");
    }
  }
  setup_buffers();
  started_ = true;
}

void UringLoop::setup_buffers() {
  const std::size_t ring_bytes = std::size_t{buffer_count_} * sizeof(io_uring_buf);
  void* memory =
      ::mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) throw std::system_error(errno_code(errno), "mmap");
  buffer_ring_ = static_cast<io_uring_buf_ring*>(memory);
  io_uring_buf_ring_init(buffer_ring_);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(memory);
  reg.ring_entries = buffer_count_;
  reg.bgid = buffer_group;
  const int r = io_uring_register_buf_ring(&ring_, &reg, 0);
  if (r < 0) throw std::system_error(errno_code(-r), "io_uring_register_buf_ring");
  provide_buffers();
}

void UringLoop::provide_buffers() {
  if (!buffer_ring_) return;
  const int mask = io_uring_buf_ring_mask(buffer_count_);
  int added = 0;
  while (provided_ < provided_target_ && !free_buffers_.empty()) {
    const std::uint16_t id = free_buffers_.back();
    free_buffers_.pop_back();
    io_uring_buf_ring_add(buffer_ring_, buffers_ + std::size_t{id} * buffer_size, buffer_size, id,
                          mask, added);
    ++added;
    ++provided_;
  }
  if (added) io_uring_buf_ring_advance(buffer_ring_, added);
}

// ------------------------------------------------------------- operations

UringLoop::Token UringLoop::attach(Completion& owner) {
  return attach(&owner, [](void* o, std::uint8_t op, int result, std::uint32_t flags,
                           std::span<std::uint8_t> buffer) {
    static_cast<Completion*>(o)->on_complete(op, result, flags, buffer);
  });
}

UringLoop::Token UringLoop::attach(void* owner, CompleteFn fn) {
  Token token;
  if (!free_tokens_.empty()) {
    token = free_tokens_.back();
    free_tokens_.pop_back();
  } else {
    token = static_cast<Token>(entries_.size());
    entries_.emplace_back();
  }
  entries_[token].owner = owner;
  entries_[token].fn = fn;
  return token;
}

void UringLoop::detach(Token token, bool results_are_fds) noexcept {
  Entry& e = entries_[token];
  e.owner = nullptr;
  e.close_results = results_are_fds;
  if (e.pending == 0) release(token);
}

void UringLoop::release(Token token) noexcept {
  if (!orphans_.empty()) orphans_.erase(token);
  Entry& e = entries_[token];
  e.close_results = false;
  ++e.generation;  // completions of the old owner can no longer match
  free_tokens_.push_back(token);
}

io_uring_sqe* UringLoop::prepare_untracked() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (!sqe) {
    // The ring is full (a fan-out to thousands): hand it to the kernel now.
    if (started_) {
      io_uring_submit(&ring_);
      after_submit();
    }
    sqe = io_uring_get_sqe(&ring_);
    if (!sqe) throw std::system_error(errno_code(EBUSY), "io_uring: submission ring full");
  }
  ++submissions_;
  io_uring_sqe_set_data64(sqe, 0);
  return sqe;
}

io_uring_sqe* UringLoop::prepare(Token token, std::uint8_t op) {
  io_uring_sqe* sqe = prepare_untracked();
  Entry& e = entries_[token];
  ++e.pending;
  io_uring_sqe_set_data64(sqe, user_data(token, e.generation, op));
  return sqe;
}

void UringLoop::cancel_op(Token token, std::uint8_t op) {
  const Entry& e = entries_[token];
  io_uring_sqe* sqe = prepare_untracked();
  io_uring_prep_cancel64(sqe, user_data(token, e.generation, op), 0);
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

io_uring_sqe* UringLoop::prepare_message(Token token, std::uint8_t op, std::size_t iov_count,
                                         msghdr** message) {
  const bool no_header = headers_used_ == max_headers || iovecs_used_ + iov_count > max_iovecs;
  if ((no_header || io_uring_sq_space_left(&ring_) == 0) && started_) {
    // Submitting between handing out the header and the entry would let
    // the next header overwrite this one before the kernel copied it.
    io_uring_submit(&ring_);
    after_submit();
  }
  *message = nullptr;
  if (headers_used_ < max_headers && iovecs_used_ + iov_count <= max_iovecs) {
    msghdr* m = &headers_[headers_used_++];
    *m = msghdr{};
    m->msg_iov = &iovecs_[iovecs_used_];
    m->msg_iovlen = iov_count;
    iovecs_used_ += iov_count;
    *message = m;
  }
  return prepare(token, op);
}

void UringLoop::adopt(Token token, protocol::OutputQueue&& queue) {
  orphans_[token] = std::move(queue);
}

void UringLoop::hold_input(Token token, std::span<const std::uint8_t> bytes) {
  held_[token].append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::string UringLoop::take_held_input(Token token) {
  auto it = held_.find(token);
  if (it == held_.end()) return {};
  std::string bytes = std::move(it->second);
  held_.erase(it);
  return bytes;
}

void UringLoop::run_pending_work() {
  // Retries queued now go to the next iteration.
  std::vector<Retry> batch;
  batch.swap(retries_);
  for (const Retry& r : batch) {
    const Entry& e = entries_[r.token];
    if (e.owner && e.generation == r.generation) e.fn(e.owner, r.op, 0, 0, {});
  }
}

// ----------------------------------------------------------------- waiting

void UringLoop::after_submit() noexcept {
  // A submission the kernel refused (it holds back completions until we
  // reap) left entries in the queue: what they point to stays as it is.
  if (io_uring_sq_ready(&ring_) != 0) return;
  submissions_ = 0;
  headers_used_ = 0;
  iovecs_used_ = 0;
  // The kernel now holds what it needs of these descriptors.
  for (int fd : closing_) ::close(fd);
  closing_.clear();
}

void UringLoop::submit_and_wait(int timeout_ms) {
  int r;
  if (timeout_ms == 0) {
    r = io_uring_submit_and_get_events(&ring_);
  } else if (timeout_ms < 0) {
    r = io_uring_submit_and_wait(&ring_, 1);
  } else {
    __kernel_timespec ts{};
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = static_cast<long long>(timeout_ms % 1000) * 1000000;
    io_uring_cqe* cqe = nullptr;
    r = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  }
  // -ETIME: the timeout passed; -EINTR: a signal; -EBUSY/-EAGAIN: the
  // kernel holds completions back until we reap. All lead to reaping.
  if (r < 0 && r != -ETIME && r != -EINTR && r != -EBUSY && r != -EAGAIN) {
    throw std::system_error(errno_code(-r), "io_uring_enter");
  }
  after_submit();
}

void UringLoop::start_queued_sends() {
  // Each send gathers all its stream queued in this iteration.
  for (std::size_t i = 0; i < before_submit_.size(); ++i) {
    const Retry r = before_submit_[i];
    const Entry& e = entries_[r.token];
    if (e.owner && e.generation == r.generation) e.fn(e.owner, r.op, 0, 0, {});
  }
  before_submit_.clear();
}

void UringLoop::finish_run() {
  start_on_this_thread();
  start_queued_sends();
  io_uring_submit(&ring_);
  after_submit();
}

void UringLoop::wait(int timeout_ms) {
  start_on_this_thread();
  start_queued_sends();
  if (!retries_.empty()) timeout_ms = 0;  // a send had work for the next iteration
  if (!closing_.empty()) {
    // Descriptors closed in this iteration close before the wait, not
    // after it: the peer's answer to our FIN may be what ends the wait.
    io_uring_submit(&ring_);
    after_submit();
  }
  submit_and_wait(timeout_ms);
  // The clock before the completions: the wait may have slept for long.
  refresh_now();
  reap();
  provide_buffers();
}

void UringLoop::reap() {
  // Copied out before handling, so that the ring has room again at once
  // (handlers submit when the submission ring fills, and the kernel may
  // then post more).
  struct Done {
    std::uint64_t data;
    int result;
    std::uint32_t flags;
  };
  constexpr unsigned batch = 256;
  while (true) {
    io_uring_cqe* cqes[batch];
    const unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, batch);
    if (n == 0) break;
    Done done[batch];
    for (unsigned i = 0; i < n; ++i) done[i] = {cqes[i]->user_data, cqes[i]->res, cqes[i]->flags};
    io_uring_cq_advance(&ring_, n);
    // A handler that throws does not take the rest of the batch with it
    // (their buffers, tokens and accepted descriptors would be lost).
    std::exception_ptr failure;
    for (unsigned i = 0; i < n; ++i) {
      try {
        complete(done[i].data, done[i].result, done[i].flags);
      } catch (...) {
        if (!failure) failure = std::current_exception();
      }
    }
    if (failure) std::rethrow_exception(failure);
    // Buffers used by this batch can go back before the next one.
    if (used_since_refill_ > provided_target_ / 2 && provided_target_ < buffer_count_) {
      provided_target_ = std::min(buffer_count_, provided_target_ * 2);
    }
    used_since_refill_ = 0;
    provide_buffers();
    if (n < batch) break;
  }
}

void UringLoop::complete(std::uint64_t data, int result, std::uint32_t flags) {
  std::span<std::uint8_t> buffer;
  int buffer_id = -1;
  if (flags & IORING_CQE_F_BUFFER) {
    buffer_id = static_cast<int>(flags >> IORING_CQE_BUFFER_SHIFT);
    --provided_;
    ++used_since_refill_;
    if (result > 0) {
      buffer = {buffers_ + std::size_t(buffer_id) * buffer_size, static_cast<std::size_t>(result)};
    }
  }
  if (result == -ENOBUFS) {
    // A receive found no buffer: provide more from now on.
    provided_target_ = std::min(buffer_count_, provided_target_ * 2);
  }
  const Token token = static_cast<Token>(data & 0xffffffff);
  const auto op = static_cast<std::uint8_t>((data >> 32) & 0xff);
  const auto generation = static_cast<std::uint32_t>(data >> 40);
  if (data != 0 && token < entries_.size() &&
      (entries_[token].generation & 0xffffff) == generation) {
    const bool last = !(flags & IORING_CQE_F_MORE);
    if (last) --entries_[token].pending;
    const std::uint32_t full_generation = entries_[token].generation;
    if (const Entry& e = entries_[token]; e.owner) {
      e.fn(e.owner, op, result, flags, buffer);
    } else if (e.close_results && result >= 0) {
      ::close(result);  // accepted after its listener closed
    }
    // The owner may have detached meanwhile (and `entries_` grown). A
    // detach from inside the call released the token already if this was
    // its last operation (the generation moved on): not twice.
    Entry& e = entries_[token];
    if (last && !e.owner && e.pending == 0 && e.generation == full_generation) release(token);
  }
  if (buffer_id >= 0) recycle(static_cast<std::uint16_t>(buffer_id));
}

void UringLoop::wake() noexcept {
  if (waker_) waker_->wake();
}

// ------------------------------------------------------------- factories

std::error_code UringLoop::open_stream(SocketSlot& slot, int fd, StreamHandler& handler) {
  UringStream& stream = slot.emplace<UringStream>(*this, fd, handler, false);
  stream.start();
  return {};
}

std::error_code UringLoop::connect_stream(SocketSlot& slot, const Address& address,
                                          StreamHandler& handler) {
  std::error_code ec;
  const int fd = connect_tcp(address, ec);
  if (fd < 0) return ec;
  UringStream& stream = slot.emplace<UringStream>(*this, fd, handler, true);
  stream.start();
  return {};
}

std::unique_ptr<Listener> UringLoop::listen(int fd, AcceptHandler& handler) {
  return std::make_unique<UringListener>(*this, fd, handler);
}

std::error_code UringLoop::watch_readable(int fd, ReadableHandler& handler) {
  readables_.push_back(std::make_unique<Readable>(*this, fd, handler));
  return {};
}

void UringLoop::unwatch_readable(int fd) noexcept {
  std::erase_if(readables_, [fd](const auto& r) { return r->fd() == fd; });
}

}  // namespace duplex::transport
