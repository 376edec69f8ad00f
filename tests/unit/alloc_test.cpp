// Steady state allocates nothing: after warm-up, receiving and echoing
// messages (whole, split across reads, fragmented) calls malloc zero times.
// This binary interposes malloc, so it is not built with sanitizers.
#include "test_frames.hpp"

#include <gtest/gtest.h>

#include <cstddef>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
}

// Set DUPLEX_ABORT_ON_ALLOC=1 to trap at a counted allocation (run under gdb
// to see where it came from).
namespace {
thread_local bool counting = false;
thread_local std::size_t allocations = 0;
}  // namespace

extern "C" void* malloc(std::size_t n) {
  if (counting) {
    ++allocations;
    if (getenv("DUPLEX_ABORT_ON_ALLOC")) __builtin_trap();
  }
  return __libc_malloc(n);
}
extern "C" void* realloc(void* p, std::size_t n) {
  if (counting) {
    ++allocations;
    if (getenv("DUPLEX_ABORT_ON_ALLOC")) __builtin_trap();
  }
  return __libc_realloc(p, n);
}
extern "C" void* calloc(std::size_t a, std::size_t b) {
  if (counting) {
    ++allocations;
    if (getenv("DUPLEX_ABORT_ON_ALLOC")) __builtin_trap();
  }
  return __libc_calloc(a, b);
}

namespace duplex::test {
namespace {

using protocol::Connection;
using protocol::Role;

// `wire` is scratch of the template's size, so the loop itself allocates nothing.
std::size_t echo_rounds(Connection& server, const Bytes& wire_template, Bytes& wire, int rounds,
                        std::size_t split) {
  std::size_t messages = 0;
  for (int r = 0; r < rounds; ++r) {
    std::copy(wire_template.begin(), wire_template.end(), wire.begin());  // re-mask each round
    for (std::size_t at = 0; at < wire.size(); at += split) {
      std::span<std::uint8_t> in(wire.data() + at, std::min(split, wire.size() - at));
      for (auto e = server.receive(in); e; e = server.receive(in)) {
        if (e.type == protocol::EventType::message) {
          (void)server.send(e.opcode, e.payload);
          ++messages;
        }
      }
    }
    // The echo goes back out: consume it as a transport would.
    server.output().consume(server.output().size());
  }
  return messages;
}

TEST(SteadyState, NoAllocationPerMessage) {
  Connection server({.role = Role::server});
  Bytes wire;
  for (int i = 0; i < 20; ++i) {
    const Bytes m = frame({.opcode = Opcode::text, .masked = true}, std::string(100 + i * 37, 'm'));
    wire.insert(wire.end(), m.begin(), m.end());
  }
  const Bytes a =
      frame({.opcode = Opcode::binary, .fin = false, .masked = true}, std::string(300, 'a'));
  const Bytes p = frame({.opcode = Opcode::ping, .masked = true}, "ping");
  const Bytes b = frame({.opcode = Opcode::continuation, .masked = true}, std::string(300, 'b'));
  wire.insert(wire.end(), a.begin(), a.end());
  wire.insert(wire.end(), p.begin(), p.end());
  wire.insert(wire.end(), b.begin(), b.end());

  Bytes scratch = wire;
  for (std::size_t split : {wire.size(), std::size_t{7}, std::size_t{1000}}) {
    echo_rounds(server, wire, scratch, 5, split);  // warm-up: buffers and pools fill
    counting = true;
    allocations = 0;
    const std::size_t messages = echo_rounds(server, wire, scratch, 200, split);
    counting = false;
    EXPECT_EQ(messages, 200u * 21u);
    EXPECT_EQ(allocations, 0u) << "split " << split;
  }
}

TEST(SteadyState, TheCounterSeesAllocations) {
  // Guards the test above against an interposition that silently fails.
  counting = true;
  allocations = 0;
  void* volatile p = malloc(64);
  counting = false;
  free(p);
  EXPECT_EQ(allocations, 1u);
}

}  // namespace
}  // namespace duplex::test
