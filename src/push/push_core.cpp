#include "push_core.hpp"

#include "channel_name.hpp"
#include "memory_broker.hpp"

#include <openssl/rand.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <set>

namespace duplex::push::detail {
namespace {

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "duplex";
  return name;
}

// JSON text of a string value.
std::string json_string(std::string_view s) {
  return nlohmann::json(std::string(s)).dump();
}

}  // namespace

std::string publication_topic(std::string_view channel) {
  std::string t = "push.pub:";
  t.append(channel);
  return t;
}

std::string join_leave_topic(std::string_view channel) {
  std::string t = "push.jl:";
  t.append(channel);
  return t;
}

std::string client_info_json(const ClientIdentity& who, std::string_view chan_info) {
  std::string out = "{\"user\":" + json_string(who.user) + ",\"client\":" + json_string(who.client);
  if (!who.conn_info.empty()) out += ",\"conn_info\":" + who.conn_info;
  if (!chan_info.empty()) out.append(",\"chan_info\":").append(chan_info);
  out += "}";
  return out;
}

std::string publication_json(const Publication& p) {
  std::string out = "{\"data\":";
  out += p.data;
  if (!p.info.empty()) out += ",\"info\":" + p.info;
  if (p.offset != 0) out += ",\"offset\":" + std::to_string(p.offset);
  out += "}";
  return out;
}

std::string make_client_id() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    static std::atomic<std::uint64_t> fallback{1};
    const std::uint64_t n = fallback.fetch_add(1);
    for (std::size_t i = 0; i < sizeof b; ++i) b[i] = static_cast<unsigned char>(n >> (i % 8 * 8));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char hex[] = "0123456789abcdef";
  std::string id;
  for (std::size_t i = 0; i < sizeof b; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id.push_back('-');
    id.push_back(hex[b[i] >> 4]);
    id.push_back(hex[b[i] & 15]);
  }
  return id;
}

PushCore::PushCore(Server& s, PushOptions o)
    : server(s),
      broker(std::make_unique<MemoryBroker>(*this)),
      node_name(o.node_name.empty() ? host_name() : o.node_name),
      node_id(make_client_id()) {
  reload(std::move(o));
}

void PushCore::reload(PushOptions o) {
  std::lock_guard lock(settings_mutex_);
  if (const Settings* now = current_.load()) {
    o.websocket_path = now->options.websocket_path;
    o.api_prefix = now->options.api_prefix;
  }
  auto next = std::make_unique<Settings>();
  next->keys = {o.token_hmac_secret, o.token_rsa_public_key, o.token_ecdsa_public_key};
  next->options = std::move(o);
  current_.store(next.get(), std::memory_order_release);
  all_settings_.push_back(std::move(next));
}

PushCore::~PushCore() = default;

const ChannelOptions* PushCore::channel_options(std::string_view channel) const {
  // One snapshot: a reload between two reads would mix two maps.
  const PushOptions& o = options();
  const std::string_view ns = channel_namespace(channel);
  if (ns.empty()) return &o.channel_defaults;
  auto it = o.namespaces.find(std::string(ns));
  return it == o.namespaces.end() ? nullptr : &it->second;
}

PublishResult PushCore::publish(std::string_view channel, std::string data, std::string info) {
  PublishResult result;
  if (check_channel_name(channel, options().max_channel_length) != ChannelNameProblem::none) {
    result.error = 107;
    return result;
  }
  const ChannelOptions* o = channel_options(channel);
  if (!o) {
    result.error = 102;
    return result;
  }
  Publication p;
  p.data = std::move(data);
  p.info = std::move(info);
  const auto start = std::chrono::steady_clock::now();
  const StreamPosition at = broker->publish(channel, std::move(p), history_policy(*o));
  const auto took =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now() - start)
                                     .count());
  std::size_t bucket = 0;
  while (bucket < publish_buckets_us.size() && took > publish_buckets_us[bucket]) ++bucket;
  publish_latency[bucket].fetch_add(1, std::memory_order_relaxed);
  publish_latency_sum_us.fetch_add(took, std::memory_order_relaxed);
  publications.fetch_add(1, std::memory_order_relaxed);
  result.offset = at.offset;
  result.epoch = at.epoch;
  return result;
}

