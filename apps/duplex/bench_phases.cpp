#include "bench_phases.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

namespace duplex::cli {

void run_phases(Client& client, const BenchArgs& a, const BenchPhases& phases) {
  using namespace std::chrono;
  std::atomic<bool> done{false};
  std::thread clock([&] {
    // Up to a minute for the connections, asked every 100 ms. The flag is
    // shared: the loop may answer after this step has moved on.
    for (int i = 0; i < 600 && !done; ++i) {
      auto ready = std::make_shared<std::atomic<bool>>(false);
      client.post([ready, &phases] { *ready = phases.all_connected(); });
      std::this_thread::sleep_for(milliseconds(100));
      if (*ready) break;
    }
    if (phases.start) client.post(phases.start);
    std::this_thread::sleep_for(milliseconds(static_cast<int>(a.warmup * 1000)));
    client.post([&] {
      phases.begin_measuring();
      if (a.mark_window) std::fputs("measuring\n", stderr);
    });
    const auto begin = steady_clock::now();
    const auto end = begin + milliseconds(static_cast<int>(a.duration * 1000));
    for (int second = 1; steady_clock::now() < end && !done; ++second) {
      std::this_thread::sleep_until(std::min(end, begin + seconds(second)));
      if (phases.each_second && steady_clock::now() < end) {
        client.post([second, &phases] { phases.each_second(second); });
      }
    }
    client.post([&] {
      if (a.mark_window) std::fputs("measured\n", stderr);
      phases.end_measuring();
    });
    done = true;
  });
  client.run();
  done = true;
  clock.join();
}

}  // namespace duplex::cli
