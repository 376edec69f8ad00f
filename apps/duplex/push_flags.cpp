#include "push_flags.hpp"

#include <duplex/push/config.hpp>

#include <cstdio>

namespace duplex::cli {
namespace {

// The text of a key file; false (and a message) when it cannot be read.
bool read_key_file(const std::string& path, std::string& out) {
  if (path.empty()) return true;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    std::fprintf(stderr, "duplex: cannot read %s\n", path.c_str());
    return false;
  }
  out.clear();
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) out.append(buffer, n);
  std::fclose(f);
  return true;
}

bool given(const PushArgs& a, const char* name) {
  for (const CLI::Option* o : a.given) {
    if (o->check_lname(name) && o->count() > 0) return true;
  }
  return false;
}

}  // namespace

void add_push_flags(CLI::App* cmd, PushArgs& a) {
  auto keep = [&a](CLI::Option* o) {
    a.given.push_back(o);
    return o;
  };
  keep(cmd->add_option("--config", a.config_file,
                       "JSON file of push server options (Centrifugo's names; read again on "
                       "SIGHUP; flags given override it)"))
      ->check(CLI::ExistingFile);
  cmd->add_option("--history-file", a.history_file,
                  "Keep channel history (epochs, offsets, publications) across restarts in this "
                  "file: read (and removed) at start, written on a graceful stop");
  keep(
      cmd->add_option("--api-key", a.api_key,
                      "Key of the HTTP API for backends (X-API-Key or Authorization: apikey KEY)"));
  keep(cmd->add_flag("--api-insecure", a.api_insecure,
                     "Serve the HTTP API without a key (local development only)"));
  keep(cmd->add_option("--token-hmac-secret", a.token_hmac_secret,
                       "Secret of HS256/384/512 connection and subscription tokens (JWT)"));
  keep(cmd->add_option("--token-rsa-public-key", a.token_rsa_public_key_file,
                       "PEM file with the public key of RS256/384/512 tokens"))
      ->check(CLI::ExistingFile);
  keep(cmd->add_option("--token-ecdsa-public-key", a.token_ecdsa_public_key_file,
                       "PEM file with the public key of ES256/384/512 tokens"))
      ->check(CLI::ExistingFile);
  keep(cmd->add_flag("--allow-anonymous", a.allow_anonymous,
                     "Let clients connect without a token (always on with a loopback --host)"));
  keep(cmd->add_flag("--allow-publish-for-client", a.allow_publish_for_client,
                     "Let clients publish, not only backends (always on with a loopback --host)"));
  keep(cmd->add_option("--history-size", a.history_size,
                       "Publications kept per channel for history and recovery (0: none)"))
      ->capture_default_str();
  keep(cmd->add_option("--history-ttl", a.history_ttl,
                       "Seconds a publication stays in a channel's history (0: none)"))
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  keep(cmd->add_flag("--force-recovery", a.force_recovery,
                     "Make every subscription recoverable (with history)"));
  keep(cmd->add_flag("--presence", a.presence, "Keep who is subscribed to each channel"));
  keep(cmd->add_flag("--join-leave", a.join_leave,
                     "Send join/leave pushes to subscribers that ask for them"));
  keep(cmd->add_option("--namespace", a.namespaces,
                       "A channel namespace (channels named NS:...) with the channel options "
                       "above (repeatable; other namespaces are unknown channels)"));
}

bool build_push_options(const PushArgs& a, bool demo_on_loopback, push::PushOptions& o) {
  if (!a.config_file.empty()) {
    if (const Status s = push::load_push_config(a.config_file, o); !s) {
      std::fprintf(stderr, "duplex: %s\n", s.detail.c_str());
      return false;
    }
  }
  if (given(a, "api-key")) o.api_key = a.api_key;
  if (given(a, "api-insecure")) o.api_insecure = a.api_insecure;
  if (given(a, "token-hmac-secret")) o.token_hmac_secret = a.token_hmac_secret;
  if (!read_key_file(a.token_rsa_public_key_file, o.token_rsa_public_key) ||
      !read_key_file(a.token_ecdsa_public_key_file, o.token_ecdsa_public_key)) {
    return false;
  }
  if (given(a, "allow-anonymous") || demo_on_loopback) o.allow_anonymous = true;
  push::ChannelOptions& c = o.channel_defaults;
  if (given(a, "history-size")) c.history_size = a.history_size;
  if (given(a, "history-ttl")) {
    c.history_ttl = std::chrono::seconds(static_cast<std::int64_t>(a.history_ttl));
  }
  if (given(a, "force-recovery")) c.force_recovery = true;
  if (given(a, "presence")) c.presence = true;
  if (given(a, "join-leave")) c.join_leave = true;
  if (given(a, "allow-publish-for-client") || demo_on_loopback) c.allow_publish_for_client = true;
  for (const std::string& ns : a.namespaces) o.namespaces[ns] = c;
  return true;
}

}  // namespace duplex::cli
