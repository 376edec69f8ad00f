// Centrifugo's client protocol (JSON, v2) for one WebSocket connection:
// commands in, replies and pushes out. Several commands may share a frame
// (one JSON object per line); their replies share one frame likewise.
//
// Threading: everything runs on the connection's loop thread; the shared
// state is in PushCore (thread-safe).
#pragma once

#include "command_frame.hpp"
#include "protocol_codes.hpp"
#include "push_core.hpp"

#include <duplex/loop.hpp>
#include <duplex/websocket.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <string>

namespace duplex::push::detail {

struct ChannelSubscription {
  bool join_leave = false;   // gets join/leave pushes
  bool presence = false;     // counted in the channel's presence
  bool announced = false;    // its join was pushed (so its leave will be)
  std::string info_json;     // this client's ClientInfo in the channel
  TimerId expiry_timer = 0;  // its subscription token's expiry (and grace)
};

// The per-connection state (the route's connection data).
struct PushConnection {
  bool connected = false;
  ClientIdentity who;
  std::map<std::string, ChannelSubscription> subscriptions;
  TimerId ping_timer = 0;
  TimerId pong_timer = 0;
  TimerId stale_timer = 0;
  TimerId expiry_timer = 0;
  std::int64_t expires_at = 0;  // Unix seconds; 0: never
};

class ClientProtocol {
 public:
  explicit ClientProtocol(PushCore& core) : core_(core) {}

  void open(WebSocket& ws, PushConnection& c);
  void message(WebSocket& ws, PushConnection& c, std::string_view frame);
  void closed(WebSocket& ws, PushConnection& c);

 private:
  struct Outcome {
    const Disconnect* disconnect = nullptr;  // set: close the connection with it
  };
  Outcome command(WebSocket& ws, PushConnection& c, const Command& cmd, std::string& out);
  Outcome connect(WebSocket& ws, PushConnection& c, std::uint32_t id, const nlohmann::json& request,
                  std::string& out);
  Outcome subscribe(WebSocket& ws, PushConnection& c, std::uint32_t id,
                    const nlohmann::json& request, std::string& out);
  Outcome unsubscribe(WebSocket& ws, PushConnection& c, std::uint32_t id,
                      const nlohmann::json& request, std::string& out);
  Outcome publish(PushConnection& c, std::uint32_t id, const nlohmann::json& request,
                  std::string& out);
  Outcome presence(PushConnection& c, std::uint32_t id, const nlohmann::json& request, bool stats,
                   std::string& out);
  Outcome history(PushConnection& c, std::uint32_t id, const nlohmann::json& request,
                  std::string& out);
  Outcome refresh(WebSocket& ws, PushConnection& c, std::uint32_t id, const nlohmann::json& request,
                  std::string& out);
  // Replies with an error (and counts it).
  void refuse(std::string& out, std::uint32_t id, const ReplyError& e);
  // The options of a channel a command names; null (and the error in
  // `out`) for a bad name or an unknown namespace.
  const ChannelOptions* known_channel(const std::string& channel, std::uint32_t id,
                                      std::string& out);
  Outcome sub_refresh(WebSocket& ws, PushConnection& c, std::uint32_t id,
                      const nlohmann::json& request, std::string& out);
  void set_subscription_expiry(WebSocket& ws, PushConnection& c, const std::string& channel,
                               std::int64_t expires_at);
  void leave(WebSocket& ws, PushConnection& c, const std::string& channel);
  void start_pings(WebSocket& ws, PushConnection& c);
  void set_expiry(WebSocket& ws, PushConnection& c, std::int64_t expires_at);
  void cancel_timers(WebSocket& ws, PushConnection& c);

  PushCore& core_;
};

}  // namespace duplex::push::detail
