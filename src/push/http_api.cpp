#include "http_api.hpp"

#include "channel_name.hpp"
#include "command_frame.hpp"
#include "protocol_codes.hpp"
#include "request_fields.hpp"

#include <openssl/crypto.h>
#include <nlohmann/json.hpp>

#include <functional>

namespace duplex::push::detail {
namespace {

using json = nlohmann::json;

// Compares without leaking, through timing, how much of the key matched.
bool same_key(std::string_view given, std::string_view key) {
  return given.size() == key.size() && CRYPTO_memcmp(given.data(), key.data(), key.size()) == 0;
}

bool authorized(const HttpRequest& request, const PushOptions& o) {
  if (o.api_insecure) return true;
  if (o.api_key.empty()) return false;
  const protocol::HttpHeaders& h = *request.headers;
  if (h.contains("X-API-Key")) return same_key(h.get("X-API-Key"), o.api_key);
  const std::string_view auth = h.get("Authorization");
  constexpr std::string_view scheme = "apikey ";
  return auth.size() > scheme.size() && protocol::iequals(auth.substr(0, scheme.size()), scheme) &&
         same_key(auth.substr(scheme.size()), o.api_key);
}

std::string error_body(const ReplyError& e) {
  return json{{"error", {{"code", e.code}, {"message", e.message}}}}.dump();
}

std::string result_body(const json& result) {
  return json{{"result", result}}.dump();
}

// Checks a channel named in a request: its name and its namespace.
const ReplyError* channel_problem(PushCore& core, const std::string& channel,
                                  const ChannelOptions** options) {
  if (check_channel_name(channel, core.options().max_channel_length) != ChannelNameProblem::none) {
    return &error_bad_request;
  }
  *options = core.channel_options(channel);
  return *options ? nullptr : &error_unknown_channel;
}

json publish_one(PushCore& core, const std::string& channel, const json& data) {
  const PublishResult r = core.publish(channel, data.dump(), {});
  if (r.error) {
    const ReplyError& e = r.error == 102 ? error_unknown_channel : error_bad_request;
    return json{{"error", {{"code", e.code}, {"message", e.message}}}};
  }
  json result = json::object();
  if (r.offset) {
    result["offset"] = r.offset;
    result["epoch"] = r.epoch;
  }
  return json{{"result", result}};
}

std::string publish(PushCore& core, const json& body) {
  auto data = body.find("data");
  const std::string channel = string_field(body, "channel");
  if (channel.empty() || data == body.end() || data->is_null())
    return error_body(error_bad_request);
  return publish_one(core, channel, *data).dump();
}

std::string broadcast(PushCore& core, const json& body) {
  auto data = body.find("data");
  auto channels = body.find("channels");
  if (channels == body.end() || !channels->is_array() || channels->empty() || data == body.end() ||
      data->is_null()) {
    return error_body(error_bad_request);
  }
  json responses = json::array();
  for (const json& c : *channels) {
    if (!c.is_string()) {
      responses.push_back(json{{"error", {{"code", 107}, {"message", "bad request"}}}});
      continue;
    }
    responses.push_back(publish_one(core, c.get<std::string>(), *data));
  }
  return result_body({{"responses", responses}});
}

std::string history(PushCore& core, const json& body) {
  const std::string channel = string_field(body, "channel");
  const ChannelOptions* o = nullptr;
  if (const ReplyError* e = channel_problem(core, channel, &o)) return error_body(*e);
  const HistoryPolicy policy = PushCore::history_policy(*o);
  if (!policy.enabled()) return error_body(error_not_available);
  const HistoryQuery query = history_query(body, core.options().max_history);
  if (query.reverse && query.since && query.since->offset == 0)
    return error_body(error_bad_request);
  const HistoryResult r = core.broker->history(channel, query, policy);
  if (query.since && !query.since->epoch.empty() && query.since->epoch != r.top.epoch) {
    return error_body(error_unrecoverable_position);
  }
  json publications = json::array();
  for (const Publication& p : r.publications)
    publications.push_back(json::parse(publication_json(p)));
  return result_body(
      {{"publications", publications}, {"epoch", r.top.epoch}, {"offset", r.top.offset}});
}

std::string history_remove(PushCore& core, const json& body) {
  const std::string channel = string_field(body, "channel");
  const ChannelOptions* o = nullptr;
  if (const ReplyError* e = channel_problem(core, channel, &o)) return error_body(*e);
  core.broker->remove_history(channel);
  return result_body(json::object());
}

std::string presence(PushCore& core, const json& body, bool stats) {
  const std::string channel = string_field(body, "channel");
  const ChannelOptions* o = nullptr;
  if (const ReplyError* e = channel_problem(core, channel, &o)) return error_body(*e);
  if (!o->presence) return error_body(error_not_available);
  if (stats) {
    const auto [clients, users] = core.presence_stats(channel);
    return result_body({{"num_clients", clients}, {"num_users", users}});
  }
  json presence = json::object();
  for (const auto& [client, info] : core.presence(channel)) presence[client] = json::parse(info);
  return result_body({{"presence", presence}});
}

std::string channels(PushCore& core, const json& body) {
  const std::string pattern = string_field(body, "pattern");
  json out = json::object();
  for (const auto& [name, clients] : core.channels()) {
    if (pattern.empty() || glob_match(pattern, name)) out[name] = {{"num_clients", clients}};
  }
  return result_body({{"channels", out}});
}

std::string info(PushCore& core) {
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now() - core.started)
                          .count();
  json node = {{"uid", core.node_id},
               {"name", core.node_name},
               {"version", "duplex 0.1"},
               {"num_clients", core.clients.load()},
               {"num_users", core.user_count()},
               {"num_channels", core.channels().size()},
               {"num_subs", core.subscriptions.load()},
               {"uptime", uptime}};
  return result_body({{"nodes", json::array({node})}});
}

std::string disconnect(PushCore& core, const json& body) {
  const std::string user = string_field(body, "user");
  const std::string client = string_field(body, "client");
  if (user.empty() && client.empty()) return error_body(error_bad_request);
  std::vector<std::string> keep;
  if (auto it = body.find("whitelist"); it != body.end() && it->is_array()) {
    for (const json& id : *it) {
      if (id.is_string()) keep.push_back(id.get<std::string>());
    }
  }
  std::uint16_t code = disconnect_force.code;
  std::string reason(disconnect_force.reason);
  if (auto it = body.find("disconnect"); it != body.end() && it->is_object()) {
    if (auto c = it->find("code"); c != it->end() && c->is_number_unsigned()) {
      const auto v = c->get<std::uint64_t>();
      // Application close codes only (RFC 6455 7.4.2), as Centrifugo's are.
      if (v < 3000 || v > 4999) return error_body(error_bad_request);
      code = static_cast<std::uint16_t>(v);
    }
    reason = string_field(*it, "reason");
    if (reason.size() > 123) return error_body(error_bad_request);  // a close frame's room
  }
  core.disconnect(user, client, keep, static_cast<CloseCode>(code), reason);
  return result_body(json::object());
}

using Method = std::function<std::string(PushCore&, const json&)>;

}  // namespace

