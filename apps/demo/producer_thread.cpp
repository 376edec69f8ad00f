#include "producer_thread.hpp"

#include <pthread.h>
#include <csignal>

namespace duplex::demo {

void ProducerThread::start(Step step) {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this, step = std::move(step)] {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::unique_lock held(mutex_);
    while (!stopping_) {
      held.unlock();
      const std::chrono::milliseconds wait = step();
      held.lock();
      wake_.wait_for(held, wait, [this] { return stopping_; });
    }
  });
}

void ProducerThread::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace duplex::demo