void PushCore::deliver(std::string_view channel, const Publication& publication) {
  std::string push = "{\"push\":{\"channel\":" + json_string(channel) +
                     ",\"pub\":" + publication_json(publication) + "}}";
  const std::string topic = publication_topic(channel);
  // Counted by the subscribers there are now; a subscriber that is dropped
  // as slow is counted in the server's drops.
  const std::size_t subscribers = server.subscriber_count(topic);
  deliveries.fetch_add(subscribers, std::memory_order_relaxed);
  bytes_out.fetch_add(subscribers * push.size(), std::memory_order_relaxed);
  server.publish(topic, push);
}

void PushCore::push_join_leave(std::string_view channel, bool join, const std::string& info_json) {
  std::string push = "{\"push\":{\"channel\":" + json_string(channel) +
                     (join ? ",\"join\"" : ",\"leave\"") + ":{\"info\":" + info_json + "}}}";
  server.publish(join_leave_topic(channel), push);
}

void PushCore::presence_add(const std::string& channel, const std::string& client,
                            const std::string& user, std::string info_json) {
  std::lock_guard lock(presence_mutex_);
  presence_[channel][client] = {user, std::move(info_json)};
}

void PushCore::presence_remove(const std::string& channel, const std::string& client) {
  std::lock_guard lock(presence_mutex_);
  auto it = presence_.find(channel);
  if (it == presence_.end()) return;
  it->second.erase(client);
  if (it->second.empty()) presence_.erase(it);
}

std::vector<std::pair<std::string, std::string>> PushCore::presence(const std::string& channel) {
  std::vector<std::pair<std::string, std::string>> out;
  std::lock_guard lock(presence_mutex_);
  auto it = presence_.find(channel);
  if (it == presence_.end()) return out;
  for (const auto& [client, entry] : it->second) out.emplace_back(client, entry.info_json);
  return out;
}

std::pair<std::size_t, std::size_t> PushCore::presence_stats(const std::string& channel) {
  std::lock_guard lock(presence_mutex_);
  auto it = presence_.find(channel);
  if (it == presence_.end()) return {0, 0};
  std::set<std::string_view> users;
  for (const auto& [client, entry] : it->second) users.insert(entry.user);
  return {it->second.size(), users.size()};
}

void PushCore::count_channel(const std::string& channel, int delta) {
  std::lock_guard lock(channels_mutex_);
  std::size_t& n = channel_counts_[channel];
  n = static_cast<std::size_t>(static_cast<long long>(n) + delta);
  if (n == 0) channel_counts_.erase(channel);
}

std::map<std::string, std::size_t> PushCore::channels() {
  std::lock_guard lock(channels_mutex_);
  return {channel_counts_.begin(), channel_counts_.end()};
}

void PushCore::register_client(const ClientIdentity& who, WebSocketHandle handle) {
  std::lock_guard lock(clients_mutex_);
  clients_.emplace(who.client, Connected{who.user, std::move(handle)});
}

void PushCore::unregister_client(const std::string& client) {
  std::lock_guard lock(clients_mutex_);
  clients_.erase(client);
}

std::size_t PushCore::disconnect(std::string_view user, std::string_view client,
                                 const std::vector<std::string>& keep, CloseCode code,
                                 const std::string& reason) {
  std::vector<WebSocketHandle> chosen;
  {
    std::lock_guard lock(clients_mutex_);
    for (const auto& [id, c] : clients_) {
      // A client id names one connection; with a user too, only if it is
      // that user's.
      if (!client.empty() && id != client) continue;
      if ((!user.empty() || client.empty()) && c.user != user) continue;
      if (std::find(keep.begin(), keep.end(), id) != keep.end()) continue;
      chosen.push_back(c.handle);
    }
  }
  // Closed outside the lock: a close runs the connection's on_close, which
  // takes it to unregister.
  for (const WebSocketHandle& h : chosen) h.close(code, reason);
  return chosen.size();
}

std::size_t PushCore::user_count() {
  std::lock_guard lock(clients_mutex_);
  std::set<std::string_view> users;
  for (const auto& [id, c] : clients_) users.insert(c.user);
  return users.size();
}

}  // namespace duplex::push::detail
