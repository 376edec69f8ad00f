// A thread of the demo's own that runs a step, waits, and runs it again
// until stopped: the producers that publish without any client asking
// (prices, generated comments). It blocks every signal: the server's
// signalfd reads SIGINT, SIGTERM, SIGQUIT and SIGHUP (a thread that left
// one unblocked would take it and end the process with its default).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace duplex::demo {

class ProducerThread {
 public:
  /// `step` runs on the thread and returns how long to wait before the next.
  using Step = std::function<std::chrono::milliseconds()>;

  ProducerThread() = default;
  ~ProducerThread() { stop(); }
  ProducerThread(const ProducerThread&) = delete;
  ProducerThread& operator=(const ProducerThread&) = delete;

  void start(Step step);
  void stop();

 private:
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace duplex::demo
