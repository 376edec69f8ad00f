// The topics of one event loop: which of its members (server sessions)
// subscribe to what. Only the loop's own thread touches it; other loops hand
// it messages by posting to that thread.
//
// A template over the member type so that it can be tested without sockets:
// a Member has `void* host_data` (where the registry keeps the member's own
// list of subscriptions, made on its first subscribe: most connections never
// subscribe) and `bool deliver(Delivery&)` (queue the message; true when
// queued).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace duplex::server {

template <typename Member>
class TopicRegistry {
 public:
  // A subscriber gets the messages published after it subscribed. Another
  // loop's message reaches this loop a little later than it was published;
  // by then a subscriber may have joined because of something that happened
  // after the publish (a reply the publisher sent, say), and must not see
  // it. `since` is the server's publish sequence when the subscription began.
  struct Subscriber {
    Member* member;
    std::uint64_t since;
  };
  struct Topic {
    std::string name;
    std::vector<Subscriber> subscribers;
  };
  // A member's membership in a topic, with its slot in the topic's list so
  // leaving is O(1) (swap with the last subscriber).
  struct Subscription {
    Topic* topic;
    std::size_t slot;
  };

  TopicRegistry() = default;
  TopicRegistry(const TopicRegistry&) = delete;
  TopicRegistry& operator=(const TopicRegistry&) = delete;

  // True when the member was not subscribed yet.
  bool subscribe(Member& member, std::string_view name, std::uint64_t since) {
    if (is_subscribed(member, name)) return false;
    Subscriptions& subs = Subscriptions::room_for_one_more(member.host_data);
    auto it = topics_.find(name);
    if (it == topics_.end()) {
      auto topic = std::make_unique<Topic>();
      topic->name = std::string(name);
      it = topics_.emplace(topic->name, std::move(topic)).first;
    }
    Topic* topic = it->second.get();
    subs.push_back({topic, topic->subscribers.size()});
    topic->subscribers.push_back({&member, since});
    return true;
  }

  bool unsubscribe(Member& member, std::string_view name) {
    auto* subs = subscriptions(member);
    if (!subs) return false;
    for (std::size_t i = 0; i < subs->size(); ++i) {
      if ((*subs)[i].topic->name == name) {
        remove(member, i);
        return true;
      }
    }
    return false;
  }

  void unsubscribe_all(Member& member) {
    while (subscription_count(member) > 0) remove(member, subscription_count(member) - 1);
  }

  bool is_subscribed(const Member& member, std::string_view name) const {
    const auto* subs = subscriptions(member);
    if (!subs) return false;
    for (const Subscription& s : *subs) {
      if (s.topic->name == name) return true;
    }
    return false;
  }

  std::size_t subscription_count(const Member& member) const noexcept {
    const auto* subs = subscriptions(member);
    return subs ? subs->size() : 0;
  }

  // The topic the member subscribed to last (it must have one at least).
  const std::string& last_topic(const Member& member) const {
    return subscriptions(member)->back().topic->name;
  }

  // Hands `message` to every subscriber of `name` that subscribed before it
  // was published (`sequence`), except `skip`. Returns how many took it.
  // Delivery must run no application code and close nothing at once (a
  // failed write reaches its session at the end of the iteration): the list
  // must not change while it is walked.
  template <typename Delivery>
  std::size_t deliver(std::string_view name, std::uint64_t sequence, Delivery& delivery,
                      const Member* skip) {
    auto it = topics_.find(name);
    if (it == topics_.end()) return 0;
    std::size_t delivered = 0;
    for (const Subscriber& s : it->second->subscribers) {
      if (s.member != skip && s.since <= sequence && s.member->deliver(delivery)) ++delivered;
    }
    return delivered;
  }

  std::size_t subscriber_count(std::string_view name) const {
    auto it = topics_.find(name);
    return it == topics_.end() ? 0 : it->second->subscribers.size();
  }
  std::size_t topic_count() const noexcept { return topics_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  // A member's subscriptions in one allocation (a count, a capacity and
  // the entries): a subscriber with one topic holds one 24-byte block.
  class Subscriptions {
   public:
    std::size_t size() const noexcept { return size_; }
    Subscription& operator[](std::size_t i) noexcept { return items()[i]; }
    Subscription& back() noexcept { return items()[size_ - 1]; }
    const Subscription& back() const noexcept { return items()[size_ - 1]; }
    Subscription* begin() noexcept { return items(); }
    Subscription* end() noexcept { return items() + size_; }
    const Subscription* begin() const noexcept { return items(); }
    const Subscription* end() const noexcept { return items() + size_; }
    void push_back(const Subscription& s) noexcept { items()[size_++] = s; }
    void pop_back() noexcept { --size_; }

    // The list behind `slot` (a member's host_data), grown so that one more
    // entry fits.
    static Subscriptions& room_for_one_more(void*& slot) {
      auto* list = static_cast<Subscriptions*>(slot);
      const std::uint32_t size = list ? list->size_ : 0;
      if (!list || size == list->capacity_) {
        const std::uint32_t capacity = list ? list->capacity_ * 2 : 1;
        void* grown = std::realloc(list, sizeof(Subscriptions) + capacity * sizeof(Subscription));
        if (!grown) throw std::bad_alloc();
        list = static_cast<Subscriptions*>(grown);
        list->size_ = size;
        list->capacity_ = capacity;
        slot = list;
      }
      return *list;
    }
    // Frees the list behind `slot` once it is empty.
    static void release_if_empty(void*& slot) noexcept {
      auto* list = static_cast<Subscriptions*>(slot);
      if (list && list->size_ == 0) {
        std::free(list);
        slot = nullptr;
      }
    }

   private:
    Subscription* items() noexcept { return reinterpret_cast<Subscription*>(this + 1); }
    const Subscription* items() const noexcept {
      return reinterpret_cast<const Subscription*>(this + 1);
    }
    std::uint32_t size_;
    std::uint32_t capacity_;
  };

  static Subscriptions* subscriptions(const Member& member) noexcept {
    return static_cast<Subscriptions*>(member.host_data);
  }

  void remove(Member& member, std::size_t index) {
    auto& subs = *subscriptions(member);
    const Subscription sub = subs[index];
    subs[index] = subs.back();
    subs.pop_back();
    Subscriptions::release_if_empty(member.host_data);
    Topic& topic = *sub.topic;
    const Subscriber moved = topic.subscribers.back();
    topic.subscribers[sub.slot] = moved;
    topic.subscribers.pop_back();
    if (moved.member != &member) {
      // The last subscriber took the freed slot: update its record of it.
      for (Subscription& s : *subscriptions(*moved.member)) {
        if (s.topic == &topic) s.slot = sub.slot;
      }
    }
    if (topic.subscribers.empty()) topics_.erase(topics_.find(topic.name));
  }

  std::unordered_map<std::string, std::unique_ptr<Topic>, Hash, std::equal_to<>> topics_;
};

}  // namespace duplex::server
