#include "warning_limiter.hpp"

namespace duplex::server {

std::optional<std::string> WarningLimiter::admit(WarningCause cause, std::string_view text,
                                                 std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  Entry& e = entries_[static_cast<std::size_t>(cause)];
  if (e.written && now_ms - e.last_written < 1000) {
    ++e.left_out;
    return std::nullopt;
  }
  std::string line(text);
  if (e.left_out > 0) {
    line += " (and " + std::to_string(e.left_out) + " more like it since the last such line)";
  }
  e.written = true;
  e.last_written = now_ms;
  e.left_out = 0;
  return line;
}

}  // namespace duplex::server
