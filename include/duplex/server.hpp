/// @file
/// The Duplex server: WebSocket routes and plain HTTP on one port, served by
/// one event loop per thread sharing the port (SO_REUSEPORT).
///
///     duplex::Server server({.port = 9002});
///     server.websocket("/echo", {
///         .on_message = [](duplex::WebSocket& ws, duplex::Message m) { ws.send(m.data, m.opcode);
///         },
///     });
///     server.run();   // SIGINT/SIGTERM: every connection gets 1001, then run() returns
///
/// Threading: configure (routes, handlers) before `listen()`/`run()`;
/// `run()` serves on the calling thread and the loops' own threads, where
/// every handler runs. `stop()`, `publish()`, `post()`, the `Loop` members,
/// `subscriber_count()` and `stats()` are thread-safe.
#pragma once

#include <duplex/handlers.hpp>
#include <duplex/io_backend.hpp>
#include <duplex/log.hpp>
#include <duplex/loop.hpp>
#include <duplex/protocol/deflate_options.hpp>
#include <duplex/protocol/http.hpp>
#include <duplex/status.hpp>
#include <duplex/websocket.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace duplex {

/// permessage-deflate settings (RFC 7692).
using DeflateOptions = protocol::DeflateOptions;

/// A plain HTTP request to a path with an `http()` (GET, HEAD) or
/// `http_post()` handler. The views, and `headers`, are valid during the
/// handler call only.
struct HttpRequest {
  std::string_view method;                         ///< "GET", "HEAD" or "POST"
  std::string_view path;                           ///< "/health"
  std::string_view query;                          ///< after '?', without it
  const protocol::HttpHeaders* headers = nullptr;  ///< every header field
  std::string remote_address;                      ///< "127.0.0.1:54321"
  std::string_view body;                           ///< a POST's body (Content-Length bytes)
};

/// The handler's answer. The connection closes after it (`Connection: close`).
struct HttpResponse {
  int status = 200;                                          ///< the status code
  std::string content_type = "text/plain; charset=utf-8";    ///< the body's type
  std::string body;                                          ///< left out for HEAD
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra header fields
};

/// Answers a plain HTTP request, on the loop thread that read it.
using HttpHandler = std::function<void(const HttpRequest&, HttpResponse&)>;

/// The Content-Type for a file name, by its extension ("text/html;
/// charset=utf-8", "text/javascript; charset=utf-8", ...), as the
/// static-file server uses it.
std::string_view content_type_for(std::string_view file_name) noexcept;

/// What happens to a published message for a subscriber whose outgoing
/// buffer is already over `max_backpressure` (a reader that cannot keep up).
enum class SlowConsumerPolicy {
  drop_message,      ///< that subscriber misses the message (counted in stats)
  close_connection,  ///< that subscriber is closed with `slow_consumer_close_code`
};

/// Counts for monitoring, from any thread.
struct ServerStats {
  std::size_t connections = 0;              ///< open sockets, WebSocket or not
  std::size_t topics = 0;                   ///< topics with at least one subscriber
  std::uint64_t messages_dropped = 0;       ///< published messages dropped for slow consumers
  std::uint64_t slow_consumers_closed = 0;  ///< subscribers closed for being slow
  /// Connections refused by `max_connections` or `max_connections_per_address`
  /// (answered 503).
  std::uint64_t connections_refused = 0;
  std::uint64_t rate_limited_closed = 0;  ///< closed for `max_messages_per_second`
  /// Bytes connections held for their peers at the last look (each loop
  /// looks once a second): output of their own and input being reassembled.
  std::size_t memory_held = 0;
  std::uint64_t memory_shed = 0;  ///< connections dropped to keep within `memory_budget`
};

/// wss:// settings.
struct TlsServerOptions {
  std::string cert_file;  ///< PEM certificate chain (leaf first); empty: no TLS
  std::string key_file;   ///< PEM private key
  /// TLS 1.3 session tickets let returning clients skip the full handshake,
  /// but issuing them leaves each connection ~8 KiB heavier (OpenSSL 3):
  /// turn them off for servers that hold very many idle connections.
  bool session_tickets = true;
  /// The oldest protocol accepted: "1.2" or "1.3".
  std::string min_version = "1.2";
  /// TLS 1.2 cipher list (OpenSSL syntax). The default is Mozilla's
  /// "intermediate" policy: forward-secret AEAD suites only (no RSA key
  /// exchange, no CBC, no SHA-1). TLS 1.3 suites are all AEAD and forward
  /// secret; OpenSSL's defaults are kept for them.
  std::string ciphers =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
      "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";
};

/// The server's settings. Those a route can change (`RouteOptions`) are
/// the defaults for every route.
struct ServerOptions {
  std::string host = "127.0.0.1";  ///< "0.0.0.0" or "::" to listen on every interface
  std::uint16_t port = 9002;       ///< 0: any free port (see `Server::port()`)
  unsigned threads = 0;            ///< event loops; 0: one per CPU core
  /// The kernel interface of the loops (see `IoBackend`): io_uring where
  /// the kernel allows it, else epoll.
  IoBackend io = IoBackend::automatic;

