#include "topic_registry.hpp"

#include "server_session.hpp"

namespace duplex::server {

TopicRegistry::~TopicRegistry() = default;

std::vector<Subscription>* TopicRegistry::subscriptions(const ServerSession& session) noexcept {
  return static_cast<std::vector<Subscription>*>(session.host_data);
}

std::vector<Subscription>& TopicRegistry::make_subscriptions(ServerSession& session) {
  if (!session.host_data) session.host_data = new std::vector<Subscription>();
  return *static_cast<std::vector<Subscription>*>(session.host_data);
}

bool TopicRegistry::subscribe(ServerSession& session, std::string_view name, std::uint64_t since) {
  if (is_subscribed(session, name)) return false;
  auto& subs = make_subscriptions(session);
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

bool TopicRegistry::is_subscribed(const ServerSession& session, std::string_view name) const {
  const auto* subs = subscriptions(session);
  if (!subs) return false;
  for (const Subscription& s : *subs) {
    if (s.topic->name == name) return true;
  }
  return false;
}

std::size_t TopicRegistry::subscription_count(const ServerSession& session) const noexcept {
  const auto* subs = subscriptions(session);
  return subs ? subs->size() : 0;
}

const std::string& TopicRegistry::last_topic(const ServerSession& session) const {
  return subscriptions(session)->back().topic->name;
}

bool TopicRegistry::unsubscribe(ServerSession& session, std::string_view name) {
  auto* subs = subscriptions(session);
  if (!subs) return false;
  for (std::size_t i = 0; i < subs->size(); ++i) {
    if ((*subs)[i].topic->name == name) {
      remove(session, i);
      return true;
    }
  }
  return false;
}

void TopicRegistry::unsubscribe_all(ServerSession& session) {
  while (subscription_count(session) > 0) remove(session, subscription_count(session) - 1);
}

void TopicRegistry::remove(ServerSession& session, std::size_t index) {
  auto& subs = *subscriptions(session);
  const Subscription sub = subs[index];
  subs[index] = subs.back();
  subs.pop_back();
  if (subs.empty()) {
    delete &subs;
    session.host_data = nullptr;
  }

  Topic& topic = *sub.topic;
  const TopicSubscriber moved = topic.subscribers.back();
  topic.subscribers[sub.slot] = moved;
  topic.subscribers.pop_back();
  if (moved.session != &session) {
    // The last subscriber took the freed slot: update its record of it.
    for (Subscription& s : *subscriptions(*moved.session)) {
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
  // Delivery queues bytes and runs no application code: nothing closes or
  // subscribes under this walk (a failed write reaches its session at the
  // end of the iteration), so the list cannot change while we walk it.
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
