// The Duplex server: WebSocket routes and plain HTTP on one port, served by
// one epoll event loop per thread sharing the port through SO_REUSEPORT.
//
//   duplex::Server server({.port = 9002});
//   server.websocket("/echo", {
//       .on_message = [](duplex::WebSocket& ws, duplex::Message m) { ws.send(m.data, m.opcode); },
//   });
//   server.run();   // SIGINT/SIGTERM: every connection gets 1001, then run() returns
#pragma once

#include <duplex/log.hpp>
#include <duplex/protocol/deflate_options.hpp>
#include <duplex/protocol/extensions.hpp>
#include <duplex/protocol/http.hpp>
#include <duplex/websocket.hpp>

#include <any>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace duplex {

/// permessage-deflate settings (RFC 7692).
using DeflateOptions = protocol::DeflateOptions;

// The upgrade request as the on_upgrade hook sees it, and the hook's decision.
// Not calling reject() accepts (without a subprotocol unless accept() names one).
class Upgrade {
 public:
  virtual std::string_view method() const noexcept = 0;
  virtual std::string_view path() const noexcept = 0;
  virtual std::string_view query() const noexcept = 0;
  virtual std::string_view header(std::string_view name) const noexcept = 0;
  virtual const std::vector<protocol::HttpHeader>& headers() const noexcept = 0;
  virtual std::string_view origin() const noexcept = 0;
  virtual std::string remote_address() const = 0;
  virtual std::span<const std::string_view> subprotocols() const noexcept = 0;      // offered
  virtual const std::vector<protocol::Extension>& extensions() const noexcept = 0;  // offered
  // The host name the client asked for in TLS (SNI), or empty.
  virtual std::string_view server_name() const noexcept = 0;

  // Accept, selecting one of the offered subprotocols (or none).
  virtual void accept(std::string_view subprotocol = {}) = 0;
  // Refuse with an HTTP status (4xx/5xx) and a plain-text body.
  virtual void reject(int status, std::string_view body = {}) = 0;
  // Extra header on the 101 response (or on the rejection).
  virtual void add_header(std::string name, std::string value) = 0;
  // Attached to the WebSocket: WebSocket::user_data().
  virtual void set_user_data(std::any data) = 0;

 protected:
  ~Upgrade() = default;
};

struct WebSocketRoute {
  std::function<void(Upgrade&)> on_upgrade;  // optional: inspect, accept or reject
  std::function<void(WebSocket&)> on_open;
  std::function<void(WebSocket&, Message)> on_message;
  std::function<void(WebSocket&, std::string_view payload)> on_ping;
  std::function<void(WebSocket&, std::string_view payload)> on_pong;
  std::function<void(WebSocket&)> on_drain;
  std::function<void(WebSocket&, CloseCode, std::string_view reason)> on_close;
};

struct HttpRequest {
  std::string_view method;
  std::string_view path;
  std::string_view query;
  const protocol::HttpHeaders* headers = nullptr;
  std::string remote_address;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponse&)>;

// The Content-Type for a file name, by its extension ("text/html;
// charset=utf-8", "text/javascript; charset=utf-8", ...), as the static-file
// server uses it.
std::string_view content_type_for(std::string_view file_name) noexcept;

// What happens to a published message for a subscriber whose outgoing
// buffer is already over max_backpressure (a reader that cannot keep up).
enum class SlowConsumerPolicy {
  drop_message,      // that subscriber misses the message (counted in stats)
  close_connection,  // that subscriber is closed with slow_consumer_close_code
};

struct ServerStats {
  std::size_t connections = 0;         // open sockets, WebSocket or not
  std::size_t topics = 0;              // topics with at least one subscriber
  std::uint64_t messages_dropped = 0;  // published messages dropped for slow consumers
  std::uint64_t slow_consumers_closed = 0;
};

struct TlsServerOptions {
  std::string cert_file;  // PEM certificate chain (leaf first); empty: no TLS
  std::string key_file;   // PEM private key
  // TLS 1.3 session tickets let returning clients skip the full handshake,
  // but issuing them leaves each connection ~8 KiB heavier (OpenSSL 3):
  // turn them off for servers that hold very many idle connections.
  bool session_tickets = true;
};

struct ServerOptions {
  std::string host = "127.0.0.1";  // "0.0.0.0" or "::" to listen on every interface
  std::uint16_t port = 9002;       // 0: any free port (see Server::port())
  unsigned threads = 0;            // event loops; 0: one per CPU core

  std::uint64_t max_message_size = 16 * 1024 * 1024;  // larger messages: close 1009
  std::size_t fragment_size =
      0;  // send messages longer than this in frames of this size (0: never)

  // Outgoing bytes a connection may have queued before the server stops
  // reading from it (so a peer that does not read cannot grow our memory).
  std::size_t max_backpressure = 1024 * 1024;
  SlowConsumerPolicy slow_consumer = SlowConsumerPolicy::drop_message;
  CloseCode slow_consumer_close_code = CloseCode::try_again_later;  // 1013 (or 1008)
  std::vector<std::string> allowed_origins;  // empty: any Origin; else others get 403
  TlsServerOptions tls;                      // wss:// when set (TLS 1.2 and 1.3, ALPN http/1.1)
  DeflateOptions deflate;                    // permessage-deflate when enabled

  std::string static_dir;  // files for GET/HEAD of other paths
  protocol::HttpLimits http_limits;

  std::chrono::milliseconds handshake_timeout{10'000};  // request must complete in time
  std::chrono::milliseconds idle_timeout{120'000};      // nothing received: close (0: off)
  std::chrono::milliseconds ping_interval{
      30'000};  // ping when quiet; no pong in time: drop (0: off)
  std::chrono::milliseconds close_timeout{5'000};     // wait for the peer's close / FIN
  std::chrono::milliseconds shutdown_timeout{5'000};  // graceful shutdown bound

  // run() stops gracefully on SIGINT and SIGTERM, which it blocks and reads
  // through a signalfd: threads the application started before run() should
  // block them too, or one of them may take the signal instead.
  bool handle_signals = true;
  // Connection-level log lines; warnings go to stderr when this is empty.
  std::function<void(LogLevel, std::string_view)> log;
};

class Server {
 public:
  explicit Server(ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Routes by exact path; "*" catches every path without a route of its own.
  Server& websocket(std::string path, WebSocketRoute route);
  // GET/HEAD handler for a path; HEAD gets the same headers without the body.
  Server& http(std::string path, HttpHandler handler);

  // Binds the listening sockets (and loads the TLS certificate). Called by
  // run() if not called before. `detail` gets more about a failure (which
  // file OpenSSL could not use, and why).
  std::error_code listen(std::string* detail = nullptr);
  // The bound port (useful with port 0), after listen().
  std::uint16_t port() const noexcept;
  // Serves until stop() or a signal; returns after the graceful shutdown.
  std::error_code run();
  // Thread-safe: closes every connection with 1001, waits up to
  // shutdown_timeout, then makes run() return.
  void stop();

  // Thread-safe: sends to every subscriber of `topic` (framed once, shared by
  // all of them). Messages from one thread reach each subscriber in order.
  void publish(std::string_view topic, std::string_view data, Opcode opcode = Opcode::text);
  // Thread-safe counts.
  std::size_t subscriber_count(std::string_view topic) const;
  ServerStats stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace duplex
