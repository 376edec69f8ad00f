// The Duplex client: connects to ws:// URLs on its own event loop.
//
//   duplex::Client client;
//   client.connect("ws://127.0.0.1:9002/echo", {}, {
//       .on_open = [](duplex::WebSocket& ws) { ws.send("hello"); },
//       .on_message = [](duplex::WebSocket& ws, duplex::Message m) { ws.close(); },
//   });
//   client.run();   // until every connection has ended
#pragma once

#include <duplex/client_error.hpp>
#include <duplex/log.hpp>
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

struct ClientOptions {
  std::vector<std::string> subprotocols;                     // offered, in order of preference
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  std::string origin;                                        // Origin header, if any
  std::uint64_t max_message_size = 16 * 1024 * 1024;
  std::size_t fragment_size =
      0;  // send messages longer than this in frames of this size (0: never)

  std::size_t max_backpressure = 1024 * 1024;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds ping_interval{0};  // 0: no pings of our own
  std::chrono::milliseconds close_timeout{5'000};

  // wss:// certificate checks: against the system's CA store by default, or
  // against the CAs in ca_file; the host name of the URL must match.
  std::string ca_file;
  // Turns every certificate check off. For tests against self-signed servers
  // only: anyone on the path can read and change the traffic.
  bool insecure_skip_verify = false;

  DeflateOptions deflate;  // offer permessage-deflate when enabled
};

// Why a connection never opened.
struct ConnectError {
  std::error_code error;  // refused, DNS failure, timeout, rejected handshake, ...
  int http_status = 0;    // the server's status when it rejected the upgrade
  std::string http_body;  // and the body it sent with it
  std::string detail;     // more about the failure (OpenSSL's reason for a TLS failure)

  std::string message() const;
};

struct ClientHandlers {
  std::function<void(WebSocket&)> on_open;
  std::function<void(WebSocket&, Message)> on_message;
  std::function<void(WebSocket&, std::string_view payload)> on_ping;
  std::function<void(WebSocket&, std::string_view payload)> on_pong;
  std::function<void(WebSocket&)> on_drain;
  std::function<void(WebSocket&, CloseCode, std::string_view reason)> on_close;
  std::function<void(const ConnectError&)> on_error;  // the connection never opened
};

class Client {
 public:
  Client();
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Starts connecting. URL errors are returned at once; everything later
  // (DNS, refused, timeout, rejected handshake) reaches handlers.on_error.
  std::error_code connect(std::string_view url, ClientOptions options, ClientHandlers handlers);
  // Runs the loop until every connection has ended, or stop().
  void run();
  // Thread-safe.
  void stop();
  // Thread-safe: runs `fn` on the client's loop thread.
  void post(std::function<void()> fn);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace duplex