  std::uint64_t max_message_size = 16 * 1024 * 1024;  ///< larger messages: close 1009
  /// Frames one message may come in (a flood of empty continuation frames
  /// would otherwise keep a message open for ever); more: close 1009. 0: no limit.
  std::uint32_t max_fragments = 65536;
  /// Data messages a connection may send per second, on average over a
  /// burst of as many (a token bucket); faster: close 1008. 0: no limit.
  std::uint32_t max_messages_per_second = 0;
  /// Bytes a connection's permessage-deflate messages may inflate to per
  /// second (one large message may overdraw it; the next ones wait); more:
  /// close 1008. Inflating is the CPU a small upload can make us spend.
  /// 0: no limit.
  std::uint64_t max_inflate_per_second = 64 * 1024 * 1024;
  /// Send messages longer than this in frames of this size (0: never).
  std::size_t fragment_size = 0;

  /// Connections open at once (WebSocket or plain HTTP) over every loop;
  /// past it a new connection's request is answered 503 with Retry-After.
  /// 0: 15/16 of the process's open-file limit, read at `listen()`.
  std::size_t max_connections = 0;
  /// Connections open at once from one client address (its IP); past it,
  /// 503. 0: no limit, the default: behind a proxy or a NAT, many users
  /// share one address.
  std::size_t max_connections_per_address = 0;
  /// Connections still in their opening handshake at once (a defence
  /// against clients that connect and say nothing, with
  /// `handshake_timeout`); past it the server stops accepting for a moment,
  /// and new connections wait in the kernel's backlog.
  std::size_t max_pending_handshakes = 16384;

  /// Memory all connections together may hold for their peers: output
  /// queued for them (published messages shared by many counted once, as
  /// they are held) and messages being reassembled. Each loop adds it up
  /// once a second; over the budget, the connections holding the most are
  /// dropped first until the rest fit (counted in `ServerStats::memory_shed`).
  /// 0: a quarter of the machine's physical memory, read at `listen()`.
  std::size_t memory_budget = 0;

  /// Outgoing bytes a connection may have queued before the server stops
  /// reading from it (so a peer that does not read cannot grow our memory).
  std::size_t max_backpressure = 1024 * 1024;
  /// What a subscriber that cannot keep up with publications gets.
  SlowConsumerPolicy slow_consumer = SlowConsumerPolicy::drop_message;
  CloseCode slow_consumer_close_code = CloseCode::try_again_later;  ///< 1013 (or 1008)
  /// Browser origins allowed to open WebSockets; empty: any. Others get 403.
  /// Requests without an Origin header (not from a browser) pass unless
  /// `require_origin`.
  std::vector<std::string> allowed_origins;
  bool require_origin = false;  ///< refuse requests without Origin when allowed_origins is set
  TlsServerOptions tls;         ///< wss:// when set (TLS 1.2 and 1.3, ALPN http/1.1)
  DeflateOptions deflate;       ///< permessage-deflate when enabled (routes may opt out)

  /// Files for GET/HEAD of other paths, streamed from disk as the client
  /// reads, with validators (304) and single byte ranges (206, 416).
  std::string static_dir;
  protocol::HttpLimits http_limits;  ///< request head size and header count (431 beyond)
  /// The largest POST body an `http_post()` handler is given (larger: 413).
  std::size_t max_http_body = 1024 * 1024;

