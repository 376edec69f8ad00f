// The topics of one event loop: which of its sessions subscribe to what.
// Only the loop's own thread touches it; other loops hand it messages by
// posting to that thread.
#pragma once

#include "published_message.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace duplex::server {

class ServerSession;

// A subscriber gets the messages published after it subscribed. Another
// loop's message reaches this loop a little later than it was published; by
// then a subscriber may have joined because of something that happened after
// the publish (a reply the publisher sent, say), and must not see it.
// `since` is the server's publish sequence when the subscription began.
struct TopicSubscriber {
  ServerSession* session;
  std::uint64_t since;
};

struct Topic {
  std::string name;
  std::vector<TopicSubscriber> subscribers;
};

// A session's membership in a topic, with its slot in the topic's list so
// leaving is O(1) (swap with the last subscriber).
struct Subscription {
  Topic* topic;
  std::size_t slot;
};

class TopicRegistry {
 public:
  ~TopicRegistry();

  // True when the session was not subscribed yet.
  bool subscribe(ServerSession& session, std::string_view name, std::uint64_t since);
  bool unsubscribe(ServerSession& session, std::string_view name);
  void unsubscribe_all(ServerSession& session);
  bool is_subscribed(const ServerSession& session, std::string_view name) const;
  std::size_t subscription_count(const ServerSession& session) const noexcept;
  // The topic the session subscribed to last (it has one at least).
  const std::string& last_topic(const ServerSession& session) const;

  // Queues `frame` on every subscriber of `name` that subscribed before it
  // was published, except `skip`. Returns how many subscribers got it.
  std::size_t deliver(std::string_view name, PublishedMessage& frame, const ServerSession* skip);

  std::size_t subscriber_count(std::string_view name) const;
  std::size_t topic_count() const noexcept { return topics_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  // A session's subscriptions live in its host_data, made on the first
  // subscribe: most connections of most servers never subscribe.
  static std::vector<Subscription>* subscriptions(const ServerSession& session) noexcept;
  static std::vector<Subscription>& make_subscriptions(ServerSession& session);
  void remove(ServerSession& session, std::size_t subscription_index);
  void fill_holes();

  std::size_t delivering_ = 0;  // deliveries under way (they may nest)
  std::vector<Topic*> holes_;   // topics with leavers to remove after them
  std::unordered_map<std::string, std::unique_ptr<Topic>, Hash, std::equal_to<>> topics_;
};

}  // namespace duplex::server
