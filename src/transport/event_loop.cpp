#include "event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <system_error>

namespace duplex::transport {

// Wakes the loop from other threads through an eventfd.
class EventLoop::Waker final : public IoHandler {
 public:
  explicit Waker(EventLoop& loop) : loop_(loop) {
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
  EventLoop& loop_;
  int fd_;
};

EventLoop::EventLoop() : read_buffer_(new std::uint8_t[read_buffer_size]) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::system_category(), "epoll_create1");
  waker_ = std::make_unique<Waker>(*this);
  watch(waker_->fd(), EPOLLIN, waker_.get());
  refresh_now();
}

EventLoop::~EventLoop() {
  waker_.reset();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

std::int64_t EventLoop::refresh_now() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  now_ = static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  return now_;
}

void EventLoop::watch(int fd, std::uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    throw std::system_error(errno, std::system_category(), "epoll_ctl(ADD)");
  }
}

void EventLoop::rewatch(int fd, std::uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0) {
    throw std::system_error(errno, std::system_category(), "epoll_ctl(MOD)");
  }
}

void EventLoop::unwatch(int fd) noexcept {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::stop() {
  stop_.store(true, std::memory_order_relaxed);
  waker_->wake();
}

void EventLoop::post(std::function<void()> fn) {
  bool wake;
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(fn));
    wake = !wake_pending_;
    wake_pending_ = true;
  }
  // One eventfd write per batch of posts, not one per post.
  if (wake) waker_->wake();
}

void EventLoop::run_posted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(posted_mutex_);
    batch.swap(posted_);
    wake_pending_ = false;
  }
  for (auto& fn : batch) fn();
}

void EventLoop::mark_dirty(Flushable& f) {
  if (f.dirty_) return;
  f.dirty_ = true;
  dirty_.push_back(&f);
}

void EventLoop::defer(std::function<void()> fn) {
  deferred_.push_back(std::move(fn));
}

void EventLoop::cancel_retry(Flushable& r) noexcept {
  if (!r.retry_queued_) return;
  r.retry_queued_ = false;
  std::erase(retries_, &r);
}

void EventLoop::retry_soon(Flushable& r) {
  if (r.retry_queued_) return;
  r.retry_queued_ = true;
  retries_.push_back(&r);
}

void EventLoop::end_iteration() {
  // A flush may mark further objects dirty (a close that queues a reply);
  // index-based so the vector may grow while we walk it.
  for (std::size_t i = 0; i < dirty_.size(); ++i) {
    Flushable* f = dirty_[i];
    // Two objects ahead, ask for the object itself; one ahead (its start
    // now loaded), for what its flush will read.
    if (i + 2 < dirty_.size()) __builtin_prefetch(dirty_[i + 2]);
    if (i + 1 < dirty_.size()) dirty_[i + 1]->prefetch_for_flush();
    f->dirty_ = false;
    f->flush();
  }
  dirty_.clear();
  // Retries queued now go to the next iteration: one busy connection gets
  // one more turn per iteration, not the whole loop.
  if (!retries_.empty()) {
    std::vector<Flushable*> batch;
    batch.swap(retries_);
    for (Flushable* r : batch) {
      r->retry_queued_ = false;
      r->retry();
    }
    for (std::size_t i = 0; i < dirty_.size(); ++i) {
      Flushable* f = dirty_[i];
      f->dirty_ = false;
      f->flush();
    }
    dirty_.clear();
  }
  while (!deferred_.empty()) {
    auto batch = std::move(deferred_);
    deferred_.clear();
    for (auto& fn : batch) fn();
  }
}

// ------------------------------------------------------------------ timers

void EventLoop::heap_swap(std::size_t a, std::size_t b) noexcept {
  std::swap(timers_[a], timers_[b]);
  timers_[a]->heap_index_ = a;
  timers_[b]->heap_index_ = b;
}

void EventLoop::heap_up(std::size_t i) noexcept {
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (timers_[parent]->deadline_ <= timers_[i]->deadline_) break;
    heap_swap(i, parent);
    i = parent;
  }
}

void EventLoop::heap_down(std::size_t i) noexcept {
  const std::size_t n = timers_.size();
  while (true) {
    std::size_t smallest = i;
    const std::size_t l = 2 * i + 1;
    const std::size_t r = l + 1;
    if (l < n && timers_[l]->deadline_ < timers_[smallest]->deadline_) smallest = l;
    if (r < n && timers_[r]->deadline_ < timers_[smallest]->deadline_) smallest = r;
    if (smallest == i) return;
    heap_swap(i, smallest);
    i = smallest;
  }
}

void EventLoop::schedule(Timer& timer, std::int64_t deadline) {
  if (timer.scheduled()) {
    const std::int64_t old = timer.deadline_;
    timer.deadline_ = deadline;
    if (deadline < old) {
      heap_up(timer.heap_index_);
    } else {
      heap_down(timer.heap_index_);
    }
    return;
  }
  timer.deadline_ = deadline;
  timer.heap_index_ = timers_.size();
  timers_.push_back(&timer);
  heap_up(timer.heap_index_);
}

void EventLoop::cancel(Timer& timer) noexcept {
  if (!timer.scheduled()) return;
  const std::size_t i = timer.heap_index_;
  const std::size_t last = timers_.size() - 1;
  if (i != last) heap_swap(i, last);
  timers_.pop_back();
  timer.heap_index_ = Timer::unscheduled;
  if (i < timers_.size()) {
    heap_down(i);
    heap_up(i);
  }
}

void EventLoop::run_timers() {
  while (!timers_.empty() && timers_.front()->deadline_ <= now_) {
    Timer* t = timers_.front();
    cancel(*t);
    t->on_timer();
  }
}

int EventLoop::poll_timeout() const noexcept {
  if (!dirty_.empty() || !deferred_.empty() || !retries_.empty()) return 0;

  if (timers_.empty()) return -1;
  const std::int64_t wait = timers_.front()->deadline_ - now_;
  if (wait <= 0) return 0;
  return wait > 60000 ? 60000 : static_cast<int>(wait);
}

void EventLoop::run() {
  constexpr int max_events = 512;
  epoll_event events[max_events];
  while (!stopping()) {
    const int n = ::epoll_wait(epoll_fd_, events, max_events, poll_timeout());
    refresh_now();
    if (n < 0 && errno != EINTR)
      throw std::system_error(errno, std::system_category(), "epoll_wait");
    for (int i = 0; i < n; ++i) {
      static_cast<IoHandler*>(events[i].data.ptr)->on_io(events[i].events);
    }
    run_timers();
    end_iteration();
  }
  // Anything posted before stop() still runs, then pending output is flushed.
  run_posted();
  end_iteration();
}

}  // namespace duplex::transport
