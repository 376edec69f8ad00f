// What every connection and API request of the push server shares: the
// options, the broker, presence, the directory of connected clients, the
// channels in use and the counts. Every member is thread-safe.
#pragma once

#include "broker.hpp"
#include "memory_broker.hpp"
#include "token_verifier.hpp"

#include <duplex/push/push_server.hpp>
#include <duplex/server.hpp>

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace duplex::push::detail {

// The topics of the server's pub/sub a channel uses.
std::string publication_topic(std::string_view channel);
std::string join_leave_topic(std::string_view channel);

// Who a client is, as the protocol's ClientInfo shows it.
struct ClientIdentity {
  std::string client;     // the client id
  std::string user;       // "" for anonymous
  std::string conn_info;  // JSON text from the token's `info`, or empty
};

// ClientInfo as JSON text: {"user":..,"client":..,"conn_info":..,"chan_info":..}.
std::string client_info_json(const ClientIdentity& who, std::string_view chan_info);

// The Publication object of the protocol: {"data":..,"info":..,"offset":N}.
std::string publication_json(const Publication& p);

class PushCore final : public Broker::Sink {
 public:
  PushCore(Server& server, PushOptions options);
  ~PushCore();

  // The options of the channel's namespace; null: an unknown namespace.
  const ChannelOptions* channel_options(std::string_view channel) const;
  static HistoryPolicy history_policy(const ChannelOptions& o) {
    return {o.history_size, o.history_ttl};
  }

  // A publication from a backend or a client (`info`: the client's
  // ClientInfo JSON, or empty). Checks the name and the namespace.
  PublishResult publish(std::string_view channel, std::string data, std::string info);
  void deliver(std::string_view channel, const Publication& publication) override;
  // Join/leave pushes to the subscribers that asked for them.
  void push_join_leave(std::string_view channel, bool join, const std::string& info_json);

  // Presence: who is subscribed to a channel (client id -> ClientInfo JSON).
  void presence_add(const std::string& channel, const std::string& client, const std::string& user,
                    std::string info_json);
  void presence_remove(const std::string& channel, const std::string& client);
  std::vector<std::pair<std::string, std::string>> presence(const std::string& channel);
  std::pair<std::size_t, std::size_t> presence_stats(const std::string& channel);  // clients, users

  // Subscriber counts per channel (the API's `channels`).
  void count_channel(const std::string& channel, int delta);
  std::map<std::string, std::size_t> channels();

  // Connected clients by id, to disconnect them from the API.
  void register_client(const ClientIdentity& who, WebSocketHandle handle);
  void unregister_client(const std::string& client);
  // Closes the connections of `user`, or the one of `client` (which must
  // then be the user's if both are given), with the code; those in `keep`
  // are spared. Returns how many.
  std::size_t disconnect(std::string_view user, std::string_view client,
                         const std::vector<std::string>& keep, CloseCode code,
                         const std::string& reason);
  std::size_t user_count();

  // The settings now. Reloading makes new ones; the old ones are kept
  // until the server goes (a reload is rare, and a command that read them
  // just before needs them until it is done), so these references stay
  // valid.
  struct Settings {
    PushOptions options;
    TokenKeys keys;
  };
  const Settings& settings() const noexcept { return *current_.load(std::memory_order_acquire); }
  const PushOptions& options() const noexcept { return settings().options; }
  const TokenKeys& keys() const noexcept { return settings().keys; }
  // New settings for what follows (the WebSocket path and the API prefix
  // stay: the routes are made).
  void reload(PushOptions options);

  Server& server;
  std::unique_ptr<Broker> broker;
  MemoryBroker& memory_broker() noexcept { return static_cast<MemoryBroker&>(*broker); }
  const std::string node_name;
  const std::string node_id;
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  std::atomic<std::size_t> clients{0};
  std::atomic<std::size_t> subscriptions{0};
  std::atomic<std::uint64_t> publications{0};
  std::atomic<std::uint64_t> commands{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  std::atomic<std::uint64_t> bytes_in{0};    // command frames' payloads
  std::atomic<std::uint64_t> deliveries{0};  // publications queued for subscribers
  std::atomic<std::uint64_t> bytes_out{0};   // their pushes' payload bytes
  std::atomic<std::uint64_t> api_requests{0};
  // How long a publish takes (from the broker's ordering to the hand-over
  // to every loop), in buckets of microseconds; the last one is +Inf.
  static constexpr std::array<std::uint64_t, 10> publish_buckets_us{10,  25,   50,   100,  250,
                                                                    500, 1000, 2500, 5000, 10000};
  std::array<std::atomic<std::uint64_t>, publish_buckets_us.size() + 1> publish_latency{};
  std::atomic<std::uint64_t> publish_latency_sum_us{0};

 private:
  struct PresenceEntry {
    std::string user;
    std::string info_json;
  };
  struct Connected {
    std::string user;
    WebSocketHandle handle;
  };

  std::mutex settings_mutex_;  // reloads
  std::vector<std::unique_ptr<const Settings>> all_settings_;
  std::atomic<const Settings*> current_{nullptr};

  std::mutex presence_mutex_;
  std::unordered_map<std::string, std::map<std::string, PresenceEntry>> presence_;
  std::mutex channels_mutex_;
  std::unordered_map<std::string, std::size_t> channel_counts_;
  std::mutex clients_mutex_;
  std::unordered_map<std::string, Connected> clients_;
};

// A new client id (a random UUID, version 4).
std::string make_client_id();

}  // namespace duplex::push::detail
