#include "memory_broker.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <vector>
#include <functional>

namespace duplex::push {
namespace {

using Clock = std::chrono::steady_clock;

// Streams that keep nothing are forgotten at the next sweep after this
// long unused (a subscriber coming back after that sees a new epoch, and
// recovers nothing, which is all there was); sooner for streams never
// published to.
constexpr auto idle_stream_lifetime = std::chrono::hours(24);
constexpr auto unused_stream_lifetime = std::chrono::minutes(10);
constexpr std::uint32_t uses_per_sweep = 4096;
// Streams never published to, per shard (16 shards): past this, the least
// recently used of them are forgotten to make room.
constexpr std::size_t max_unpublished_per_shard = 4096;

}  // namespace

std::string make_epoch() {
  static constexpr char alphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // No CSPRNG output: an epoch only has to differ from the last one.
    const auto now = static_cast<std::uint64_t>(Clock::now().time_since_epoch().count());
    for (std::size_t i = 0; i < sizeof bytes; ++i)
      bytes[i] = static_cast<unsigned char>(now >> (i * 8));
  }
  std::string epoch;
  for (unsigned char b : bytes) epoch.push_back(alphabet[b % (sizeof alphabet - 1)]);
  return epoch;
}

MemoryBroker::MemoryBroker(Sink& sink) : sink_(sink) {}

MemoryBroker::Shard& MemoryBroker::shard_for(std::string_view channel) {
  return shards_[std::hash<std::string_view>{}(channel) % shards_.size()];
}

MemoryBroker::Stream& MemoryBroker::stream_of(Shard& shard, std::string_view channel,
                                              const HistoryPolicy& policy, Clock::time_point now) {
  if (++shard.uses_since_sweep >= uses_per_sweep) {
    shard.uses_since_sweep = 0;
    sweep(shard, now);
  }
  auto it = shard.streams.find(std::string(channel));
  if (it == shard.streams.end()) {
    if (shard.unpublished >= max_unpublished_per_shard) make_room_for_unpublished(shard, now);
    it = shard.streams.emplace(std::string(channel), Stream{}).first;
    it->second.epoch = make_epoch();
    ++shard.unpublished;
  }
  it->second.last_used = now;
  it->second.policy = policy;
  return it->second;
}

void MemoryBroker::trim(Stream& stream, const HistoryPolicy& policy, Clock::time_point now) {
  while (stream.kept.size() > policy.size) stream.kept.pop_front();
  while (!stream.kept.empty() && stream.kept.front().published + policy.ttl <= now) {
    stream.kept.pop_front();
  }
}

void MemoryBroker::sweep(Shard& shard, Clock::time_point now) {
  for (auto it = shard.streams.begin(); it != shard.streams.end();) {
    Stream& stream = it->second;
    trim(stream, stream.policy, now);
    const auto lifetime = stream.top == 0 ? unused_stream_lifetime : idle_stream_lifetime;
    if (stream.kept.empty() && stream.last_used + lifetime <= now) {
      if (stream.top == 0) --shard.unpublished;
      it = shard.streams.erase(it);
    } else {
      ++it;
    }
  }
}

void MemoryBroker::make_room_for_unpublished(Shard& shard, Clock::time_point now) {
  sweep(shard, now);
  if (shard.unpublished < max_unpublished_per_shard) return;
  // Forget the older half at once, so that making room costs O(1) per
  // stream made, not a scan each time.
  std::vector<Clock::time_point> used;
  used.reserve(shard.unpublished);
  for (const auto& [name, stream] : shard.streams) {
    if (stream.top == 0) used.push_back(stream.last_used);
  }
  auto middle = used.begin() + static_cast<std::ptrdiff_t>(used.size() / 2);
  std::nth_element(used.begin(), middle, used.end());
  const Clock::time_point threshold = *middle;
  for (auto it = shard.streams.begin();
       it != shard.streams.end() && shard.unpublished > max_unpublished_per_shard / 2;) {
    if (it->second.top == 0 && it->second.last_used <= threshold) {
      it = shard.streams.erase(it);
      --shard.unpublished;
    } else {
      ++it;
    }
  }
}

