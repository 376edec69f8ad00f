/// @file
/// The push server: channels that clients subscribe to over WebSocket and
/// backends publish to over HTTP, speaking Centrifugo's client protocol
/// (JSON, protocol v2) and server API, so that Centrifugo's client SDKs
/// work against it unchanged. See docs/push-protocol.md for what is
/// supported.
///
///     duplex::Server server({.port = 8000});
///     duplex::push::PushServer push(server, {.api_key = "secret",
///                                            .allow_anonymous = true});
///     server.run();
///
///     curl -H 'X-API-Key: secret' -d '{"channel":"news","data":{"text":"hi"}}'
///          http://127.0.0.1:8000/api/publish
///
/// Threading: construct before the server listens (it adds routes); the
/// member functions are thread-safe; the routes run on the loop threads.
#pragma once

#include <duplex/server.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace duplex::push {

/// What a channel does, per namespace (the part of its name before ':').
/// The names are Centrifugo's.
struct ChannelOptions {
  /// Publications kept per channel; with `history_ttl` > 0 too, the channel
  /// has history, and with it offsets, an epoch and recovery.
  std::size_t history_size = 0;
  std::chrono::seconds history_ttl{0};  ///< how long a publication stays in the history
  /// Every subscription recoverable, whether the client asks or not
  /// (without it, a client asks with `recoverable: true`).
  bool force_recovery = false;
  bool presence = false;                   ///< who is subscribed (presence, presence_stats)
  bool join_leave = false;                 ///< join/leave pushes to subscribers that ask for them
  bool allow_subscribe_for_client = true;  ///< any connected client may subscribe
  bool allow_publish_for_client = false;   ///< clients may publish (not only backends)
  bool allow_history_for_client = true;    ///< clients may read history
  bool allow_presence_for_client = true;   ///< clients may read presence
};

/// The push server's settings. Those named as Centrifugo names them mean
/// what they mean there.
struct PushOptions {
  std::string websocket_path = "/connection/websocket";  ///< where the SDKs connect
  std::string api_prefix = "/api";                       ///< POST {prefix}/publish, ...
  /// The server API's key (`X-API-Key: KEY` or `Authorization: apikey KEY`);
  /// empty: the API answers 401 to everyone unless `api_insecure`.
  std::string api_key;
  bool api_insecure = false;  ///< no key needed (local development only)

  /// Connection and subscription tokens (JWT): HS256/384/512 with this
  /// secret, RS256/384/512 and ES256/384/512 with these PEM public keys.
  std::string token_hmac_secret;
  std::string token_rsa_public_key;    ///< PEM text
  std::string token_ecdsa_public_key;  ///< PEM text
  /// Connections without a token (user ""); otherwise they are refused.
  bool allow_anonymous = false;

  ChannelOptions channel_defaults;                   ///< channels without a namespace
  std::map<std::string, ChannelOptions> namespaces;  ///< by name; others: unknown channel
  std::size_t max_channel_length = 255;              ///< longer names: bad request
  std::size_t max_subscriptions = 128;               ///< per connection; more: limit exceeded
  std::size_t max_recovered = 300;                   ///< more missed: not recovered
  std::size_t max_history = 300;                     ///< publications per history answer
  std::chrono::seconds ping_interval{25};            ///< application pings (`{}`)
  std::chrono::seconds pong_timeout{8};              ///< no answer in time: disconnect 3012
  std::chrono::seconds connect_timeout{10};          ///< no connect command: disconnect 3502
  std::string node_name;                             ///< for /api/info; empty: host name
};

/// Counts for monitoring, from any thread.
struct PushStats {
  std::size_t clients = 0;            ///< connected (after their connect command)
  std::size_t subscriptions = 0;      ///< on every connection
  std::uint64_t publications = 0;     ///< published since start (API and clients)
  std::uint64_t commands = 0;         ///< client commands handled
  std::uint64_t protocol_errors = 0;  ///< commands answered with an error or a disconnect
};

/// The result of `PushServer::publish`.
struct PublishResult {
  int error = 0;             ///< 0, or the protocol's code (102 unknown channel, 107 bad request)
  std::uint64_t offset = 0;  ///< with history: the publication's place in the channel
  std::string epoch;         ///< with history: the channel's epoch
};

namespace detail {
class PushCore;
}

/// The push server on a `Server`: the WebSocket endpoint and the HTTP API.
class PushServer {
 public:
  /// Adds the routes to `server` (which must not listen yet, and must
  /// outlive this object).
  PushServer(Server& server, PushOptions options);
  ~PushServer();
  PushServer(const PushServer&) = delete;
  PushServer& operator=(const PushServer&) = delete;

  /// Thread-safe: publishes `json_data` (a JSON value's text) to `channel`
  /// as a backend would over the API.
  PublishResult publish(std::string_view channel, std::string_view json_data);
  /// Thread-safe counts.
  PushStats stats() const;
  /// Thread-safe: new options for what follows (tokens, the API key,
  /// channel options, limits). Connections and subscriptions that exist
  /// stay; the WebSocket path and the API prefix do not change (the routes
  /// are made).
  void reload(PushOptions options);

  /// Channel history across restarts (the in-memory broker's): writes
  /// every channel's epoch, offset and kept publications to `path` (through
  /// a temporary file renamed over it), or reads them back, before the
  /// server listens. A missing file reads as nothing. Thread-safe; the
  /// status says which file failed and why.
  /// @{
  Status save_history(const std::string& path);
  Status load_history(const std::string& path);
  /// @}

 private:
  std::unique_ptr<detail::PushCore> core_;
};

}  // namespace duplex::push
