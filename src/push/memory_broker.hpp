// The embedded broker: every channel's stream and history in this
// process's memory. History is lost on restart, and the epoch says so.
//
// Channels are spread over shards, each with its own lock, so publishers
// of different channels rarely wait for each other; a publication is
// delivered while its shard is locked, which keeps each channel's order and
// lets a subscription attach between two publications.
#pragma once

#include "broker.hpp"

#include <array>
#include <deque>
#include <mutex>
#include <unordered_map>

namespace duplex::push {

class MemoryBroker final : public Broker {
 public:
  // `sink` must outlive the broker.
  explicit MemoryBroker(Sink& sink);

  StreamPosition publish(std::string_view channel, Publication publication,
                         const HistoryPolicy& policy) override;
  CatchUp subscribe(std::string_view channel, const std::optional<StreamPosition>& since,
                    const HistoryPolicy& policy, std::size_t max_missed,
                    const std::function<void()>& attach) override;
  HistoryResult history(std::string_view channel, const HistoryQuery& query,
                        const HistoryPolicy& policy) override;
  void remove_history(std::string_view channel) override;

  // Channels whose stream is kept (for tests and metrics).
  std::size_t stream_count();

  // A stream as saved and restored (history_file.hpp): its position, the
  // policy it was last used with, and what it keeps.
  struct SavedStream {
    std::string channel;
    std::string epoch;
    std::uint64_t top = 0;
    HistoryPolicy policy;
    std::vector<Publication> kept;
  };
  // Calls `fn` for every stream that was published to, one shard locked at
  // a time.
  void for_each_stream(const std::function<void(const SavedStream&)>& fn);
  // Puts a saved stream back (replacing one of that name), trimmed to its
  // policy.
  void restore(SavedStream saved);

 private:
  struct Stream {
    std::string epoch;
    std::uint64_t top = 0;
    std::deque<Publication> kept;
    std::chrono::steady_clock::time_point last_used;  // published to, subscribed, read
    HistoryPolicy policy;  // the last one it was used with (for the sweep)
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Stream> streams;
    std::uint32_t uses_since_sweep = 0;
    std::size_t unpublished = 0;  // streams never published to (made by subscribing)
  };

  Shard& shard_for(std::string_view channel);
  // The channel's stream, made (with a new epoch) if it has none; marked
  // used now with `policy`. Every so many uses, the shard is swept first.
  static Stream& stream_of(Shard& shard, std::string_view channel, const HistoryPolicy& policy,
                           std::chrono::steady_clock::time_point now);
  // Drops what is past the policy's size and age.
  static void trim(Stream& stream, const HistoryPolicy& policy,
                   std::chrono::steady_clock::time_point now);
  // Drops expired publications everywhere, and forgets streams that keep
  // nothing and have not been used for a while (sooner for those never
  // published to, which subscribers and readers of any name make): the
  // map stays as large as the channels in use, whatever names clients try.
  static void sweep(Shard& shard, std::chrono::steady_clock::time_point now);
  // Before a stream is made for a subscription: keeps the streams nobody
  // published to under a bound per shard, forgetting the least recently
  // used of them (a client subscribing to name after name makes them).
  static void make_room_for_unpublished(Shard& shard, std::chrono::steady_clock::time_point now);

  Sink& sink_;
  std::array<Shard, 16> shards_;
};

// A new random epoch: 8 characters of [a-zA-Z0-9].
std::string make_epoch();

}  // namespace duplex::push
