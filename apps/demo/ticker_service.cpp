#include "ticker_service.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <memory>
#include <random>

namespace duplex::demo {
namespace {

struct Prices {
  struct Symbol {
    const char* name;
    double price;
  };
  Symbol symbols[3] = {{"DPLX", 120.0}, {"SOCK", 64.0}, {"WSS", 9.5}};
  std::mt19937 rng{std::random_device{}()};
  std::normal_distribution<double> step{0.0, 0.002};
  long long seq = 0;
};

}  // namespace

void TickerService::start() {
  auto state = std::make_shared<Prices>();
  thread_.start([this, state] {
    Prices& p = *state;
    ++p.seq;
    nlohmann::json prices = nlohmann::json::object();
    for (Prices::Symbol& s : p.symbols) {
      s.price *= 1.0 + p.step(p.rng);
      prices[s.name] = std::round(s.price * 100) / 100;
    }
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const nlohmann::json tick = {{"seq", p.seq}, {"time", now}, {"prices", prices}};
    push_.publish(channel, tick.dump());
    return interval_;
  });
}

}  // namespace duplex::demo
