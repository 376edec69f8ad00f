#include "topic_registry.hpp"

#include "server_session.hpp"

namespace duplex::server {

bool TopicRegistry::subscribe(ServerSession& session, std::string_view name, std::uint64_t since) {
  auto& subs = session.subscriptions();
  for (const Subscription& s : subs) {
    if (s.topic->name == name) return false;
  }
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    auto topic = std::make_unique<Topic>();
    topic->name = std::string(name);
    it = topics_.emplace(topic->name, std::move(topic)).first;
  }
  Topic* topic = it->second.get();
  subs.push_back({topic, topic->subscribers.size()});
  topic->subscribers.push_back({&session, since});
  return true;
}

bool TopicRegistry::unsubscribe(ServerSession& session, std::string_view name) {
  auto& subs = session.subscriptions();
  for (std::size_t i = 0; i < subs.size(); ++i) {
    if (subs[i].topic->name == name) {
      remove(session, i);
      return true;
    }
  }
  return false;
}

void TopicRegistry::unsubscribe_all(ServerSession& session) {
  auto& subs = session.subscriptions();
  while (!subs.empty()) remove(session, subs.size() - 1);
}

void TopicRegistry::remove(ServerSession& session, std::size_t index) {
  auto& subs = session.subscriptions();
  const Subscription sub = subs[index];
  subs[index] = subs.back();
  subs.pop_back();

  Topic& topic = *sub.topic;
  const TopicSubscriber moved = topic.subscribers.back();
  topic.subscribers[sub.slot] = moved;
  topic.subscribers.pop_back();
  if (moved.session != &session) {
    // The last subscriber took the freed slot: update its record of it.
    for (Subscription& s : moved.session->subscriptions()) {
      if (s.topic == &topic) s.slot = sub.slot;
    }
  }
  if (topic.subscribers.empty()) topics_.erase(topics_.find(topic.name));
}

std::size_t TopicRegistry::deliver(std::string_view name, PublishedMessage& frame,
                                   const ServerSession* skip) {
  auto it = topics_.find(name);
  if (it == topics_.end()) return 0;
  const auto& subscribers = it->second->subscribers;
  std::size_t delivered = 0;
  // Delivery queues bytes and never closes a socket synchronously, so the
  // list cannot change under this loop.
  const std::uint64_t sequence = frame.sequence();
  LoopDelivery delivery(frame);
  for (const TopicSubscriber& s : subscribers) {
    if (s.session != skip && s.since <= sequence && s.session->deliver(delivery)) ++delivered;
  }
  return delivered;
}

std::size_t TopicRegistry::subscriber_count(std::string_view name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? 0 : it->second->subscribers.size();
}

}  // namespace duplex::server
