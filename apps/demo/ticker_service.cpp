#include "ticker_service.hpp"

#include <pthread.h>
#include <csignal>
#include <cstdio>
#include <random>
#include <string>

namespace duplex::demo {

Handlers<> TickerService::route() {
  return {.on_open = [](WebSocket& ws) { ws.subscribe("ticker"); }};
}

void TickerService::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void TickerService::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TickerService::run() {
  // SIGINT/SIGTERM belong to the server's signalfd; a thread that left them
  // unblocked would take them and die of them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  struct Symbol {
    const char* name;
    double price;
  };
  Symbol symbols[] = {{"DPLX", 120.0}, {"SOCK", 64.0}, {"WSS", 9.5}};
  std::mt19937 rng(std::random_device{}());
  std::normal_distribution<double> step(0.0, 0.002);
  long long seq = 0;
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
    ++seq;
    for (Symbol& s : symbols) s.price *= 1.0 + step(rng);
    if (server_.subscriber_count("ticker") == 0) continue;
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    std::string out = R"({"type":"tick","seq":)" + std::to_string(seq) + R"(,"time":)" +
                      std::to_string(now) + R"(,"prices":{)";
    for (std::size_t i = 0; i < std::size(symbols); ++i) {
      char price[32];
      std::snprintf(price, sizeof price, "%.2f", symbols[i].price);
      out += std::string(i ? "," : "") + '"' + symbols[i].name + "\":" + price;
    }
    out += "}}";
    server_.publish("ticker", out);
  }
}

}  // namespace duplex::demo
