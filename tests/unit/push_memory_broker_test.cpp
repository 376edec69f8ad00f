// The embedded broker on its own, with a sink that records what it is
// handed: a channel's stream (epoch, gap-free offsets from 1), its bounded
// history, a subscription's catch-up (recovery as Centrifugo decides it),
// history queries, and the order between `attach` and deliveries when a
// publisher runs on another thread.
#include "push/memory_broker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace duplex::test {
namespace {

using push::CatchUp;
using push::HistoryPolicy;
using push::HistoryQuery;
using push::MemoryBroker;
using push::Publication;
using push::StreamPosition;

// Every delivery, in the order the broker made them.
class RecordingSink final : public push::Broker::Sink {
 public:
  struct Delivery {
    std::string channel;
    std::uint64_t offset;
    std::string data;
  };

  void deliver(std::string_view channel, const Publication& p) override {
    std::lock_guard lock(mutex_);
    got_.push_back({std::string(channel), p.offset, p.data});
  }

  std::vector<Delivery> got() {
    std::lock_guard lock(mutex_);
    return got_;
  }

 private:
  std::mutex mutex_;
  std::vector<Delivery> got_;
};

constexpr HistoryPolicy keep(std::size_t size) {
  return {size, std::chrono::seconds(300)};
}

Publication pub(std::string data) {
  Publication p;
  p.data = std::move(data);
  return p;
}

// Publishes "1".."n" (the data names the publication) and returns the last
// position.
StreamPosition publish_n(MemoryBroker& broker, std::string_view channel, int n,
                         const HistoryPolicy& policy) {
  StreamPosition last;
  for (int i = 1; i <= n; ++i) last = broker.publish(channel, pub(std::to_string(i)), policy);
  return last;
}

std::vector<std::uint64_t> offsets(const std::vector<Publication>& ps) {
  std::vector<std::uint64_t> out;
  for (const Publication& p : ps) out.push_back(p.offset);
  return out;
}

CatchUp subscribe(MemoryBroker& broker, std::string_view channel,
                  const std::optional<StreamPosition>& since, const HistoryPolicy& policy,
                  std::size_t max_missed = 300) {
  int attached = 0;
  CatchUp c = broker.subscribe(channel, since, policy, max_missed, [&] { ++attached; });
  EXPECT_EQ(attached, 1);  // whatever the outcome, the subscription attaches once
  return c;
}

bool is_epoch(const std::string& e) {
  if (e.size() != 8) return false;
  for (char c : e) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// --- the stream -------------------------------------------------------------

TEST(PushMemoryBroker, OffsetsStartAtOneWithoutGapsAndTheEpochStays) {
  RecordingSink sink;
  MemoryBroker broker(sink);
  std::string epoch;
  for (std::uint64_t i = 1; i <= 20; ++i) {
    const StreamPosition pos = broker.publish("news", pub("{}"), keep(5));
    EXPECT_EQ(pos.offset, i);
    if (i == 1) epoch = pos.epoch;
    EXPECT_EQ(pos.epoch, epoch);
  }
  EXPECT_TRUE(is_epoch(epoch)) << epoch;
  // The sink saw them all, in order, with the offsets the publisher got
  // (delivery is not bounded by the history's size).
  const auto got = sink.got();
  ASSERT_EQ(got.size(), 20u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].channel, "news");
    EXPECT_EQ(got[i].offset, i + 1);
  }
}

TEST(PushMemoryBroker, ChannelsHaveTheirOwnStreams) {
  RecordingSink sink;
  MemoryBroker broker(sink);
  const StreamPosition a1 = broker.publish("a", pub("1"), keep(5));
  const StreamPosition b1 = broker.publish("b", pub("1"), keep(5));
  const StreamPosition a2 = broker.publish("a", pub("2"), keep(5));
  EXPECT_EQ(a1.offset, 1u);
  EXPECT_EQ(b1.offset, 1u);
  EXPECT_EQ(a2.offset, 2u);
  // Random epochs: two streams sharing one would be a 62^-8 coincidence.
  EXPECT_NE(a1.epoch, b1.epoch);
  EXPECT_TRUE(is_epoch(b1.epoch));
  EXPECT_EQ(broker.stream_count(), 2u);
}

TEST(PushMemoryBroker, MakeEpochIsEightAlphanumerics) {
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(is_epoch(push::make_epoch()));
}

