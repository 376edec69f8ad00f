// The demo's live ticker over /ticker: a thread of its own publishes
// simulated prices to every subscriber several times a second, through the
// server's thread-safe publish (the case polling handles badly).
#pragma once

#include <duplex/server.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace duplex::demo {

class TickerService {
 public:
  TickerService(Server& server, std::chrono::milliseconds interval)
      : server_(server), interval_(interval) {}
  ~TickerService() { stop(); }

  Handlers<> route();
  void start();
  void stop();

 private:
  void run();

  Server& server_;
  std::chrono::milliseconds interval_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace duplex::demo
