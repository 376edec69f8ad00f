// Micro-benchmarks of the protocol core's hot paths: masking, UTF-8
// validation, and receiving/echoing frames through a Connection.
#include <duplex/protocol/connection.hpp>
#include "protocol/mask_impl.hpp"

#include <duplex/protocol/mask.hpp>
#include <duplex/protocol/utf8.hpp>

#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

using namespace duplex::protocol;

namespace {

using MaskFn = std::size_t (*)(std::uint8_t*, std::size_t, MaskKey, std::size_t) noexcept;

void run_mask(benchmark::State& state, MaskFn fn) {
  std::vector<std::uint8_t> data(static_cast<std::size_t>(state.range(0)), 0x5A);
  const MaskKey key{0x37, 0xfa, 0x21, 0x3d};
  for (auto _ : state) {
    fn(data.data(), data.size(), key, 0);
    benchmark::DoNotOptimize(data.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void BM_MaskBytewise(benchmark::State& s) {
  run_mask(s, mask_impl::bytewise);
}
void BM_MaskWord64(benchmark::State& s) {
  run_mask(s, mask_impl::word64);
}
void BM_MaskApply(benchmark::State& s) {
  run_mask(s, [](std::uint8_t* d, std::size_t n, MaskKey k, std::size_t p) noexcept {
    return apply_mask(d, n, k, p);
  });
}
#if defined(__x86_64__)
void BM_MaskSse2(benchmark::State& s) {
  run_mask(s, mask_impl::sse2);
}
void BM_MaskAvx2(benchmark::State& s) {
  if (!mask_impl::cpu_has_avx2()) {
    s.SkipWithError("no AVX2 on this CPU");
    return;
  }
  run_mask(s, mask_impl::avx2);
}
#endif

#define MASK_SIZES ->Arg(16)->Arg(128)->Arg(1024)->Arg(16 * 1024)->Arg(1024 * 1024)
BENCHMARK(BM_MaskBytewise) MASK_SIZES;
BENCHMARK(BM_MaskWord64) MASK_SIZES;
#if defined(__x86_64__)
BENCHMARK(BM_MaskSse2) MASK_SIZES;
BENCHMARK(BM_MaskAvx2) MASK_SIZES;
#endif
BENCHMARK(BM_MaskApply) MASK_SIZES;

void BM_Utf8Ascii(benchmark::State& state) {
  std::vector<std::uint8_t> text(static_cast<std::size_t>(state.range(0)), 'a');
  for (auto _ : state) benchmark::DoNotOptimize(is_valid_utf8(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Utf8Ascii)->Arg(128)->Arg(16 * 1024);

void BM_Utf8Mixed(benchmark::State& state) {
  const std::string piece = "h\xC3\xA9llo w\xC3\xB6rld \xE2\x82\xAC \xF0\x9F\x98\x80 ";
  std::string s;
  while (s.size() < static_cast<std::size_t>(state.range(0))) s += piece;
  const std::span<const std::uint8_t> text(reinterpret_cast<const std::uint8_t*>(s.data()),
                                           s.size());
  for (auto _ : state) benchmark::DoNotOptimize(is_valid_utf8(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(s.size()));
}
BENCHMARK(BM_Utf8Mixed)->Arg(128)->Arg(16 * 1024);

// Server receive + echo of masked text frames, 64 per read, as the event
// loop would drive it: the per-message cost of the protocol core.
void BM_ServerEcho(benchmark::State& state) {
  const std::size_t size = static_cast<std::size_t>(state.range(0));
  std::vector<std::uint8_t> one;
  {
    FrameHeader h;
    h.opcode = 1;
    h.masked = true;
    h.mask = {1, 2, 3, 4};
    h.payload_length = size;
    one.resize(frame_header_size(size, true) + size);
    const std::size_t n = encode_frame_header(one.data(), h);
    std::memset(one.data() + n, 'x', size);
    apply_mask(one.data() + n, size, h.mask);
  }
  std::vector<std::uint8_t> batch;
  for (int i = 0; i < 64; ++i) batch.insert(batch.end(), one.begin(), one.end());
  std::vector<std::uint8_t> wire(batch.size());
  Connection server({.role = Role::server});
  std::int64_t messages = 0;
  for (auto _ : state) {
    std::memcpy(wire.data(), batch.data(), batch.size());  // receive() unmasks in place
    std::span<std::uint8_t> in(wire);
    for (Event e = server.receive(in); e; e = server.receive(in)) {
      (void)server.send(e.opcode, e.payload);
      ++messages;
    }
    server.output().consume(server.output().size());
  }
  state.SetItemsProcessed(messages);
  state.SetBytesProcessed(messages * static_cast<std::int64_t>(size));
}
BENCHMARK(BM_ServerEcho)->Arg(20)->Arg(1024)->Arg(16 * 1024);
// A fixed amount of work (1000 x 64 messages) for instruction counting:
//   valgrind --tool=callgrind duplex_protocol_bench --benchmark_filter=Fixed
// then divide the Ir of Connection::* and what they call by 64000.
BENCHMARK(BM_ServerEcho)->Name("BM_ServerEchoFixed")->Arg(20)->Iterations(1000);

}  // namespace

BENCHMARK_MAIN();