TEST(PushMemoryBroker, WithoutHistoryPublicationsHaveNoPlaceButAreDelivered) {
  RecordingSink sink;
  MemoryBroker broker(sink);
  // Either bound at zero turns history off.
  for (const HistoryPolicy& off : {HistoryPolicy{}, HistoryPolicy{10, std::chrono::seconds(0)},
                                   HistoryPolicy{0, std::chrono::seconds(60)}}) {
    const StreamPosition pos = broker.publish("plain", pub("{\"x\":1}"), off);
    EXPECT_EQ(pos.offset, 0u);
    EXPECT_TRUE(pos.epoch.empty());
  }
  const auto got = sink.got();
  ASSERT_EQ(got.size(), 3u);
  for (const auto& d : got) {
    EXPECT_EQ(d.offset, 0u);
    EXPECT_EQ(d.data, "{\"x\":1}");
  }
  // Nothing is kept for such a channel, so no stream exists for it.
  EXPECT_EQ(broker.stream_count(), 0u);
  const auto h = broker.history("plain", {std::nullopt, -1, false}, HistoryPolicy{});
  EXPECT_EQ(h.top.offset, 0u);
  EXPECT_TRUE(h.publications.empty());
  const CatchUp c = subscribe(broker, "plain", StreamPosition{0, ""}, HistoryPolicy{});
  EXPECT_FALSE(c.recovered);
  EXPECT_EQ(c.top.offset, 0u);
}

// --- bounded history --------------------------------------------------------

TEST(PushMemoryBroker, HistoryKeepsTheLastSizePublications) {
  RecordingSink sink;
  MemoryBroker broker(sink);
  publish_n(broker, "c", 10, keep(3));
  const auto h = broker.history("c", {std::nullopt, -1, false}, keep(3));
  EXPECT_EQ(h.top.offset, 10u);
  EXPECT_EQ(offsets(h.publications), (std::vector<std::uint64_t>{8, 9, 10}));
  ASSERT_EQ(h.publications.size(), 3u);
  EXPECT_EQ(h.publications[0].data, "8");
}

TEST(PushMemoryBroker, ASmallerPolicyTrimsOnTheNextQuery) {
  RecordingSink sink;
  MemoryBroker broker(sink);
  publish_n(broker, "c", 10, keep(10));
  // The namespace's options changed: the next look trims to the new size.
  const auto h = broker.history("c", {std::nullopt, -1, false}, keep(2));
  EXPECT_EQ(offsets(h.publications), (std::vector<std::uint64_t>{9, 10}));
}

// The one test that has to let time pass: history also ends by age.
TEST(PushMemoryBroker, HistoryExpiresAfterItsTimeToLive) {
  RecordingSink sink;
  MemoryBroker broker(sink);
  const HistoryPolicy short_lived{100, std::chrono::seconds(1)};
  const StreamPosition top = publish_n(broker, "c", 3, short_lived);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const auto h = broker.history("c", {std::nullopt, -1, false}, short_lived);
  EXPECT_TRUE(h.publications.empty());
  // The stream itself goes on: same epoch and top.
  EXPECT_EQ(h.top.offset, 3u);
  EXPECT_EQ(h.top.epoch, top.epoch);
  // Who saw the top recovers (nothing missed); who is behind cannot.
  EXPECT_TRUE(subscribe(broker, "c", StreamPosition{3, top.epoch}, short_lived).recovered);
  const CatchUp behind = subscribe(broker, "c", StreamPosition{2, top.epoch}, short_lived);
  EXPECT_FALSE(behind.recovered);
  EXPECT_TRUE(behind.publications.empty());
  EXPECT_EQ(broker.publish("c", pub("4"), short_lived).offset, 4u);
}

// --- subscribe: the catch-up ------------------------------------------------

class PushMemoryBrokerCatchUp : public ::testing::Test {
 protected:
  // Ten publications, the last five kept.
  void SetUp() override { top_ = publish_n(broker_, "c", 10, policy_); }

  RecordingSink sink_;
  MemoryBroker broker_{sink_};
  HistoryPolicy policy_ = keep(5);
  StreamPosition top_;
};

TEST_F(PushMemoryBrokerCatchUp, WithoutSinceOnlyTheTop) {
  const CatchUp c = subscribe(broker_, "c", std::nullopt, policy_);
  EXPECT_FALSE(c.recovered);
  EXPECT_TRUE(c.publications.empty());
  EXPECT_EQ(c.top.offset, 10u);
  EXPECT_EQ(c.top.epoch, top_.epoch);
}

TEST_F(PushMemoryBrokerCatchUp, AtTheTopRecoversNothingMissed) {
  const CatchUp c = subscribe(broker_, "c", top_, policy_);
  EXPECT_TRUE(c.recovered);
  EXPECT_TRUE(c.publications.empty());
  EXPECT_EQ(c.top.offset, 10u);
}

