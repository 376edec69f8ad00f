// The broker under the push server's channels: where publications get their
// place in a channel's stream (epoch and offset), where a channel's history
// is kept, and how a publication reaches the subscribers of this node.
//
// A channel's stream: an epoch (a name for this run of the stream, which
// changes when its history is lost, e.g. on restart or expiry) and
// offsets that increase by one per publication, without gaps, from 1.
// History is the tail of that stream, bounded in length and age.
//
// Threading: every member is thread-safe. `Sink::deliver` is called in the
// channel's order (never two at once for one channel).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::push {

// A place in a channel's stream: the last offset seen and its epoch.
struct StreamPosition {
  std::uint64_t offset = 0;
  std::string epoch;
};

// What a channel keeps: the last `size` publications, each for `ttl`.
// Either zero: no history (publications get no offset).
struct HistoryPolicy {
  std::size_t size = 0;
  std::chrono::seconds ttl{0};
  bool enabled() const noexcept { return size > 0 && ttl.count() > 0; }
};

// One publication as stored and delivered.
struct Publication {
  std::uint64_t offset = 0;  // 0 when the channel keeps no history
  std::string data;          // JSON text, as the publisher gave it (validated)
  std::string info;          // the publisher's ClientInfo as JSON text, or empty
  std::chrono::steady_clock::time_point published;  // for the history's time to live
};

// A history query: publications after `since` (all kept ones without it),
// oldest first, or with `reverse` those before it, newest first; at most
// `limit` (0: none, just the stream's top; negative: no limit).
struct HistoryQuery {
  std::optional<StreamPosition> since;
  long long limit = 0;
  bool reverse = false;
};

struct HistoryResult {
  StreamPosition top;  // the channel's last offset and its epoch
  std::vector<Publication> publications;
};

// A subscription's catch-up: what it missed since the position the client
// gave (or nothing without one), and whether that is all it missed.
struct CatchUp {
  StreamPosition top;
  std::vector<Publication> publications;
  bool recovered = false;  // every publication after the client's position is here
};

class Broker {
 public:
  // Where publications go on this node; the push server frames them for
  // its subscribers.
  class Sink {
   public:
    virtual void deliver(std::string_view channel, const Publication& publication) = 0;

   protected:
    ~Sink() = default;
  };

  virtual ~Broker() = default;

  // Gives `publication` its place in the channel's stream, keeps it in the
  // history under `policy`, and hands it to the sink. Returns its position
  // (offset 0 and an empty epoch without history).
  virtual StreamPosition publish(std::string_view channel, Publication publication,
                                 const HistoryPolicy& policy) = 0;

  // Starts a subscription: calls `attach` at a point after which every
  // publication of `channel` reaches the sink, and returns what came before
  // it that the subscriber missed since `since` (at most `max_missed`
  // publications; more is not recovered). Without `since`, only the top.
  virtual CatchUp subscribe(std::string_view channel, const std::optional<StreamPosition>& since,
                            const HistoryPolicy& policy, std::size_t max_missed,
                            const std::function<void()>& attach) = 0;

  virtual HistoryResult history(std::string_view channel, const HistoryQuery& query,
                                const HistoryPolicy& policy) = 0;
  // Forgets the channel's history (its offsets and epoch stay).
  virtual void remove_history(std::string_view channel) = 0;
};

}  // namespace duplex::push
