// Masking: every strategy gives the byte-by-byte result for every length,
// alignment and key phase.
#include "test_frames.hpp"

#include "protocol/mask_impl.hpp"

#include <gtest/gtest.h>

#include <random>

namespace duplex::test {
namespace {

using protocol::MaskKey;
using MaskFn = std::size_t (*)(std::uint8_t*, std::size_t, MaskKey, std::size_t) noexcept;

std::vector<std::pair<const char*, MaskFn>> strategies() {
  std::vector<std::pair<const char*, MaskFn>> s{
      {"word64", protocol::mask_impl::word64},
      {"apply_mask", [](std::uint8_t* d, std::size_t n, MaskKey k, std::size_t p) noexcept {
         return protocol::apply_mask(d, n, k, p);
       }}};
#if defined(__x86_64__)
  s.push_back({"sse2", protocol::mask_impl::sse2});
  if (protocol::mask_impl::cpu_has_avx2()) s.push_back({"avx2", protocol::mask_impl::avx2});
#endif
  return s;
}

TEST(Mask, RfcExample) {
  Bytes data{0x7f, 0x9f, 0x4d, 0x51, 0x58};
  protocol::apply_mask(data.data(), data.size(), {0x37, 0xfa, 0x21, 0x3d});
  EXPECT_EQ(str(data), "Hello");
}

TEST(Mask, EveryStrategyMatchesBytewise) {
  std::mt19937 rng(42);
  std::vector<std::uint8_t> buffer(600);
  for (auto& b : buffer) b = static_cast<std::uint8_t>(rng());
  const MaskKey key{0x12, 0x34, 0x56, 0x78};
  for (auto [name, fn] : strategies()) {
    for (std::size_t offset = 0; offset < 8; ++offset) {
      for (std::size_t size : {0u,  1u,  3u,  4u,   7u,   8u,   15u,  16u,  31u,  33u,
                               63u, 64u, 65u, 127u, 128u, 129u, 255u, 300u, 511u, 590u}) {
        for (std::size_t phase = 0; phase < 4; ++phase) {
          Bytes expected(buffer.begin() + static_cast<std::ptrdiff_t>(offset),
                         buffer.begin() + static_cast<std::ptrdiff_t>(offset + size));
          Bytes actual = buffer;
          const std::size_t p1 = protocol::mask_impl::bytewise(expected.data(), size, key, phase);
          const std::size_t p2 = fn(actual.data() + offset, size, key, phase);
          EXPECT_EQ(p1, p2) << name;
          ASSERT_TRUE(std::equal(expected.begin(), expected.end(),
                                 actual.begin() + static_cast<std::ptrdiff_t>(offset)))
              << name << " offset " << offset << " size " << size << " phase " << phase;
          // Bytes around the range are untouched.
          for (std::size_t i = 0; i < offset; ++i) ASSERT_EQ(actual[i], buffer[i]) << name;
          for (std::size_t i = offset + size; i < buffer.size(); ++i)
            ASSERT_EQ(actual[i], buffer[i]) << name;
        }
      }
    }
  }
}

TEST(Mask, PiecewiseEqualsWhole) {
  // Unmasking a payload in arbitrary pieces, carrying the phase, equals
  // unmasking it at once: what a frame split across reads relies on.
  std::mt19937 rng(7);
  Bytes data(1000);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  const MaskKey key{0xde, 0xad, 0xbe, 0xef};
  Bytes whole = data;
  protocol::apply_mask(whole.data(), whole.size(), key);
  for (int trial = 0; trial < 50; ++trial) {
    Bytes pieces = data;
    std::size_t at = 0;
    std::size_t phase = 0;
    while (at < pieces.size()) {
      const std::size_t n = std::min<std::size_t>(pieces.size() - at, rng() % 200);
      phase = protocol::apply_mask(pieces.data() + at, n, key, phase);
      at += n;
    }
    ASSERT_EQ(pieces, whole);
  }
}

TEST(Mask, CopyMaskedLeavesSourceAlone) {
  const Bytes src = bytes("Hello, WebSocket world! 0123456789abcdefghijklmnopqrstuvwxyz");
  Bytes dst(src.size());
  protocol::copy_masked(dst.data(), src.data(), src.size(), {1, 2, 3, 4}, 2);
  Bytes expected = src;
  protocol::mask_impl::bytewise(expected.data(), expected.size(), {1, 2, 3, 4}, 2);
  EXPECT_EQ(dst, expected);
  EXPECT_EQ(str(src), "Hello, WebSocket world! 0123456789abcdefghijklmnopqrstuvwxyz");
}

}  // namespace
}  // namespace duplex::test
