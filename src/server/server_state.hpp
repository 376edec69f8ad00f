// The server's internals, shared by its loops: options, routes, the
// handshake policy, TLS, and the counters every loop updates.
#pragma once

#include "../transport/tls.hpp"
#include "route.hpp"
#include "warning_limiter.hpp"

#include <duplex/protocol/permessage_deflate.hpp>
#include <duplex/protocol/server_handshake.hpp>
#include <duplex/server.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace duplex::server {
class ServerLoop;
}

namespace duplex::detail {

struct ServerState {
  explicit ServerState(ServerOptions o);
  ~ServerState();

  const server::Route* find_route(std::string_view path) const;
  const HttpHandler* find_http(std::string_view path) const;
  const HttpHandler* find_http_post(std::string_view path) const;
  void count_subscription(std::string_view topic, int delta);
  void log(LogLevel level, std::string_view text) const;
  // A warning a peer can cause: at most one line per second per cause.
  void warn(server::WarningCause cause, std::string_view text);
  // Takes a connection slot for `host` under max_connections_per_address;
  // false (and nothing taken) when the address has them all. Any thread.
  bool take_address_slot(const std::string& host);
  void give_back_address_slot(const std::string& host);
  // The TLS context new connections use (reload_tls() swaps it). Any thread.
  std::shared_ptr<transport::TlsContext> tls_context() const;
  // Makes a context from the certificate and key files of the options.
  std::shared_ptr<transport::TlsContext> make_tls_context(std::string& error) const;
  server::Route make_route(std::string path, std::shared_ptr<const Callbacks> callbacks,
                           const RouteOptions& options) const;

  ServerOptions options;
  // What connections run with until a route is chosen (the handshake timeout).
  session::Binding handshake_binding;
  // The same for connections over max_connections ([0]) or
  // max_connections_per_address ([1]), which get 503; and for those whose
  // request is read and being answered (no longer counted among the pending
  // handshakes): [2] after a request, [3] after a 503.
  session::Binding refusal_bindings[4];
  protocol::ServerPolicy policy;  // the handshake's rules: limits, origins
  // permessage-deflate with the server's settings, for routes that compress.
  std::unique_ptr<protocol::PerMessageDeflate> deflate;
  std::string static_root;                     // real path of options.static_dir, or empty
  mutable std::mutex tls_mutex;                // reload_tls() may swap `tls` while loops read it
  std::shared_ptr<transport::TlsContext> tls;  // set when serving wss://
  std::unordered_map<std::string, std::unique_ptr<server::Route>> routes;
  std::unordered_map<std::string, HttpHandler> http_routes;       // GET and HEAD
  std::unordered_map<std::string, HttpHandler> http_post_routes;  // POST

  std::mutex loops_mutex;  // stop() and post() may run on any thread while run() tears down
  std::vector<std::unique_ptr<server::ServerLoop>> loops;
  std::uint16_t bound_port = 0;
  std::atomic<bool> stopping{false};
  std::atomic<bool> listening{false};

  // Subscribers per topic across all loops, for the thread-safe queries.
  mutable std::mutex topics_mutex;
  std::unordered_map<std::string, std::size_t> topic_counts;
  // The order of every publish, server-wide. A subscription remembers where
  // the count stood when it began, so a message published before it (but
  // still on its way to another loop) is not delivered to it.
  alignas(64) std::atomic<std::uint64_t> publish_sequence{0};
  std::uint64_t next_publish_sequence() noexcept {
    return publish_sequence.fetch_add(1, std::memory_order_acq_rel);
  }
  std::uint64_t publish_horizon() const noexcept {
    return publish_sequence.load(std::memory_order_acquire);
  }
  alignas(64) std::atomic<std::uint64_t> messages_dropped{0};
  std::atomic<std::uint64_t> slow_consumers_closed{0};
  std::atomic<std::size_t> connections{0};

  // The connection limits (ServerOptions::max_connections, resolved at
  // listen(), and its neighbours).
  std::size_t max_connections = 0;
  std::atomic<std::size_t> pending_handshakes{0};
  std::atomic<std::uint64_t> connections_refused{0};
  std::atomic<std::uint64_t> rate_limited_closed{0};
  std::size_t memory_budget = 0;  // ServerOptions::memory_budget, resolved at listen()
  std::atomic<std::uint64_t> memory_shed{0};
  std::mutex addresses_mutex;
  std::unordered_map<std::string, std::size_t> connections_per_address;
  server::WarningLimiter warnings;
};

}  // namespace duplex::detail
