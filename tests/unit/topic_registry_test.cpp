// The topic registry without sockets: members that record what they were
// handed, subscribing and leaving in every order, and the publish sequence
// that keeps a late subscriber from an earlier message.
#include "server/topic_registry.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace duplex::test {
namespace {

struct Member {
  void* host_data = nullptr;
  std::vector<std::string> got;
  bool full = false;  // refuses deliveries (a slow consumer)
  bool deliver(const std::string& message) {
    if (full) return false;
    got.push_back(message);
    return true;
  }
};

using Registry = server::TopicRegistry<Member>;

TEST(TopicRegistry, DeliversToSubscribersExceptTheSkippedOne) {
  Registry r;
  Member a, b, c;
  EXPECT_TRUE(r.subscribe(a, "news", 0));
  EXPECT_TRUE(r.subscribe(b, "news", 0));
  EXPECT_FALSE(r.subscribe(b, "news", 0));  // already
  EXPECT_TRUE(r.subscribe(c, "sport", 0));
  std::string m = "hello";
  EXPECT_EQ(r.deliver("news", 1, m, &a), 1u);
  EXPECT_TRUE(a.got.empty());
  EXPECT_EQ(b.got, std::vector<std::string>{"hello"});
  EXPECT_TRUE(c.got.empty());
  EXPECT_EQ(r.deliver("nobody", 2, m, nullptr), 0u);
  c.full = true;
  EXPECT_EQ(r.deliver("sport", 3, m, nullptr), 0u);  // refused: not counted
  EXPECT_EQ(r.subscriber_count("news"), 2u);
  EXPECT_EQ(r.topic_count(), 2u);
  r.unsubscribe_all(a);
  r.unsubscribe_all(b);
  r.unsubscribe_all(c);
}

TEST(TopicRegistry, ASubscriptionGetsNothingPublishedBeforeIt) {
  Registry r;
  Member early, late;
  r.subscribe(early, "t", 0);
  r.subscribe(late, "t", 10);  // the server's sequence was 10 when it joined
  std::string m = "m";
  EXPECT_EQ(r.deliver("t", 9, m, nullptr), 1u);   // published before: early only
  EXPECT_EQ(r.deliver("t", 10, m, nullptr), 2u);  // after: both
  EXPECT_EQ(early.got.size(), 2u);
  EXPECT_EQ(late.got.size(), 1u);
  r.unsubscribe_all(early);
  r.unsubscribe_all(late);
}

TEST(TopicRegistry, LeavingInAnyOrderKeepsEveryoneElseReachable) {
  Registry r;
  std::vector<Member> members(40);
  std::mt19937 rng(3);
  const std::vector<std::string> topics{"a", "b", "c"};
  for (auto& m : members) {
    for (const auto& t : topics) {
      if (rng() % 2) r.subscribe(m, t, 0);
    }
  }
  // Unsubscribe at random, checking after each step that every member still
  // subscribed gets a delivery and no one else does.
  for (int step = 0; step < 200; ++step) {
    Member& m = members[rng() % members.size()];
    const std::string& t = topics[rng() % topics.size()];
    const bool was = r.is_subscribed(m, t);
    EXPECT_EQ(r.unsubscribe(m, t), was);
    EXPECT_FALSE(r.is_subscribed(m, t));
    if (rng() % 3 == 0) r.subscribe(m, topics[rng() % topics.size()], 0);
    for (const auto& topic : topics) {
      for (auto& x : members) x.got.clear();
      std::string msg = topic;
      const std::size_t n = r.deliver(topic, 1, msg, nullptr);
      std::size_t expected = 0;
      for (auto& x : members) {
        const bool sub = r.is_subscribed(x, topic);
        expected += sub;
        EXPECT_EQ(x.got.size(), sub ? 1u : 0u);
      }
      EXPECT_EQ(n, expected);
      EXPECT_EQ(r.subscriber_count(topic), expected);
    }
  }
  for (auto& m : members) {
    r.unsubscribe_all(m);
    EXPECT_EQ(m.host_data, nullptr);  // its list is freed with its last subscription
    EXPECT_EQ(r.subscription_count(m), 0u);
  }
  EXPECT_EQ(r.topic_count(), 0u);
}

TEST(TopicRegistry, TheLastTopicIsTheOneJoinedLast) {
  Registry r;
  Member m;
  r.subscribe(m, "x", 0);
  r.subscribe(m, "y", 0);
  EXPECT_EQ(r.last_topic(m), "y");
  EXPECT_EQ(r.subscription_count(m), 2u);
  EXPECT_FALSE(r.unsubscribe(m, "z"));
  r.unsubscribe_all(m);
}

}  // namespace
}  // namespace duplex::test
