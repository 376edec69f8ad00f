#include "producer_thread.hpp"

#include <pthread.h>
#include <csignal>

namespace duplex::demo {

void ProducerThread::start(Step step) {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  // The thread starts with every signal blocked (a new thread inherits the
  // mask): SIGINT, SIGTERM, SIGQUIT and SIGHUP belong to the server's
  // signalfd, and a thread that left one open would take it and end the
  // process with its default action.
  sigset_t all, before;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &before);
  thread_ = std::thread([this, step = std::move(step)] {
    std::unique_lock held(mutex_);
    while (!stopping_) {
      held.unlock();
      const std::chrono::milliseconds wait = step();
      held.lock();
      wake_.wait_for(held, wait, [this] { return stopping_; });
    }
  });
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
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
