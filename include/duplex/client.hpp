/// @file
/// The Duplex client: connects to ws:// and wss:// URLs on its own event
/// loop, one loop for all its connections.
///
///     duplex::Client client;
///     client.connect("ws://127.0.0.1:9002/echo", {}, {
///         .on_open = [](duplex::WebSocket& ws) { ws.send("hello"); },
///         .on_message = [](duplex::WebSocket& ws, duplex::Message m) { ws.close(); },
///         .on_error = [](const duplex::ConnectError& e) { std::puts(e.message().c_str()); },
///     });
///     client.run();   // until every connection has ended
///
/// Threading: `run()` runs the loop on the calling thread, where every
/// handler runs. `connect()` may be called before `run()`, from handlers, or
/// from work posted to the loop; `stop()`, `post()` and the `Loop` members
/// are thread-safe. Reconnecting is `connect()` again from `on_error` or
/// `on_close`, at once or from a timer (`loop().after(...)`): both keep
/// `run()` going.
#pragma once

#include <duplex/client_error.hpp>
#include <duplex/handlers.hpp>
#include <duplex/io_backend.hpp>
#include <duplex/log.hpp>
#include <duplex/loop.hpp>
#include <duplex/protocol/deflate_options.hpp>
#include <duplex/websocket.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace duplex {

/// permessage-deflate settings (RFC 7692).
using DeflateOptions = protocol::DeflateOptions;

/// One connection's settings.
struct ClientOptions {
  std::vector<std::string> subprotocols;                     ///< offered, in order of preference
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra request headers
  std::string origin;                                        ///< Origin header, if any
  std::uint64_t max_message_size = 16 * 1024 * 1024;         ///< larger: close 1009
  /// Send messages longer than this in frames of this size (0: never).
  std::size_t fragment_size = 0;

  std::size_t max_backpressure = 1024 * 1024;           ///< queued bytes before reading stops
  std::chrono::milliseconds connect_timeout{10'000};    ///< DNS and TCP
  std::chrono::milliseconds handshake_timeout{10'000};  ///< TLS and the HTTP upgrade
  std::chrono::milliseconds ping_interval{0};           ///< 0: no pings of our own
  /// How long to wait for the server's close frame and its end of TCP.
  std::chrono::milliseconds close_timeout{5'000};

  /// wss:// certificate checks: against the system's CA store by default,
  /// or against the CAs in `ca_file`; the host name of the URL must match.
  std::string ca_file;
  /// Turns every certificate check off. For tests against self-signed
  /// servers only: anyone on the path can read and change the traffic.
  bool insecure_skip_verify = false;

  DeflateOptions deflate;  ///< offer permessage-deflate when enabled
};

namespace detail {
struct ClientState;  // the client's internals
}

/// A WebSocket client: one event loop (run on the thread that calls
/// `run()`) for any number of connections. See the file comment for its
/// threading rules.
class Client {
 public:
  /// A client whose loop uses `io` (see `IoBackend`). Throws
  /// std::system_error when the system cannot make the loop (out of
  /// descriptors; io_uring asked for by name and refused).
  explicit Client(IoBackend io = IoBackend::automatic);
  /// The kernel interface the client's loop uses.
  IoBackend io_backend() const noexcept;
  /// Connections still open are dropped: each gets `on_close` (1006) and
  /// each still connecting `on_error` (`ClientError::cancelled`), on the
  /// destroying thread. Keep what the handlers use alive longer than the
  /// client.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Starts connecting. URL errors are returned at once; everything later
  /// (DNS, refused, timeout, rejected handshake) reaches `on_error`. From
  /// the loop's thread, or any thread while `run()` is not running.
  std::error_code connect(std::string_view url, ClientOptions options, Handlers<> handlers);
  /// A connection that carries a `Data` (see handlers.hpp), made when it
  /// starts and kept until it ends.
  template <typename Data>
  std::error_code connect(std::string_view url, ClientOptions options, Handlers<Data> handlers) {
    return start(url, std::move(options), detail::make_callbacks(std::move(handlers)));
  }

  /// Runs the loop on this thread until no connection is left and no timer
  /// of the loop is pending, or until `stop()` has closed everything.
  void run();
  /// Thread-safe: closes every open connection (1001, waiting up to its
  /// close timeout), cancels those still connecting (`on_error` with
  /// `ClientError::cancelled`), drops pending timers, and makes `run()`
  /// return once all have ended.
  void stop();

  /// The client's loop, for timers and posted work. Valid for the client's
  /// life; its thread is whichever runs `run()`.
  Loop& loop() noexcept;
  /// Thread-safe: runs `fn` on the client's loop.
  void post(std::function<void()> fn);

 private:
  std::error_code start(std::string_view url, ClientOptions options,
                        std::shared_ptr<const detail::Callbacks> callbacks);

  std::unique_ptr<detail::ClientState> state_;
};

}  // namespace duplex
