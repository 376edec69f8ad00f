// A token bucket for per-connection rate limits (messages per second, bytes
// inflated per second): it holds a second's worth, refills with time, and may
// go into debt by one large take, which later takes then wait out.
#pragma once

#include <algorithm>
#include <cstdint>

namespace duplex::session {

struct TokenBucket {
  double tokens = -1;  // < 0 before the first take: starts full
  std::int64_t refilled = 0;
  bool started = false;

  // Takes `amount` at `now_ms` from a bucket refilled at `per_second`.
  // False (and nothing taken) when the bucket is empty or in debt.
  bool take(double amount, double per_second, std::int64_t now_ms) noexcept {
    if (!started) {
      started = true;
      tokens = per_second;
    } else {
      tokens = std::min(per_second,
                        tokens + static_cast<double>(now_ms - refilled) * per_second / 1000.0);
    }
    refilled = now_ms;
    if (tokens <= 0 || (amount <= 1 && tokens < amount)) return false;
    tokens -= amount;
    return true;
  }
};

}  // namespace duplex::session