TEST_F(PushMemoryBrokerCatchUp, AFewBehindGetsExactlyThoseInOrder) {
  const CatchUp c = subscribe(broker_, "c", StreamPosition{7, top_.epoch}, policy_);
  EXPECT_TRUE(c.recovered);
  EXPECT_EQ(offsets(c.publications), (std::vector<std::uint64_t>{8, 9, 10}));
  ASSERT_EQ(c.publications.size(), 3u);
  EXPECT_EQ(c.publications[0].data, "8");
  EXPECT_EQ(c.publications[2].data, "10");
}

TEST_F(PushMemoryBrokerCatchUp, JustInsideTheHistoryStillRecovers) {
  // 6..10 are kept: the client saw 5, so it missed exactly what is kept.
  const CatchUp c = subscribe(broker_, "c", StreamPosition{5, top_.epoch}, policy_);
  EXPECT_TRUE(c.recovered);
  EXPECT_EQ(offsets(c.publications), (std::vector<std::uint64_t>{6, 7, 8, 9, 10}));
}

TEST_F(PushMemoryBrokerCatchUp, OlderThanTheHistoryIsNotRecovered) {
  // 5 is gone: the client saw 4 and would miss it.
  const CatchUp c = subscribe(broker_, "c", StreamPosition{4, top_.epoch}, policy_);
  EXPECT_FALSE(c.recovered);
  EXPECT_TRUE(c.publications.empty());
  EXPECT_EQ(c.top.offset, 10u);
}

TEST_F(PushMemoryBrokerCatchUp, MoreMissedThanAllowedIsNotRecovered) {
  const CatchUp over = subscribe(broker_, "c", StreamPosition{7, top_.epoch}, policy_, 2);
  EXPECT_FALSE(over.recovered);
  EXPECT_TRUE(over.publications.empty());
  // The limit itself is allowed.
  const CatchUp at = subscribe(broker_, "c", StreamPosition{8, top_.epoch}, policy_, 2);
  EXPECT_TRUE(at.recovered);
  EXPECT_EQ(offsets(at.publications), (std::vector<std::uint64_t>{9, 10}));
}

TEST_F(PushMemoryBrokerCatchUp, AnotherEpochIsNotRecovered) {
  std::string other = top_.epoch;
  other[0] = other[0] == 'a' ? 'b' : 'a';
  const CatchUp c = subscribe(broker_, "c", StreamPosition{9, other}, policy_);
  EXPECT_FALSE(c.recovered);
  EXPECT_TRUE(c.publications.empty());
  EXPECT_EQ(c.top.epoch, top_.epoch);
}

TEST_F(PushMemoryBrokerCatchUp, AnEmptyEpochMatchesAny) {
  // Centrifugo: a position without an epoch is taken on the current one.
  const CatchUp c = subscribe(broker_, "c", StreamPosition{8, ""}, policy_);
  EXPECT_TRUE(c.recovered);
  EXPECT_EQ(offsets(c.publications), (std::vector<std::uint64_t>{9, 10}));
}

TEST_F(PushMemoryBrokerCatchUp, AnOffsetPastTheTopIsNotRecovered) {
  const CatchUp c = subscribe(broker_, "c", StreamPosition{11, top_.epoch}, policy_);
  EXPECT_FALSE(c.recovered);
  EXPECT_TRUE(c.publications.empty());
  EXPECT_EQ(c.top.offset, 10u);
}

TEST(PushMemoryBroker, OffsetZeroRecoversAWholeYoungStream) {
  RecordingSink sink;
  MemoryBroker broker(sink);
  // A client that subscribed before the first publication holds offset 0.
  const StreamPosition before = subscribe(broker, "c", std::nullopt, keep(10)).top;
  EXPECT_EQ(before.offset, 0u);
  EXPECT_TRUE(is_epoch(before.epoch));
  publish_n(broker, "c", 3, keep(10));
  const CatchUp c = subscribe(broker, "c", before, keep(10));
  EXPECT_TRUE(c.recovered);
  EXPECT_EQ(offsets(c.publications), (std::vector<std::uint64_t>{1, 2, 3}));
}

