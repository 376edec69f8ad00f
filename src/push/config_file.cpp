#include <duplex/push/config.hpp>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <functional>
#include <map>

namespace duplex::push {
namespace {

using json = nlohmann::json;

// A bad configuration: which key, and why.
struct ConfigError {
  std::string what;
};

bool get_bool(const json& v, const std::string& key) {
  if (!v.is_boolean()) throw ConfigError{key + " must be true or false"};
  return v.get<bool>();
}

std::size_t get_count(const json& v, const std::string& key) {
  if (!v.is_number_unsigned()) throw ConfigError{key + " must be a whole number >= 0"};
  return v.get<std::size_t>();
}

std::string get_string(const json& v, const std::string& key) {
  if (!v.is_string()) throw ConfigError{key + " must be a string"};
  return v.get<std::string>();
}

// Seconds as a number, or a Go-style duration string: "300s", "5m", "1h", "0".
std::chrono::seconds get_duration(const json& v, const std::string& key) {
  if (v.is_number_unsigned()) return std::chrono::seconds(v.get<std::int64_t>());
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    std::size_t used = 0;
    long long n = -1;
    try {
      n = std::stoll(s, &used);
    } catch (const std::exception&) {
      n = -1;
    }
    const std::string unit = s.substr(used);
    const std::map<std::string, long long> scale{{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}};
    if (n >= 0 && scale.count(unit)) return std::chrono::seconds(n * scale.at(unit));
  }
  throw ConfigError{key +
                    " must be seconds (a number, or a string such as \"300s\", \"5m\", \"1h\")"};
}

// Sets a channel option if `key` is one; false if it is not.
bool channel_option(ChannelOptions& c, const std::string& key, const json& v,
                    const std::string& where) {
  const std::string name = where + key;
  if (key == "history_size")
    c.history_size = get_count(v, name);
  else if (key == "history_ttl")
    c.history_ttl = get_duration(v, name);
  else if (key == "force_recovery")
    c.force_recovery = get_bool(v, name);
  else if (key == "presence")
    c.presence = get_bool(v, name);
  else if (key == "join_leave")
    c.join_leave = get_bool(v, name);
  else if (key == "allow_subscribe_for_client")
    c.allow_subscribe_for_client = get_bool(v, name);
  else if (key == "allow_publish_for_client")
    c.allow_publish_for_client = get_bool(v, name);
  else if (key == "allow_history_for_client")
    c.allow_history_for_client = get_bool(v, name);
  else if (key == "allow_presence_for_client")
    c.allow_presence_for_client = get_bool(v, name);
  else
    return false;
  return true;
}

void apply_root(const json& root, PushOptions& o) {
  if (!root.is_object()) throw ConfigError{"the configuration must be a JSON object"};
  for (const auto& [key, v] : root.items()) {
    if (channel_option(o.channel_defaults, key, v, "")) continue;
    if (key == "api_key")
      o.api_key = get_string(v, key);
    else if (key == "api_insecure")
      o.api_insecure = get_bool(v, key);
    else if (key == "token_hmac_secret_key")
      o.token_hmac_secret = get_string(v, key);
    else if (key == "token_rsa_public_key")
      o.token_rsa_public_key = get_string(v, key);
    else if (key == "token_ecdsa_public_key")
      o.token_ecdsa_public_key = get_string(v, key);
    else if (key == "allow_anonymous_connect_without_token")
      o.allow_anonymous = get_bool(v, key);
    else if (key == "client_channel_limit")
      o.max_subscriptions = get_count(v, key);
    else if (key == "channel_max_length")
      o.max_channel_length = get_count(v, key);
    else if (key == "client_recovery_max_publication_limit")
      o.max_recovered = get_count(v, key);
    else if (key == "client_history_max_publication_limit")
      o.max_history = get_count(v, key);
    else if (key == "ping_interval")
      o.ping_interval = get_duration(v, key);
    else if (key == "pong_timeout")
      o.pong_timeout = get_duration(v, key);
    else if (key == "name")
      o.node_name = get_string(v, key);
    else if (key == "namespaces") {
      if (!v.is_array()) throw ConfigError{"namespaces must be an array"};
      std::map<std::string, ChannelOptions> namespaces;
      for (const json& ns : v) {
        if (!ns.is_object() || !ns.contains("name") || !ns["name"].is_string() ||
            ns["name"].get<std::string>().empty()) {
          throw ConfigError{"each namespace must be an object with a non-empty \"name\""};
        }
        const std::string name = ns["name"].get<std::string>();
        ChannelOptions c;
        for (const auto& [k, value] : ns.items()) {
          if (k == "name") continue;
          if (!channel_option(c, k, value, "namespace " + name + ": ")) {
            throw ConfigError{"namespace " + name + ": unknown option \"" + k + "\""};
          }
        }
        if (!namespaces.emplace(name, c).second) {
          throw ConfigError{"namespace " + name + " is there twice"};
        }
      }
      o.namespaces = std::move(namespaces);
    } else {
      throw ConfigError{"unknown option \"" + key + "\""};
    }
  }
}

}  // namespace

Status apply_push_config(std::string_view json_text, PushOptions& options) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    return Status(std::make_error_code(std::errc::invalid_argument),
                  std::string("not JSON: ") + e.what());
  }
  PushOptions next = options;
  try {
    apply_root(root, next);
  } catch (const ConfigError& e) {
    return Status(std::make_error_code(std::errc::invalid_argument), e.what);
  }
  options = std::move(next);
  return {};
}

Status load_push_config(const std::string& path, PushOptions& options) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    const int error = errno;
    return Status(std::error_code(error, std::generic_category()), "cannot read " + path);
  }
  std::string text;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) text.append(buffer, n);
  std::fclose(f);
  Status s = apply_push_config(text, options);
  if (!s) s.detail = path + ": " + s.detail;
  return s;
}

}  // namespace duplex::push