void add_http_api(Server& server, PushCore& core) {
  const std::pair<const char*, Method> methods[] = {
      {"publish", publish},
      {"broadcast", broadcast},
      {"history", history},
      {"history_remove", history_remove},
      {"presence", [](PushCore& c, const json& b) { return presence(c, b, false); }},
      {"presence_stats", [](PushCore& c, const json& b) { return presence(c, b, true); }},
      {"channels", channels},
      {"info", [](PushCore& c, const json&) { return info(c); }},
      {"disconnect", disconnect},
  };
  for (const auto& [name, method] : methods) {
    server.http_post(core.options().api_prefix + "/" + name,
                     [&core, method = method](const HttpRequest& request, HttpResponse& response) {
                       core.api_requests.fetch_add(1, std::memory_order_relaxed);
                       if (!authorized(request, core.options())) {
                         response.status = 401;
                         response.body.clear();
                         return;
                       }
                       // Deeper than a command may nest: refused before
                       // parsing, as the WebSocket side does.
                       const json body = json_depth_within(request.body, max_json_depth + 1)
                                             ? json::parse(request.body, nullptr, false)
                                             : json(json::value_t::discarded);
                       if (!body.is_object()) {
                         response.status = 400;
                         response.body = "Bad Request\n";
                         return;
                       }
                       response.content_type = "application/json";
                       response.body = method(core, body);
                     });
  }
}

}  // namespace duplex::push::detail