// attach() and deliveries are ordered by the broker: a publisher on another
// thread, subscriptions made while it runs. For each subscription, its
// catch-up followed by what reached the sink after its attach must be the
// stream from its position on, without a gap or a repeat.
TEST(PushMemoryBroker, AttachSplitsTheStreamBetweenCatchUpAndDeliveries) {
  // The publisher runs until told to stop (or this many, to stay bounded),
  // so that every subscription meets it running.
  constexpr std::uint64_t max_publications = 200'000;
  constexpr int subscriptions = 40;
  const HistoryPolicy policy = keep(max_publications);

  // Deliveries (their offsets) and attaches (-1 - the subscription's index)
  // in one log, in the order they happened.
  std::mutex mutex;
  std::vector<std::int64_t> log;
  struct LoggingSink final : push::Broker::Sink {
    std::mutex& m;
    std::vector<std::int64_t>& l;
    LoggingSink(std::mutex& mm, std::vector<std::int64_t>& ll) : m(mm), l(ll) {}
    void deliver(std::string_view, const Publication& p) override {
      std::lock_guard lock(m);
      l.push_back(static_cast<std::int64_t>(p.offset));
    }
  } sink(mutex, log);
  MemoryBroker broker(sink);

  std::atomic<std::uint64_t> published{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  std::thread publisher([&] {
    for (std::uint64_t i = 1; i <= max_publications && !stop.load(); ++i) {
      broker.publish("race", pub("{}"), policy);
      published.store(i);
    }
    done.store(true);
  });

  struct Sub {
    std::optional<StreamPosition> since;
    CatchUp caught;
    int attaches = 0;
  };
  std::vector<Sub> subs(subscriptions);
  for (int i = 0; i < subscriptions; ++i) {
    // Let the publisher get ahead a little between two subscriptions.
    const std::uint64_t target = published.load() + 50;
    while (published.load() < target && !done.load()) std::this_thread::yield();
    Sub& s = subs[static_cast<std::size_t>(i)];
    // Half recover from a position a little behind what is published now
    // (with an empty epoch: the current one), half start at the top.
    if (i % 2 == 0) {
      const std::uint64_t now = published.load();
      s.since = StreamPosition{now > 3 ? now - 3 : 0, ""};
    }
    s.caught = broker.subscribe("race", s.since, policy, max_publications, [&, i] {
      std::lock_guard lock(mutex);
      log.push_back(-1 - i);
      ++subs[static_cast<std::size_t>(i)].attaches;
    });
  }
  stop.store(true);
  publisher.join();
  const std::uint64_t total = published.load();

  for (int i = 0; i < subscriptions; ++i) {
    const Sub& s = subs[static_cast<std::size_t>(i)];
    SCOPED_TRACE("subscription " + std::to_string(i));
    ASSERT_EQ(s.attaches, 1);
    std::vector<std::uint64_t> seen;
    std::uint64_t from = s.caught.top.offset;  // without `since`: the top on
    if (s.since) {
      ASSERT_TRUE(s.caught.recovered);
      from = s.since->offset;
      seen = offsets(s.caught.publications);
      ASSERT_EQ(seen.size(), s.caught.top.offset - from);
    }
    // The top is the last delivery before the attach.
    std::uint64_t before_attach = 0;
    bool after = false;
    for (std::int64_t e : log) {
      if (e == -1 - i) {
        after = true;
      } else if (e >= 0 && after) {
        seen.push_back(static_cast<std::uint64_t>(e));
      } else if (e >= 0) {
        before_attach = static_cast<std::uint64_t>(e);
      }
    }
    EXPECT_EQ(s.caught.top.offset, before_attach);
    ASSERT_EQ(seen.size(), total - from);
    for (std::size_t k = 0; k < seen.size(); ++k) ASSERT_EQ(seen[k], from + 1 + k);
  }
}

// --- history queries --------------------------------------------------------

class PushMemoryBrokerHistory : public ::testing::Test {
 protected:
  void SetUp() override { top_ = publish_n(broker_, "h", 5, policy_); }

  std::vector<std::uint64_t> query(std::optional<std::uint64_t> since, long long limit,
                                   bool reverse) {
    HistoryQuery q;
    if (since) q.since = StreamPosition{*since, top_.epoch};
    q.limit = limit;
    q.reverse = reverse;
    const auto r = broker_.history("h", q, policy_);
    EXPECT_EQ(r.top.offset, top_.offset);
    EXPECT_EQ(r.top.epoch, top_.epoch);
    return offsets(r.publications);
  }

  RecordingSink sink_;
  MemoryBroker broker_{sink_};
  HistoryPolicy policy_ = keep(10);
  StreamPosition top_;
};

using Offsets = std::vector<std::uint64_t>;

TEST_F(PushMemoryBrokerHistory, LimitZeroIsTheTopOnly) {
  EXPECT_EQ(query(std::nullopt, 0, false), Offsets{});
  EXPECT_EQ(query(std::nullopt, 0, true), Offsets{});
  EXPECT_EQ(query(2, 0, false), Offsets{});
}

TEST_F(PushMemoryBrokerHistory, ALimitTakesTheOldestForwardsAndTheNewestBackwards) {
  EXPECT_EQ(query(std::nullopt, 2, false), (Offsets{1, 2}));
  EXPECT_EQ(query(std::nullopt, 2, true), (Offsets{5, 4}));
  EXPECT_EQ(query(std::nullopt, 50, false), (Offsets{1, 2, 3, 4, 5}));
}

TEST_F(PushMemoryBrokerHistory, ANegativeLimitIsEverythingKept) {
  EXPECT_EQ(query(std::nullopt, -1, false), (Offsets{1, 2, 3, 4, 5}));
  EXPECT_EQ(query(std::nullopt, -1, true), (Offsets{5, 4, 3, 2, 1}));
}

TEST_F(PushMemoryBrokerHistory, SinceForwardsIsWhatCameAfter) {
  EXPECT_EQ(query(2, -1, false), (Offsets{3, 4, 5}));
  EXPECT_EQ(query(2, 1, false), (Offsets{3}));
  EXPECT_EQ(query(5, -1, false), Offsets{});
  EXPECT_EQ(query(0, -1, false), (Offsets{1, 2, 3, 4, 5}));
}

TEST_F(PushMemoryBrokerHistory, SinceBackwardsIsWhatCameBeforeNewestFirst) {
  EXPECT_EQ(query(4, -1, true), (Offsets{3, 2, 1}));
  EXPECT_EQ(query(4, 2, true), (Offsets{3, 2}));
  EXPECT_EQ(query(1, -1, true), Offsets{});
}

TEST_F(PushMemoryBrokerHistory, PublicationsKeepTheirData) {
  const auto r = broker_.history("h", {std::nullopt, -1, false}, policy_);
  ASSERT_EQ(r.publications.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(r.publications[i].data, std::to_string(i + 1));
}

TEST_F(PushMemoryBrokerHistory, RemoveHistoryKeepsThePlaceInTheStream) {
  broker_.remove_history("h");
  const auto r = broker_.history("h", {std::nullopt, -1, false}, policy_);
  EXPECT_TRUE(r.publications.empty());
  EXPECT_EQ(r.top.offset, 5u);
  EXPECT_EQ(r.top.epoch, top_.epoch);
  // The stream goes on where it was, in the same epoch.
  const StreamPosition next = broker_.publish("h", pub("6"), policy_);
  EXPECT_EQ(next.offset, 6u);
  EXPECT_EQ(next.epoch, top_.epoch);
  // Forgetting a channel that has no stream is harmless.
  broker_.remove_history("never-published");
}

}  // namespace
}  // namespace duplex::test

