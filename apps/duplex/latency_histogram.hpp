// Round-trip latencies in microseconds, in log-linear buckets (about 3%
// resolution from 1 us to minutes), cheap enough to record every message.
#pragma once

#include <array>
#include <cstdint>

namespace duplex::cli {

class LatencyHistogram {
 public:
  void record(std::uint64_t micros) noexcept {
    ++buckets_[bucket_of(micros)];
    ++count_;
    if (micros > max_) max_ = micros;
  }
  void reset() noexcept { *this = LatencyHistogram{}; }
  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t max() const noexcept { return max_; }

  // The latency at quantile q (0..1), as the upper edge of its bucket.
  std::uint64_t percentile(double q) const noexcept {
    if (count_ == 0) return 0;
    const auto target = static_cast<std::uint64_t>(q * static_cast<double>(count_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i];
      if (seen >= target) return upper_edge(i) < max_ ? upper_edge(i) : max_;
    }
    return max_;
  }

 private:
  // 32 sub-buckets per power of two.
  static constexpr int sub_bits = 5;
  static std::size_t bucket_of(std::uint64_t v) noexcept {
    if (v < (1u << sub_bits)) return static_cast<std::size_t>(v);
    const int exp = 63 - __builtin_clzll(v);
    const std::uint64_t mantissa = (v >> (exp - sub_bits)) & ((1u << sub_bits) - 1);
    return static_cast<std::size_t>((exp - sub_bits + 1) << sub_bits) + mantissa;
  }
  static std::uint64_t upper_edge(std::size_t bucket) noexcept {
    if (bucket < (1u << sub_bits)) return bucket;
    const int exp = static_cast<int>(bucket >> sub_bits) + sub_bits - 1;
    const std::uint64_t mantissa = bucket & ((1u << sub_bits) - 1);
    return ((std::uint64_t{1} << sub_bits | mantissa) + 1) << (exp - sub_bits);
  }

  std::array<std::uint64_t, 64 << sub_bits> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace duplex::cli
