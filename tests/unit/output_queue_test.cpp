// The output queue: order, partial consumption, shared segments, release.
#include "test_frames.hpp"

#include <duplex/protocol/output_queue.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <vector>

namespace duplex::test {
namespace {

using protocol::OutputQueue;

class CountedBytes final : public protocol::SharedBytes {
 public:
  explicit CountedBytes(std::string s) : data_(std::move(s)) {}
  std::span<const std::uint8_t> bytes() const noexcept override {
    return {reinterpret_cast<const std::uint8_t*>(data_.data()), data_.size()};
  }
  void retain() noexcept override { ++refs; }
  void release() noexcept override { --refs; }
  std::atomic<int> refs{0};

 private:
  std::string data_;
};

std::string contents(const OutputQueue& q) {
  std::string s;
  std::span<const std::uint8_t> parts[256];
  const std::size_t n = q.gather(parts);
  for (std::size_t i = 0; i < n; ++i) s.append(parts[i].begin(), parts[i].end());
  return s;
}

TEST(OutputQueue, KeepsOrderAcrossOwnedAndSharedSegments) {
  CountedBytes shared("[shared]");
  {
    OutputQueue q;
    q.append("one ");
    q.append_shared(shared);
    q.append(" two");
    q.append_shared(shared);
    EXPECT_EQ(shared.refs, 2);
    EXPECT_EQ(q.size(), 4u + 8u + 4u + 8u);
    EXPECT_EQ(contents(q), "one [shared] two[shared]");
    q.consume(6);
    EXPECT_EQ(contents(q), "hared] two[shared]");
    EXPECT_EQ(shared.refs, 2);
    q.consume(6);
    EXPECT_EQ(shared.refs, 1) << "a fully written shared segment is released";
    EXPECT_EQ(contents(q), " two[shared]");
  }
  EXPECT_EQ(shared.refs, 0) << "destruction releases the rest";
}

// Shared segments in a row, owned bytes between them, writes that stop
// anywhere (inside a segment, between two), and gathers into too few ranges.
TEST(OutputQueue, RunsOfSharedSegmentsWithPartialWrites) {
  std::vector<std::unique_ptr<CountedBytes>> segments;
  for (const char* text :
       {"a", "bc", "[sixty-four bytes of a published frame, give or take a few]", "xyz"}) {
    segments.push_back(std::make_unique<CountedBytes>(text));
  }
  std::mt19937 rng(7);
  {
    OutputQueue q;
    std::string expected;
    for (int round = 0; round < 2000; ++round) {
      const int appends = static_cast<int>(rng() % 6);
      for (int i = 0; i < appends; ++i) {
        if (rng() % 4 == 0) {
          const std::string owned(rng() % 40 + 1, static_cast<char>('0' + rng() % 10));
          q.append(owned);
          expected += owned;
        } else {
          CountedBytes& s = *segments[rng() % segments.size()];
          q.append_shared(s);
          const auto b = s.bytes();
          expected.append(b.begin(), b.end());
        }
      }
      std::span<const std::uint8_t> few[2];
      std::string prefix;
      for (std::size_t i = 0, n = q.gather(few); i < n; ++i)
        prefix.append(few[i].begin(), few[i].end());
      ASSERT_EQ(prefix, expected.substr(0, prefix.size()));
      ASSERT_EQ(contents(q), expected);
      const std::size_t take = std::min<std::size_t>(expected.size(), rng() % 100);
      q.consume(take);
      expected.erase(0, take);
      ASSERT_EQ(q.size(), expected.size());
    }
    q.consume(q.size());
    EXPECT_TRUE(q.empty());
    for (const auto& s : segments) EXPECT_EQ(s->refs, 0) << "a written segment is released";
    q.append_shared(*segments[0]);
    q.append_shared(*segments[1]);
    EXPECT_EQ(segments[0]->refs, 1);
  }
  for (const auto& s : segments) EXPECT_EQ(s->refs, 0) << "destruction releases the rest";
}

TEST(OutputQueue, LargeAppendsAndRandomConsumption) {
  std::mt19937 rng(3);
  OutputQueue q;
  std::string expected;
  for (int round = 0; round < 300; ++round) {
    const std::size_t n = rng() % 3 == 0 ? rng() % 70000 : rng() % 300;
    std::string chunk(n, '\0');
    for (auto& c : chunk) c = static_cast<char>('a' + rng() % 26);
    q.append(chunk);
    expected += chunk;
    const std::size_t take = std::min<std::size_t>(expected.size(), rng() % 50000);
    ASSERT_EQ(contents(q).substr(0, take), expected.substr(0, take));
    q.consume(take);
    expected.erase(0, take);
    ASSERT_EQ(q.size(), expected.size());
  }
  ASSERT_EQ(contents(q), expected);
  q.consume(q.size());
  EXPECT_TRUE(q.empty());
}

TEST(OutputQueue, PrepareAndCommitAreContiguous) {
  OutputQueue q;
  q.append("x");
  std::uint8_t* p = q.prepare(100000);
  for (int i = 0; i < 100000; ++i) p[i] = 'y';
  q.commit(100000);
  EXPECT_EQ(contents(q), "x" + std::string(100000, 'y'));
}

TEST(OutputQueue, MoveTransfersOwnership) {
  CountedBytes shared("s");
  OutputQueue a;
  a.append_shared(shared);
  OutputQueue b = std::move(a);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(contents(b), "s");
  b.clear();
  EXPECT_EQ(shared.refs, 0);
}

}  // namespace
}  // namespace duplex::test
