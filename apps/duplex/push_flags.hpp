// `duplex serve`'s push server options: the flags and the configuration
// file (--config), which serve reads again on SIGHUP.
#pragma once

#include <CLI/CLI.hpp>
#include <duplex/push/push_server.hpp>

#include <string>
#include <vector>

namespace duplex::cli {

struct PushArgs {
  std::string config_file;
  std::string history_file;  // channel history kept across restarts
  std::string api_key;
  bool api_insecure = false;
  std::string token_hmac_secret;
  std::string token_rsa_public_key_file;
  std::string token_ecdsa_public_key_file;
  bool allow_anonymous = false;
  bool allow_publish_for_client = false;
  std::size_t history_size = 0;
  double history_ttl = 0;
  bool force_recovery = false;
  bool presence = false;
  bool join_leave = false;
  std::vector<std::string> namespaces;

  // The flags as added, to tell which were given (they override the file).
  std::vector<CLI::Option*> given;
};

void add_push_flags(CLI::App* cmd, PushArgs& args);

// The options: the configuration file's, then the flags given; with
// `demo_on_loopback`, anonymous connections and client publishing on.
// False (and a one-line message on stderr) when a file cannot be used.
bool build_push_options(const PushArgs& args, bool demo_on_loopback, push::PushOptions& out);

}  // namespace duplex::cli
