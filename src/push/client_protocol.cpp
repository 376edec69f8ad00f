#include "client_protocol.hpp"

#include "channel_name.hpp"
#include "command_frame.hpp"
#include "request_fields.hpp"

#include <duplex/log.hpp>

namespace duplex::push::detail {
namespace {

using json = nlohmann::json;

constexpr std::string_view server_version = "duplex 0.1";
// Replies of one frame are sent once they reach this size, and a client
// with more than the budget queued unread is disconnected (3008, slow).
constexpr std::size_t reply_flush_bytes = 64 * 1024;
constexpr std::size_t reply_budget_bytes = 16 * 1024 * 1024;

// Appends one reply line: {"id":N,"<method>":<result>}.
void reply(std::string& out, std::uint32_t id, std::string_view method, std::string_view result) {
  if (!out.empty()) out.push_back('\n');
  out.append("{\"id\":").append(std::to_string(id)).append(",\"");
  out.append(method).append("\":").append(result).append("}");
}

void reply_error(std::string& out, std::uint32_t id, const ReplyError& e) {
  if (!out.empty()) out.push_back('\n');
  out.append("{\"id\":").append(std::to_string(id)).append(",\"error\":{\"code\":");
  out.append(std::to_string(e.code)).append(",\"message\":\"").append(e.message);
  out.append(e.temporary ? "\",\"temporary\":true}}" : "\"}}");
}

// A claim that is JSON to pass on as is (`info`), as compact text.
std::string raw_claim(const json& claims, const char* name) {
  auto it = claims.find(name);
  return it == claims.end() || it->is_null() ? std::string() : it->dump();
}

// `exp` in Unix seconds (0: none), clamped to the year 5138 so that the
// arithmetic on it cannot overflow.
std::int64_t expiry_of(const json& claims) {
  auto it = claims.find("exp");
  if (it == claims.end() || !it->is_number()) return 0;
  const double exp = it->get<double>();
  if (!(exp > 0)) return 1;  // in the past (or NaN): expired
  return exp > 1e11 ? std::int64_t{100'000'000'000} : static_cast<std::int64_t>(exp);
}

// A timer's wait until `expires_at` plus `grace` seconds, at most a year.
std::chrono::seconds wait_until(std::int64_t expires_at, std::int64_t grace) {
  const std::int64_t wait = std::max<std::int64_t>(expires_at - unix_now(), 0) + grace;
  return std::chrono::seconds(std::min<std::int64_t>(wait, 366LL * 24 * 3600));
}

}  // namespace

void ClientProtocol::refuse(std::string& out, std::uint32_t id, const ReplyError& e) {
  core_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
  reply_error(out, id, e);
}

const ChannelOptions* ClientProtocol::known_channel(const std::string& channel, std::uint32_t id,
                                                    std::string& out) {
  if (check_channel_name(channel, core_.options().max_channel_length) != ChannelNameProblem::none) {
    refuse(out, id, error_bad_request);
    return nullptr;
  }
  const ChannelOptions* o = core_.channel_options(channel);
  if (!o) refuse(out, id, error_unknown_channel);
  return o;
}

void ClientProtocol::open(WebSocket& ws, PushConnection& c) {
  // A connection that never says who it is goes, as Centrifugo's do.
  c.stale_timer = ws.loop().after(core_.options().connect_timeout, [&ws, &c] {
    c.stale_timer = 0;
    if (!c.connected) ws.close(disconnect_stale.close_code(), disconnect_stale.reason);
  });
}

void ClientProtocol::message(WebSocket& ws, PushConnection& c, std::string_view frame) {
  // Closing (we disconnected it, or it is going): commands still in
  // flight are not honoured.
  if (!ws.is_open()) return;
  // Anything from the client answers the last ping.
  if (c.pong_timer) {
    ws.loop().cancel(c.pong_timer);
    c.pong_timer = 0;
  }
  core_.bytes_in.fetch_add(frame.size(), std::memory_order_relaxed);
  const CommandFrame parsed = parse_command_frame(frame);
  std::string out;
  const Disconnect* disconnect = nullptr;
  bool stopped = false;
  for (const Command& cmd : parsed.commands) {
    core_.commands.fetch_add(1, std::memory_order_relaxed);
    disconnect = command(ws, c, cmd, out).disconnect;
    if (disconnect) break;
    // A connect that failed (an expired token: 109) ends the frame: the
    // SDKs send their subscribes with it and connect again.
    if (cmd.method == "connect" && !c.connected) {
      stopped = true;
      break;
    }
    // Replies go out as they grow, and a client whose answers pile up
    // unread (many history commands in one frame) is cut off before it
    // can make us hold much.
    if (out.size() >= reply_flush_bytes) {
      ws.send_text(out);
      out.clear();
    }
    if (ws.buffered_amount() > reply_budget_bytes) {
      disconnect = &disconnect_slow;
      break;
    }
  }
  // The commands before a bad line are answered; the bad line ends the
  // connection, as Centrifugo's server does.
  if (!disconnect && !stopped && parsed.problem != FrameProblem::none) {
    disconnect = &disconnect_bad_request;
  }
  if (!out.empty()) ws.send_text(out);
  if (disconnect) {
    core_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
    ws.close(disconnect->close_code(), disconnect->reason);
  }
}

ClientProtocol::Outcome ClientProtocol::command(WebSocket& ws, PushConnection& c,
                                                const Command& cmd, std::string& out) {
  if (cmd.method.empty()) return {};                             // a pong
  if (cmd.method == "send") return {&disconnect_not_available};  // no message handler here
  const std::uint32_t id = cmd.id;
  const std::string& method = cmd.method;
  const json* request = &cmd.request;
  if (method == "connect") return connect(ws, c, id, *request, out);
  if (!c.connected) return {&disconnect_bad_request};
  if (method == "subscribe") return subscribe(ws, c, id, *request, out);
  if (method == "unsubscribe") return unsubscribe(ws, c, id, *request, out);
  if (method == "publish") return publish(c, id, *request, out);
  if (method == "presence") return presence(c, id, *request, false, out);
  if (method == "presence_stats") return presence(c, id, *request, true, out);
  if (method == "history") return history(c, id, *request, out);
  if (method == "refresh") return refresh(ws, c, id, *request, out);
  if (method == "sub_refresh") return sub_refresh(ws, c, id, *request, out);
  if (method == "ping") {
    reply(out, id, "ping", "{}");
    return {};
  }
  // rpc (no RPC handler here) and anything unknown.
  refuse(out, id, error_method_not_found);
  return {};
}

ClientProtocol::Outcome ClientProtocol::connect(WebSocket& ws, PushConnection& c, std::uint32_t id,
                                                const json& request, std::string& out) {
  if (c.connected) return {&disconnect_bad_request};
  const std::string token = string_field(request, "token");
  std::int64_t expires_at = 0;
  if (!token.empty()) {
    VerifiedToken t = verify_token(token, core_.keys(), unix_now());
    if (t.status == TokenStatus::expired) {
      refuse(out, id, error_token_expired);
      return {};
    }
    if (t.status != TokenStatus::valid || t.claims.contains("channel")) {
      return {&disconnect_invalid_token};
    }
    if (auto sub = t.claims.find("sub"); sub != t.claims.end() && !sub->is_string()) {
      return {&disconnect_invalid_token};
    }
    c.who.user = string_field(t.claims, "sub");
    c.who.conn_info = raw_claim(t.claims, "info");
    expires_at = expiry_of(t.claims);
  } else if (!core_.options().allow_anonymous) {
    return {&disconnect_bad_request};  // no credentials
  }
  c.connected = true;
  c.who.client = make_client_id();
  core_.register_client(c.who, ws.handle());
  core_.clients.fetch_add(1, std::memory_order_relaxed);
  if (c.stale_timer) {
    ws.loop().cancel(c.stale_timer);
    c.stale_timer = 0;
  }
  json result = {{"client", c.who.client},
                 {"version", server_version},
                 {"ping", core_.options().ping_interval.count()},
                 {"pong", true}};
  if (expires_at) {
    result["expires"] = true;
    result["ttl"] = std::max<std::int64_t>(expires_at - unix_now(), 0);
    set_expiry(ws, c, expires_at);
  }
  reply(out, id, "connect", result.dump());
  start_pings(ws, c);
  return {};
}

ClientProtocol::Outcome ClientProtocol::subscribe(WebSocket& ws, PushConnection& c,
                                                  std::uint32_t id, const json& request,
                                                  std::string& out) {
  const std::string channel = string_field(request, "channel");
  if (channel.empty()) return {&disconnect_bad_request};
  const ChannelOptions* o = known_channel(channel, id, out);
  if (!o) return {};
  if (c.subscriptions.count(channel)) {
    refuse(out, id, error_already_subscribed);
    return {};
  }
  if (c.subscriptions.size() >= core_.options().max_subscriptions) {
    refuse(out, id, error_limit_exceeded);
    return {};
  }
  // Who may subscribe: a subscription token for the channel, or (not for
  // private channels) the namespace's permission and the name's users.
  std::string chan_info;
  std::int64_t sub_expires_at = 0;
  const std::string token = string_field(request, "token");
  if (!token.empty()) {
    VerifiedToken t = verify_token(token, core_.keys(), unix_now());
    if (t.status == TokenStatus::expired) {
      refuse(out, id, error_token_expired);
      return {};
    }
    if (t.status != TokenStatus::valid) return {&disconnect_invalid_token};
    if (!t.claims.contains("channel")) {
      refuse(out, id, error_permission_denied);  // a connection token, not a subscription's
      return {};
    }
    if (string_field(t.claims, "channel") != channel ||
        string_field(t.claims, "sub") != c.who.user ||
        (t.claims.contains("client") && string_field(t.claims, "client") != c.who.client)) {
      return {&disconnect_invalid_token};
    }
    chan_info = raw_claim(t.claims, "info");
    sub_expires_at = expiry_of(t.claims);
  } else if (is_private_channel(channel) || !o->allow_subscribe_for_client ||
             !user_allowed_by_name(channel, c.who.user)) {
    refuse(out, id, error_permission_denied);
    return {};
  }

  const HistoryPolicy policy = PushCore::history_policy(*o);
  const bool recoverable =
      policy.enabled() && (o->force_recovery || bool_field(request, "recoverable"));
  const bool recover = recoverable && bool_field(request, "recover");
  std::optional<StreamPosition> since;
  if (recover) {
    since = StreamPosition{offset_field(request, "offset"), string_field(request, "epoch")};
  }
  const std::string topic = publication_topic(channel);
  const CatchUp caught = core_.broker->subscribe(
      channel, since, policy, core_.options().max_recovered, [&] { ws.subscribe(topic); });
  ChannelSubscription& s = c.subscriptions[channel];
  s.info_json = client_info_json(c.who, chan_info);
  s.join_leave = o->join_leave && bool_field(request, "join_leave");
  if (s.join_leave) ws.subscribe(join_leave_topic(channel));
  core_.subscriptions.fetch_add(1, std::memory_order_relaxed);
  core_.count_channel(channel, +1);
  if (o->presence) {
    s.presence = true;
    core_.presence_add(channel, c.who.client, c.who.user, s.info_json);
  }
  s.announced = o->join_leave;
  if (s.announced) core_.push_join_leave(channel, true, s.info_json);

  std::string result = "{";
  if (sub_expires_at) {
    set_subscription_expiry(ws, c, channel, sub_expires_at);
    result += "\"expires\":true,\"ttl\":" +
              std::to_string(std::max<std::int64_t>(sub_expires_at - unix_now(), 0));
    if (recoverable) result += ",";
  }
  if (recoverable) {
    result += "\"recoverable\":true,\"positioned\":true,\"epoch\":" + json(caught.top.epoch).dump();
    // Recovered: the client's own offset (it advances through the
    // publications); otherwise the top, where it continues from.
    const std::uint64_t offset = caught.recovered ? since->offset : caught.top.offset;
    result += ",\"offset\":" + std::to_string(offset);
    if (recover) result += ",\"was_recovering\":true";
    if (caught.recovered) {
      result += ",\"recovered\":true,\"publications\":[";
      for (std::size_t i = 0; i < caught.publications.size(); ++i) {
        if (i) result += ",";
        result += publication_json(caught.publications[i]);
      }
      result += "]";
    }
  }
  result += "}";
  reply(out, id, "subscribe", result);
  return {};
}

void ClientProtocol::leave(WebSocket& ws, PushConnection& c, const std::string& channel) {
  auto it = c.subscriptions.find(channel);
  if (it == c.subscriptions.end()) return;
  if (it->second.expiry_timer) ws.loop().cancel(it->second.expiry_timer);
  ws.unsubscribe(publication_topic(channel));
  if (it->second.join_leave) ws.unsubscribe(join_leave_topic(channel));
  if (it->second.presence) core_.presence_remove(channel, c.who.client);
  // A leave for every join, whatever a reload changed since.
  if (it->second.announced) core_.push_join_leave(channel, false, it->second.info_json);
  core_.subscriptions.fetch_sub(1, std::memory_order_relaxed);
  core_.count_channel(channel, -1);
  c.subscriptions.erase(it);
}

ClientProtocol::Outcome ClientProtocol::unsubscribe(WebSocket& ws, PushConnection& c,
                                                    std::uint32_t id, const json& request,
                                                    std::string& out) {
  const std::string channel = string_field(request, "channel");
  if (channel.empty()) return {&disconnect_bad_request};
  leave(ws, c, channel);
  reply(out, id, "unsubscribe", "{}");
  return {};
}

ClientProtocol::Outcome ClientProtocol::publish(PushConnection& c, std::uint32_t id,
                                                const json& request, std::string& out) {
  const std::string channel = string_field(request, "channel");
  auto data = request.find("data");
  if (channel.empty() || data == request.end() || data->is_null()) {
    refuse(out, id, error_bad_request);
    return {};
  }
  const ChannelOptions* o = known_channel(channel, id, out);
  if (!o) return {};
  if (!o->allow_publish_for_client || is_private_channel(channel)) {
    refuse(out, id, error_permission_denied);
    return {};
  }
  auto sub = c.subscriptions.find(channel);
  const std::string info =
      sub != c.subscriptions.end() ? sub->second.info_json : client_info_json(c.who, {});
  const PublishResult r = core_.publish(channel, data->dump(), info);
  if (r.error) {
    refuse(out, id, r.error == 102 ? error_unknown_channel : error_bad_request);
    return {};
  }
  reply(out, id, "publish", "{}");
  return {};
}

ClientProtocol::Outcome ClientProtocol::presence(PushConnection& c, std::uint32_t id,
                                                 const json& request, bool stats,
                                                 std::string& out) {
  const std::string channel = string_field(request, "channel");
  const ChannelOptions* o = known_channel(channel, id, out);
  if (!o) return {};
  if (!o->presence) {
    refuse(out, id, error_not_available);
    return {};
  }
  if (!o->allow_presence_for_client && !c.subscriptions.count(channel)) {
    refuse(out, id, error_permission_denied);
    return {};
  }
  if (stats) {
    const auto [clients, users] = core_.presence_stats(channel);
    reply(out, id, "presence_stats",
          "{\"num_clients\":" + std::to_string(clients) +
              ",\"num_users\":" + std::to_string(users) + "}");
    return {};
  }
  std::string result = "{\"presence\":{";
  bool first = true;
  for (const auto& [client, info] : core_.presence(channel)) {
    if (!first) result += ",";
    first = false;
    result += json(client).dump() + ":" + info;
  }
  result += "}}";
  reply(out, id, "presence", result);
  return {};
}

ClientProtocol::Outcome ClientProtocol::history(PushConnection& c, std::uint32_t id,
                                                const json& request, std::string& out) {
  const std::string channel = string_field(request, "channel");
  const ChannelOptions* o = known_channel(channel, id, out);
  if (!o) return {};
  const HistoryPolicy policy = PushCore::history_policy(*o);
  if (!policy.enabled()) {
    refuse(out, id, error_not_available);
    return {};
  }
  if (!o->allow_history_for_client && !c.subscriptions.count(channel)) {
    refuse(out, id, error_permission_denied);
    return {};
  }
  const HistoryQuery query = history_query(request, core_.options().max_history);
  HistoryResult r = core_.broker->history(channel, query, policy);
  if (query.since && !query.since->epoch.empty() && query.since->epoch != r.top.epoch) {
    refuse(out, id, error_unrecoverable_position);
    return {};
  }
  std::string result = "{\"publications\":[";
  for (std::size_t i = 0; i < r.publications.size(); ++i) {
    if (i) result += ",";
    result += publication_json(r.publications[i]);
  }
  result += "],\"epoch\":" + json(r.top.epoch).dump() +
            ",\"offset\":" + std::to_string(r.top.offset) + "}";
  reply(out, id, "history", result);
  return {};
}

ClientProtocol::Outcome ClientProtocol::refresh(WebSocket& ws, PushConnection& c, std::uint32_t id,
                                                const json& request, std::string& out) {
  const std::string token = string_field(request, "token");
  if (token.empty()) return {&disconnect_bad_request};
  VerifiedToken t = verify_token(token, core_.keys(), unix_now());
  if (t.status == TokenStatus::expired) return {&disconnect_expired};
  if (t.status != TokenStatus::valid || string_field(t.claims, "sub") != c.who.user) {
    return {&disconnect_invalid_token};
  }
  const std::int64_t expires_at = expiry_of(t.claims);
  json result = {{"client", c.who.client}, {"version", server_version}};
  if (expires_at) {
    result["expires"] = true;
    result["ttl"] = std::max<std::int64_t>(expires_at - unix_now(), 0);
  }
  set_expiry(ws, c, expires_at);
  reply(out, id, "refresh", result.dump());
  return {};
}

ClientProtocol::Outcome ClientProtocol::sub_refresh(WebSocket& ws, PushConnection& c,
                                                    std::uint32_t id, const json& request,
                                                    std::string& out) {
  const std::string channel = string_field(request, "channel");
  const std::string token = string_field(request, "token");
  if (channel.empty() || token.empty()) return {&disconnect_bad_request};
  if (!c.subscriptions.count(channel)) {
    refuse(out, id, error_bad_request);
    return {};
  }
  VerifiedToken t = verify_token(token, core_.keys(), unix_now());
  if (t.status == TokenStatus::expired) {
    refuse(out, id, error_token_expired_retry);  // the old expiry stands
    return {};
  }
  if (t.status != TokenStatus::valid || string_field(t.claims, "channel") != channel ||
      string_field(t.claims, "sub") != c.who.user) {
    return {&disconnect_invalid_token};
  }
  const std::int64_t expires_at = expiry_of(t.claims);
  set_subscription_expiry(ws, c, channel, expires_at);
  json result = json::object();
  if (expires_at) {
    result["expires"] = true;
    result["ttl"] = std::max<std::int64_t>(expires_at - unix_now(), 0);
  }
  reply(out, id, "sub_refresh", result.dump());
  return {};
}

void ClientProtocol::set_subscription_expiry(WebSocket& ws, PushConnection& c,
                                             const std::string& channel, std::int64_t expires_at) {
  ChannelSubscription& s = c.subscriptions[channel];
  if (s.expiry_timer) ws.loop().cancel(s.expiry_timer);
  s.expiry_timer = 0;
  if (!expires_at) return;
  // As for connections: a grace period to refresh, then the subscription
  // ends with 2501, which the SDKs answer by subscribing again with a new
  // token.
  constexpr std::int64_t grace_seconds = 25;
  s.expiry_timer = ws.loop().after(wait_until(expires_at, grace_seconds), [this, &ws, &c, channel] {
    auto it = c.subscriptions.find(channel);
    if (it == c.subscriptions.end()) return;
    it->second.expiry_timer = 0;
    ws.send_text("{\"push\":{\"channel\":" + json(channel).dump() +
                 ",\"unsubscribe\":{\"code\":2501,\"reason\":\"subscription expired\"}}}");
    leave(ws, c, channel);
  });
}

void ClientProtocol::start_pings(WebSocket& ws, PushConnection& c) {
  const auto interval =
      std::chrono::duration_cast<std::chrono::milliseconds>(core_.options().ping_interval);
  if (interval.count() <= 0) return;
  const auto pong_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(core_.options().pong_timeout);
  c.ping_timer = ws.loop().every(interval, [&ws, &c, pong_timeout] {
    ws.send_text("{}");
    if (c.pong_timer || pong_timeout.count() <= 0) return;
    c.pong_timer = ws.loop().after(pong_timeout, [&ws, &c] {
      c.pong_timer = 0;
      ws.close(disconnect_no_pong.close_code(), disconnect_no_pong.reason);
    });
  });
}

void ClientProtocol::set_expiry(WebSocket& ws, PushConnection& c, std::int64_t expires_at) {
  if (c.expiry_timer) ws.loop().cancel(c.expiry_timer);
  c.expiry_timer = 0;
  c.expires_at = expires_at;
  if (!expires_at) return;
  // The client refreshes its token before it expires; one that has not
  // within a grace period after it goes.
  constexpr std::int64_t grace_seconds = 25;
  c.expiry_timer = ws.loop().after(wait_until(expires_at, grace_seconds), [&ws, &c] {
    c.expiry_timer = 0;
    ws.close(disconnect_expired.close_code(), disconnect_expired.reason);
  });
}

void ClientProtocol::cancel_timers(WebSocket& ws, PushConnection& c) {
  for (TimerId* t : {&c.ping_timer, &c.pong_timer, &c.stale_timer, &c.expiry_timer}) {
    if (*t) ws.loop().cancel(*t);
    *t = 0;
  }
}

void ClientProtocol::closed(WebSocket& ws, PushConnection& c) {
  cancel_timers(ws, c);
  while (!c.subscriptions.empty()) leave(ws, c, c.subscriptions.begin()->first);
  if (c.connected) {
    core_.unregister_client(c.who.client);
    core_.clients.fetch_sub(1, std::memory_order_relaxed);
    c.connected = false;
  }
}

}  // namespace duplex::push::detail
