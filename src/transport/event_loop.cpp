#include "event_loop.hpp"

#include <algorithm>
#include <ctime>

namespace duplex::transport {
namespace {

// Ids for application timers, unique across loops so that a stale id never
// cancels another loop's timer.
std::atomic<TimerId> next_timer_id{1};

}  // namespace

// An application timer: its function, and its period when it repeats.
class EventLoop::AppTimer final : public Timer {
 public:
  AppTimer(EventLoop& loop, TimerId id, std::int64_t period, std::function<void()> fn)
      : loop_(loop), id_(id), period_(period), fn_(std::move(fn)) {}

  void on_timer() override {
    if (period_ > 0) {
      // Rescheduled before it runs, so that it may cancel itself (which
      // frees it only at the end of the iteration).
      loop_.schedule(*this, loop_.now() + period_);
      fn_();
      return;
    }
    auto fn = std::move(fn_);
    loop_.app_timers_.erase(id_);  // frees this object
    fn();
  }

 private:
  EventLoop& loop_;
  TimerId id_;
  std::int64_t period_;
  std::function<void()> fn_;
};

EventLoop::EventLoop()
    : read_buffer_(new std::uint8_t[read_buffer_size]),
      mailbox_(std::make_shared<detail::Mailbox>()) {
  mailbox_->loop_ = this;
  refresh_now();
}

EventLoop::~EventLoop() {
  detach_mailbox();
}

void EventLoop::detach_mailbox() noexcept {
  std::vector<std::function<void()>> dropped;
  std::lock_guard lock(mailbox_->mutex_);
  mailbox_->loop_ = nullptr;
  dropped.swap(mailbox_->queue_);
}

std::int64_t EventLoop::refresh_now() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  now_ = static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  return now_;
}

std::span<std::uint8_t> EventLoop::plain_buffer() {
  if (!plain_buffer_) plain_buffer_.reset(new std::uint8_t[read_buffer_size]);
  return {plain_buffer_.get(), read_buffer_size};
}

void EventLoop::stop() {
  stop_.store(true, std::memory_order_relaxed);
  wake();
}

void EventLoop::post(std::function<void()> fn) {
  mailbox_->post(std::move(fn));
}

bool EventLoop::in_loop_thread() const noexcept {
  return thread_.load(std::memory_order_relaxed) == std::this_thread::get_id();
}

bool EventLoop::has_posted_work() const {
  std::lock_guard lock(mailbox_->mutex_);
  return !mailbox_->queue_.empty();
}

void EventLoop::run_posted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(mailbox_->mutex_);
    batch.swap(mailbox_->queue_);
    mailbox_->wake_pending_ = false;
  }
  for (auto& fn : batch) fn();
}

// ------------------------------------------------------- application timers

TimerId EventLoop::after(std::chrono::milliseconds delay, std::function<void()> fn) {
  const TimerId id = next_timer_id.fetch_add(1, std::memory_order_relaxed);
  const std::int64_t ms = std::max<std::int64_t>(0, delay.count());
  if (in_loop_thread()) {
    start_timer(id, ms, 0, std::move(fn));
  } else {
    post([this, id, ms, fn = std::move(fn)]() mutable { start_timer(id, ms, 0, std::move(fn)); });
  }
  return id;
}

TimerId EventLoop::every(std::chrono::milliseconds period, std::function<void()> fn) {
  const TimerId id = next_timer_id.fetch_add(1, std::memory_order_relaxed);
  const std::int64_t ms = std::max<std::int64_t>(1, period.count());
  if (in_loop_thread()) {
    start_timer(id, ms, ms, std::move(fn));
  } else {
    post([this, id, ms, fn = std::move(fn)]() mutable { start_timer(id, ms, ms, std::move(fn)); });
  }
  return id;
}

void EventLoop::cancel(TimerId id) {
  if (in_loop_thread()) {
    stop_timer(id);
  } else {
    post([this, id] { stop_timer(id); });
  }
}

void EventLoop::start_timer(TimerId id, std::int64_t delay, std::int64_t period,
                            std::function<void()> fn) {
  auto timer = std::make_unique<AppTimer>(*this, id, period, std::move(fn));
  // Timers set before run() count from when the loop starts turning.
  schedule(*timer, refresh_now() + delay);
  app_timers_.emplace(id, std::move(timer));
}

void EventLoop::stop_timer(TimerId id) {
  auto it = app_timers_.find(id);
  if (it == app_timers_.end()) return;
  timers_.cancel(*it->second);
  // A repeating timer may be cancelling itself from inside its function:
  // free it once that returns.
  defer([timer = std::shared_ptr<AppTimer>(std::move(it->second))] {});
  app_timers_.erase(it);
}

// ------------------------------------------------------------ iterations

void EventLoop::cancel_dirty(Flushable& f) noexcept {
  if (!f.dirty_) return;
  f.dirty_ = false;
  std::erase(dirty_, &f);
}

void EventLoop::flush_dirty() {
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
}

void EventLoop::end_iteration() {
  flush_dirty();
  if (has_pending_work()) {
    run_pending_work();
    flush_dirty();
  }
  while (!deferred_.empty()) {
    auto batch = std::move(deferred_);
    deferred_.clear();
    for (auto& fn : batch) fn();
  }
}

int EventLoop::poll_timeout() const noexcept {
  if (!dirty_.empty() || !deferred_.empty() || has_pending_work()) return 0;
  if (timers_.empty()) return -1;
  const std::int64_t wait = timers_.next_deadline() - now_;
  if (wait <= 0) return 0;
  return wait > 60000 ? 60000 : static_cast<int>(wait);
}

void EventLoop::run_deferred() {
  end_iteration();
}

void EventLoop::cancel_app_timers() {
  while (!app_timers_.empty()) stop_timer(app_timers_.begin()->first);
}

void EventLoop::run() {
  thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  while (!stopping()) {
    wait(poll_timeout());
    timers_.run_due(now_);
    end_iteration();
    if (busy_ && !busy_()) break;
  }
  // Anything posted before stop() still runs, then pending output is flushed.
  run_posted();
  end_iteration();
  finish_run();
  thread_.store(std::thread::id{}, std::memory_order_relaxed);
}

}  // namespace duplex::transport

namespace duplex {
namespace detail {

bool Mailbox::post(std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  if (!loop_) return false;
  queue_.push_back(std::move(fn));
  // One wake-up per batch of posts, not one per post. Under the lock: the
  // loop detaches itself under it too, so it cannot be gone meanwhile.
  if (!wake_pending_) {
    wake_pending_ = true;
    loop_->wake();
  }
  return true;
}

}  // namespace detail

bool LoopHandle::post(std::function<void()> fn) const {
  return mailbox_ && mailbox_->post(std::move(fn));
}

}  // namespace duplex
