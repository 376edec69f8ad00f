// The output queue: order, partial consumption, shared segments, release.
#include "test_frames.hpp"

#include <duplex/protocol/output_queue.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <random>

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