  /// The request must complete in time; an answer to a plain HTTP request
  /// (a static file, say) is then dropped once it has made no progress for
  /// this long (checked lazily: within twice this long).
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds idle_timeout{120'000};  ///< nothing received: close (0: off)
  /// Ping when quiet this long; no pong in time: drop (0: off).
  std::chrono::milliseconds ping_interval{30'000};
  std::chrono::milliseconds close_timeout{5'000};     ///< wait for the peer's close / end
  std::chrono::milliseconds shutdown_timeout{5'000};  ///< graceful shutdown bound

  /// `run()` stops gracefully on SIGINT, SIGTERM and SIGQUIT, which it blocks and
  /// reads through a signalfd: threads the application started before
  /// `run()` should block them too, or one of them may take the signal.
  /// False leaves signals to the application (call `stop()` yourself).
  bool handle_signals = true;
  /// With `handle_signals`: called on the first loop's thread each time the
  /// process gets SIGHUP while `run()` runs (to read a configuration again,
  /// say), after the TLS certificate and key are read again (`reload_tls()`).
  /// Unset, without TLS: SIGHUP is left alone.
  std::function<void()> on_hangup;
  /// Connection-level log lines; warnings go to stderr when this is empty.
  /// Called on loop threads (see `LogSink`).
  LogSink log;
};

/// What a route may set differently from the server's defaults.
struct RouteOptions {
  std::optional<std::uint64_t> max_message_size;  ///< as ServerOptions::max_message_size
  std::optional<std::size_t> fragment_size;       ///< as ServerOptions::fragment_size
  std::optional<std::uint32_t> max_fragments;     ///< as ServerOptions::max_fragments
  std::optional<std::uint32_t>
      max_messages_per_second;  ///< as ServerOptions::max_messages_per_second
  std::optional<std::uint64_t>
      max_inflate_per_second;  ///< as ServerOptions::max_inflate_per_second
  /// permessage-deflate on this route (with `ServerOptions::deflate`'s
  /// settings, enabled or not there); unset: as the server.
  std::optional<bool> compression;
  std::optional<std::chrono::milliseconds> idle_timeout;   ///< as ServerOptions::idle_timeout
  std::optional<std::chrono::milliseconds> ping_interval;  ///< as ServerOptions::ping_interval
  std::optional<std::size_t> max_backpressure;             ///< as ServerOptions::max_backpressure
  std::optional<SlowConsumerPolicy> slow_consumer;         ///< as ServerOptions::slow_consumer
  std::optional<CloseCode>
      slow_consumer_close_code;  ///< as ServerOptions::slow_consumer_close_code
};

namespace detail {
struct ServerState;  // the server's internals
}

/// A WebSocket and HTTP server: routes, publish/subscribe, one event loop
/// per thread. See the file comment for its threading rules.
class Server {
 public:
  /// A server with `options`; nothing listens until `listen()` or `run()`.
  explicit Server(ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Adds a WebSocket route: an exact path, or "*" for every path without a
  /// route of its own. `UsageError::server_running` (and nothing added)
  /// once the server listens: routes are read by every loop thread.
  std::error_code websocket(std::string path, Handlers<> handlers, RouteOptions options = {});
  /// A route whose connections each carry a `Data` (see handlers.hpp).
  template <typename Data>
  std::error_code websocket(std::string path, Handlers<Data> handlers, RouteOptions options = {}) {
    return add_route(std::move(path), detail::make_callbacks(std::move(handlers)),
                     std::move(options));
  }
  /// A GET/HEAD handler for a path; HEAD gets the same headers without the
  /// body. `UsageError::server_running` once the server listens.
  std::error_code http(std::string path, HttpHandler handler);
  /// A POST handler for a path (beside, or instead of, a GET one). The body
  /// must come with a Content-Length of at most `max_http_body` (411, 413
  /// otherwise) and within the handshake timeout. `UsageError::server_running`
  /// once the server listens.
  std::error_code http_post(std::string path, HttpHandler handler);

  /// Binds the listening sockets and loads the TLS certificate; `run()`
  /// does it if not done before. The status says what failed (which file
  /// OpenSSL could not use, and why).
  Status listen();
  /// The bound port (useful with port 0), after `listen()`.
  std::uint16_t port() const noexcept;
  /// Serves until `stop()` or a signal; returns after the graceful shutdown.
  Status run();
  /// Thread-safe: closes every connection with 1001, waits up to
  /// `shutdown_timeout`, then makes `run()` return.
  void stop();
  /// Thread-safe: reads the TLS certificate chain and key files again (a
  /// renewed certificate); connections accepted from then on use them,
  /// open ones keep theirs. On failure the old ones stay and the status
  /// says why. Without TLS there is nothing to do. `run()` does it on SIGHUP.
  Status reload_tls();

  /// Thread-safe: sends to every subscriber of `topic` (framed once,
  /// shared by all of them). Messages from one thread reach each subscriber
  /// in order. `UsageError::invalid_opcode` for anything but text or binary.
  std::error_code publish(std::string_view topic, std::string_view data,
                          Opcode opcode = Opcode::text);

  /// The number of event loops, after `listen()` (0 before, and after
  /// `run()` returned).
  std::size_t loop_count() const;
  /// The kernel interface the loops use (what `ServerOptions::io` came to);
  /// `IoBackend::automatic` before `listen()`.
  IoBackend io_backend() const;
  /// Loop `index` (< `loop_count()`): post work there or set timers. Valid
  /// from `listen()` until `run()` returns.
  Loop& loop(std::size_t index = 0);
  /// Thread-safe: runs `fn` on the first loop. False (and `fn` dropped)
  /// when the server is not listening.
  bool post(std::function<void()> fn);

  /// Thread-safe counts: subscribers of a topic on every loop, and the
  /// server's statistics.
  /// @{
  std::size_t subscriber_count(std::string_view topic) const;
  ServerStats stats() const;
  /// @}

 private:
  std::error_code add_route(std::string path, std::shared_ptr<const detail::Callbacks> callbacks,
                            RouteOptions options);
  // SIGHUP: reload_tls(), then ServerOptions::on_hangup.
  void hang_up();

  std::unique_ptr<detail::ServerState> state_;
};

}  // namespace duplex