namespace duplex::test {
namespace {

TEST(PushMemoryBroker, ReadingTheHistoryOfAnUnknownChannelMakesNoStream) {
  // Names a client merely asks about must cost nothing: history of
  // channels nobody published to answers the empty top and keeps no state.
  RecordingSink sink;
  MemoryBroker broker(sink);
  const HistoryPolicy policy{10, std::chrono::seconds(60)};
  for (int i = 0; i < 1000; ++i) {
    const auto h = broker.history("nobody-" + std::to_string(i), {.limit = -1}, policy);
    EXPECT_EQ(h.top.offset, 0u);
    EXPECT_TRUE(h.top.epoch.empty());
  }
  EXPECT_EQ(broker.stream_count(), 0u);
}

}  // namespace
}  // namespace duplex::test

namespace duplex::test {
namespace {

TEST(PushMemoryBroker, StreamsMadeBySubscribingAloneAreBounded) {
  // A client subscribing to name after name makes a stream (an epoch) for
  // each; past a bound per shard the least recently used of those are
  // forgotten, while channels that were published to keep theirs.
  RecordingSink sink;
  MemoryBroker broker(sink);
  const HistoryPolicy policy{10, std::chrono::seconds(60)};
  Publication p;
  p.data = "1";
  const auto kept = broker.publish("published", p, policy);
  for (int i = 0; i < 100'000; ++i) {
    broker.subscribe("probe-" + std::to_string(i), std::nullopt, policy, 300, [] {});
  }
  EXPECT_LE(broker.stream_count(), 16u * 4096u + 1u);
  EXPECT_GE(broker.stream_count(), 16u * 4096u / 4);  // the recent ones stay
  const auto h = broker.history("published", {.limit = -1}, policy);
  EXPECT_EQ(h.top.epoch, kept.epoch);
  EXPECT_EQ(h.top.offset, 1u);
}

}  // namespace
}  // namespace duplex::test
