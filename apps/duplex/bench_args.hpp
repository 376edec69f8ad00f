// The options of `duplex bench`, shared by its echo and fan-out modes.
#pragma once

#include "fanout_protocols.hpp"

#include <duplex/client.hpp>

#include <cstddef>
#include <cstdio>
#include <string>

namespace duplex::cli {

struct BenchArgs {
  std::string url;
  unsigned connections = 100;
  std::size_t size = 20;
  unsigned in_flight = 1;
  double duration = 10;
  double warmup = 1;
  bool text = false;
  bool json = false;
  std::string cacert;
  bool insecure = false;
  DeflateOptions deflate;
  bool fanout = false;
  FanoutProtocol protocol = FanoutProtocol::raw;  // what --fanout speaks
  bool mark_window = false;  // "measuring" / "measured" lines on stderr, for scripts
};

// "1.23M", "45.6k", "789".
inline std::string human_rate(double r) {
  char buf[32];
  if (r >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.2fM", r / 1e6);
  } else if (r >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.1fk", r / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f", r);
  }
  return buf;
}

int run_echo_bench(const BenchArgs& a);
int run_fanout_bench(const BenchArgs& a);

// Lets a load generator open many connections: raises the soft limit on
// file descriptors to the hard one when `wanted` would not fit.
void raise_fd_limit(std::size_t wanted);

}  // namespace duplex::cli
