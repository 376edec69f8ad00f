// Warnings a remote peer can cause (refused connections, failed accepts) are
// written at most once per second per cause, with the number left out since
// the last one, so that no peer controls the volume of the log.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace duplex::server {

enum class WarningCause : std::uint8_t {
  connection_limit,  // max_connections reached
  address_limit,     // max_connections_per_address reached
  pending_limit,     // max_pending_handshakes reached: accepting waits
  accept_failed,     // accept() failed (out of descriptors, memory)
  cannot_watch,      // a new socket could not join the event loop
  memory_budget,     // connections dropped for the memory budget
  count_
};

// Any thread.
class WarningLimiter {
 public:
  // The line to write for a warning of `cause` at `now_ms` (a monotonic
  // clock), with a note of how many were left out since the last one; or
  // nothing when one of this cause was written less than a second ago.
  std::optional<std::string> admit(WarningCause cause, std::string_view text, std::int64_t now_ms);

 private:
  struct Entry {
    std::int64_t last_written = 0;
    bool written = false;
    std::uint64_t left_out = 0;
  };
  std::mutex mutex_;
  std::array<Entry, static_cast<std::size_t>(WarningCause::count_)> entries_{};
};

}  // namespace duplex::server
