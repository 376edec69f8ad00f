#include "limit_flags.hpp"

#include <chrono>

namespace duplex::cli {
namespace {

std::chrono::milliseconds seconds(double s) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000));
}

}  // namespace

void add_limit_flags(CLI::App* cmd, LimitArgs& a) {
  ServerOptions& o = a.options;
  const char* group = "Limits";
  auto add = [&](const char* name, auto& value, const char* help) {
    return cmd->add_option(name, value, help)->capture_default_str()->group(group);
  };
  add("--max-connections", o.max_connections,
      "Connections open at once; more get 503 (0: 15/16 of the open-file limit)");
  add("--max-connections-per-address", o.max_connections_per_address,
      "Connections open at once from one client IP; more get 503 (0: no limit)");
  add("--max-pending-handshakes", o.max_pending_handshakes,
      "Connections still in their opening handshake; past it new ones wait in the backlog")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30));
  add("--max-message", o.max_message_size,
      "Largest message accepted, in bytes (larger: close 1009)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  add("--max-fragments", o.max_fragments,
      "Frames one message may come in (more: close 1009; 0: no limit)");
  add("--max-messages-per-second", o.max_messages_per_second,
      "Messages a connection may send per second, in bursts of as many (faster: close 1008; "
      "0: no limit)");
  add("--max-inflate-per-second", o.max_inflate_per_second,
      "Bytes a connection's compressed messages may inflate to per second (more: close 1008; 0: "
      "no limit)");
  add("--fragment-size", o.fragment_size,
      "Send messages longer than this in frames of this many bytes (0: one frame)");
  add("--max-backpressure", o.max_backpressure,
      "Bytes queued for a client before the server stops reading from it, and a subscriber "
      "misses messages")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 34));
  add("--memory-budget", o.memory_budget,
      "Bytes all connections may hold for their peers; over it the largest holders are dropped "
      "(0: a quarter of physical memory)");
  add("--max-http-head", o.http_limits.max_head_bytes,
      "Largest request head, in bytes (larger: 431)")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 20));
  add("--max-http-headers", o.http_limits.max_headers,
      "Header fields a request may have (more: 431)")
      ->check(CLI::Range(std::size_t{8}, std::size_t{10000}));
  add("--max-http-body", o.max_http_body, "Largest POST body, in bytes (larger: 413)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 30));
  add("--handshake-timeout", a.handshake_timeout,
      "Seconds a connection has to send its whole request")
      ->check(CLI::Range(0.01, 3600.0));
  add("--idle-timeout", a.idle_timeout, "Close connections silent this long (seconds, 0: never)")
      ->check(CLI::NonNegativeNumber);
  add("--ping-interval", a.ping_interval,
      "Ping quiet connections this often; drop those that do not answer (seconds, 0: never)")
      ->check(CLI::NonNegativeNumber);
  add("--close-timeout", a.close_timeout,
      "Seconds to wait for the peer's side of a closing handshake")
      ->check(CLI::Range(0.01, 3600.0));
  add("--shutdown-timeout", a.shutdown_timeout,
      "Seconds a graceful stop waits for connections to close")
      ->check(CLI::Range(0.0, 3600.0));
  add("--tls-min-version", o.tls.min_version, "Oldest TLS version accepted: 1.2 or 1.3")
      ->check(CLI::IsMember({"1.2", "1.3"}));
  // (Its long default is left out of the help.)
  cmd->add_option("--tls-ciphers", o.tls.ciphers,
                  "TLS 1.2 cipher suites (OpenSSL syntax; default: Mozilla's \"intermediate\" "
                  "policy, forward-secret AEAD suites only)")
      ->group(group);
}

void apply_limit_flags(const LimitArgs& a, ServerOptions& o) {
  const ServerOptions& l = a.options;
  o.max_connections = l.max_connections;
  o.max_connections_per_address = l.max_connections_per_address;
  o.max_pending_handshakes = l.max_pending_handshakes;
  o.max_message_size = l.max_message_size;
  o.max_fragments = l.max_fragments;
  o.max_messages_per_second = l.max_messages_per_second;
  o.max_inflate_per_second = l.max_inflate_per_second;
  o.fragment_size = l.fragment_size;
  o.max_backpressure = l.max_backpressure;
  o.memory_budget = l.memory_budget;
  o.http_limits = l.http_limits;
  o.max_http_body = l.max_http_body;
  o.handshake_timeout = seconds(a.handshake_timeout);
  o.idle_timeout = seconds(a.idle_timeout);
  o.ping_interval = seconds(a.ping_interval);
  o.close_timeout = seconds(a.close_timeout);
  o.shutdown_timeout = seconds(a.shutdown_timeout);
  o.tls.min_version = l.tls.min_version;
  o.tls.ciphers = l.tls.ciphers;
}

}  // namespace duplex::cli
