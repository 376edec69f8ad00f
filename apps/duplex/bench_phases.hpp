// The phases of a load test, driven from a clock thread of their own while
// the client's loop does the work: wait (bounded) until every connection has
// opened or failed, start, warm up, measure for the duration, stop. Each
// step runs on the client's loop thread, posted to it.
#pragma once

#include "bench_args.hpp"

#include <duplex/client.hpp>

#include <functional>

namespace duplex::cli {

struct BenchPhases {
  std::function<bool()> all_connected;          // have all connections opened or failed?
  std::function<void()> start;                  // optional: before the warm-up
  std::function<void()> begin_measuring;        // the warm-up is over
  std::function<void(int second)> each_second;  // optional: progress while measuring
  std::function<void()> end_measuring;          // the time is up: stop and close
};

// Runs `client` (returning when its loop ends) with the phases on a clock
// thread. With a.mark_window, "measuring" and "measured" go to stderr.
void run_phases(Client& client, const BenchArgs& a, const BenchPhases& phases);

}  // namespace duplex::cli
