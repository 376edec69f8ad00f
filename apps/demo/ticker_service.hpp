// The demo's price ticker: a thread of its own publishes simulated prices
// to the channel `ticker:prices` several times a second, through the push
// server's thread-safe publish (the case polling handles badly). The
// channel keeps a short history, so a page that drops recovers the ticks it
// missed.
#pragma once

#include "producer_thread.hpp"

#include <duplex/push/push_server.hpp>

#include <chrono>

namespace duplex::demo {

class TickerService {
 public:
  static constexpr const char* channel = "ticker:prices";

  TickerService(push::PushServer& push, std::chrono::milliseconds interval)
      : push_(push), interval_(interval) {}

  void start();
  void stop() { thread_.stop(); }

 private:
  push::PushServer& push_;
  std::chrono::milliseconds interval_;
  ProducerThread thread_;
};

}  // namespace duplex::demo
