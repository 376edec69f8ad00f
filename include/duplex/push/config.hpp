/// @file
/// The push server's configuration file: JSON with Centrifugo's (v5, flat)
/// option names, so that an existing Centrifugo configuration mostly
/// carries over. docs/push-protocol.md lists every key.
///
///     {
///       "api_key": "...", "token_hmac_secret_key": "...",
///       "allow_anonymous_connect_without_token": false,
///       "history_size": 10, "history_ttl": "300s", "force_recovery": true,
///       "namespaces": [{"name": "chat", "presence": true, "join_leave": true}]
///     }
///
/// Threading: no shared state; call from any thread.
#pragma once

#include <duplex/push/push_server.hpp>
#include <duplex/status.hpp>

#include <string>
#include <string_view>

namespace duplex::push {

/// Applies a JSON configuration to `options`: what the text sets replaces
/// what `options` held; namespaces are replaced as a whole. On failure
/// (not JSON, an unknown key, a value of the wrong type) `options` is
/// unchanged and the status says where.
Status apply_push_config(std::string_view json_text, PushOptions& options);

/// `apply_push_config` with the text of the file at `path`.
Status load_push_config(const std::string& path, PushOptions& options);

}  // namespace duplex::push
