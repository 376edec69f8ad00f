// Warnings a peer can cause: one line per second per cause, with a count of
// those left out.
#include "server/warning_limiter.hpp"

#include <gtest/gtest.h>

namespace duplex::server {
namespace {

TEST(WarningLimiter, WritesOnePerSecondPerCauseAndCountsTheRest) {
  WarningLimiter limiter;
  EXPECT_EQ(limiter.admit(WarningCause::connection_limit, "full", 10'000), "full");
  EXPECT_EQ(limiter.admit(WarningCause::connection_limit, "full", 10'001), std::nullopt);
  EXPECT_EQ(limiter.admit(WarningCause::connection_limit, "full", 10'999), std::nullopt);
  // Another cause has its own second.
  EXPECT_EQ(limiter.admit(WarningCause::accept_failed, "EMFILE", 10'500), "EMFILE");
  EXPECT_EQ(limiter.admit(WarningCause::connection_limit, "full", 11'000),
            "full (and 2 more like it since the last such line)");
  EXPECT_EQ(limiter.admit(WarningCause::connection_limit, "full", 12'000), "full");
}

}  // namespace
}  // namespace duplex::server