StreamPosition MemoryBroker::publish(std::string_view channel, Publication publication,
                                     const HistoryPolicy& policy) {
  Shard& shard = shard_for(channel);
  std::lock_guard lock(shard.mutex);
  if (!policy.enabled()) {
    publication.offset = 0;
    sink_.deliver(channel, publication);
    return {};
  }
  const auto now = Clock::now();
  Stream& stream = stream_of(shard, channel, policy, now);
  if (stream.top == 0) --shard.unpublished;
  publication.offset = ++stream.top;
  publication.published = now;
  stream.kept.push_back(std::move(publication));
  trim(stream, policy, now);
  const Publication& kept = stream.kept.back();
  sink_.deliver(channel, kept);
  return {stream.top, stream.epoch};
}

CatchUp MemoryBroker::subscribe(std::string_view channel,
                                const std::optional<StreamPosition>& since,
                                const HistoryPolicy& policy, std::size_t max_missed,
                                const std::function<void()>& attach) {
  Shard& shard = shard_for(channel);
  std::lock_guard lock(shard.mutex);
  CatchUp result;
  if (policy.enabled()) {
    const auto now = Clock::now();
    Stream& stream = stream_of(shard, channel, policy, now);
    trim(stream, policy, now);
    result.top = {stream.top, stream.epoch};
    if (since && (since->epoch.empty() || since->epoch == stream.epoch) &&
        since->offset <= stream.top) {
      const std::uint64_t missed = stream.top - since->offset;
      const std::uint64_t first_kept =
          stream.kept.empty() ? stream.top + 1 : stream.kept.front().offset;
      // Recovered only when the history still holds the publication right
      // after the client's position, and not too many of them.
      if (missed <= max_missed && first_kept <= since->offset + 1) {
        result.recovered = true;
        for (const Publication& p : stream.kept) {
          if (p.offset > since->offset) result.publications.push_back(p);
        }
      }
    }
  }
  attach();
  return result;
}

HistoryResult MemoryBroker::history(std::string_view channel, const HistoryQuery& query,
                                    const HistoryPolicy& policy) {
  Shard& shard = shard_for(channel);
  std::lock_guard lock(shard.mutex);
  HistoryResult result;
  if (!policy.enabled()) return result;
  // Reading makes no stream: names a client merely asks about cost nothing
  // (a channel nobody published to has no epoch yet, offset 0).
  if (!shard.streams.count(std::string(channel))) return result;
  const auto now = Clock::now();
  Stream& stream = stream_of(shard, channel, policy, now);
  trim(stream, policy, now);
  result.top = {stream.top, stream.epoch};
  if (query.limit == 0) return result;
  // Forwards: what came after `since`; backwards (newest first): what came
  // before it.
  std::vector<const Publication*> chosen;
  for (const Publication& p : stream.kept) {
    if (query.since && !query.reverse && p.offset <= query.since->offset) continue;
    if (query.since && query.reverse && p.offset >= query.since->offset) continue;
    chosen.push_back(&p);
  }
  if (query.reverse) std::reverse(chosen.begin(), chosen.end());
  if (query.limit > 0 && chosen.size() > static_cast<std::size_t>(query.limit)) {
    chosen.resize(static_cast<std::size_t>(query.limit));
  }
  for (const Publication* p : chosen) result.publications.push_back(*p);
  return result;
}

void MemoryBroker::remove_history(std::string_view channel) {
  Shard& shard = shard_for(channel);
  std::lock_guard lock(shard.mutex);
  if (auto it = shard.streams.find(std::string(channel)); it != shard.streams.end()) {
    it->second.kept.clear();
  }
}

void MemoryBroker::for_each_stream(const std::function<void(const SavedStream&)>& fn) {
  const auto now = Clock::now();
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    for (auto& [channel, stream] : shard.streams) {
      if (stream.top == 0) continue;
      trim(stream, stream.policy, now);
      fn({channel,
          stream.epoch,
          stream.top,
          stream.policy,
          {stream.kept.begin(), stream.kept.end()}});
    }
  }
}

void MemoryBroker::restore(SavedStream saved) {
  Shard& shard = shard_for(saved.channel);
  std::lock_guard lock(shard.mutex);
  Stream& stream = shard.streams[saved.channel];
  if (stream.top == 0 && !stream.epoch.empty()) --shard.unpublished;  // one being replaced
  stream.epoch = std::move(saved.epoch);
  stream.top = saved.top;
  stream.policy = saved.policy;
  stream.last_used = Clock::now();
  stream.kept.assign(std::make_move_iterator(saved.kept.begin()),
                     std::make_move_iterator(saved.kept.end()));
  trim(stream, stream.policy, stream.last_used);
}

std::size_t MemoryBroker::stream_count() {
  std::size_t n = 0;
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    n += shard.streams.size();
  }
  return n;
}

}  // namespace duplex::push
