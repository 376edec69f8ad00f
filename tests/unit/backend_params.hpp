// The I/O backends a transport test runs on: epoll always, io_uring (both
// the shared and the single-issuer ring) when this kernel gives the process
// a usable ring. A test is skipped, not passed, where a backend is missing:
// see available_backends().
#pragma once

#include "transport/uring_loop.hpp"

#include <gtest/gtest.h>
#include <duplex/io_backend.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace duplex::test {

struct BackendParam {
  IoBackend backend;
  bool single_thread;
};

inline std::vector<BackendParam> available_backends() {
  std::vector<BackendParam> all{{IoBackend::epoll, false}};
  std::string why;
  if (!transport::UringLoop::probe(why)) {
    all.push_back({IoBackend::io_uring, false});
    all.push_back({IoBackend::io_uring, true});
  } else {
    // Visible in the test log: the io_uring cases did not run here.
    std::fprintf(stderr, "io_uring backend not tested: %s\n", why.c_str());
  }
  return all;
}

inline std::string backend_name(const ::testing::TestParamInfo<BackendParam>& info) {
  if (info.param.backend == IoBackend::epoll) return "epoll";
  return info.param.single_thread ? "io_uring_single_issuer" : "io_uring";
}

}  // namespace duplex::test
