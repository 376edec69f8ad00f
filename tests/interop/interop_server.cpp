// duplex_interop_server: the Duplex server as other WebSocket libraries'
// clients see it in the interop tests. One route per behaviour under test:
//
//   /echo      every message back unchanged
//   /reject    the upgrade hook refuses with 403 "rejected by hook"
//   /protocol  selects chat.v2, else chat.v1, else no subprotocol; echoes
//   /close     text "CODE REASON": the server closes with that code and reason
//   /ping      text PAYLOAD: the server pings with PAYLOAD and answers the
//              pong with text "pong:PAYLOAD"
//   /sni       sends text "sni:NAME", NAME being the TLS server name the
//              client asked for (empty without one)
//   GET /last-close   "CODE REASON" of the last close /echo received ("none")
//
//   duplex_interop_server [--port N] [--origin O]... [--fragment-size N]
//       [--tls-cert PEM --tls-key PEM]
//       [--deflate [--deflate-server-context-takeover] [--deflate-client-context-takeover]
//        [--deflate-server-window-bits N] [--deflate-client-window-bits N]]
//
// Prints "listening on ws://127.0.0.1:PORT" (wss:// with --tls-cert) once
// bound; SIGTERM closes every connection with 1001 and exits 0. With
// --origin, requests that carry another Origin get 403 (those without one
// are let in). --fragment-size and --deflate apply to every route: they are
// server-wide options, so the tests run more instances rather than giving
// one route different framing. The --deflate flags are those of
// `duplex serve`, setting ServerOptions::deflate.
#include <duplex/server.hpp>

#include <any>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>

namespace {

constexpr std::string_view kUsage =
    "usage: duplex_interop_server [--port N] [--origin O]... [--fragment-size N]\n"
    "           [--tls-cert PEM --tls-key PEM]\n"
    "           [--deflate [--deflate-server-context-takeover] "
    "[--deflate-client-context-takeover]\n"
    "            [--deflate-server-window-bits N] [--deflate-client-window-bits N]]\n";

bool parse_number(std::string_view text, std::uint64_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Flags without a value.
bool parse_switch(std::string_view flag, duplex::ServerOptions& options) {
  if (flag == "--deflate") {
    options.deflate.enabled = true;
  } else if (flag == "--deflate-server-context-takeover") {
    options.deflate.server_context_takeover = true;
  } else if (flag == "--deflate-client-context-takeover") {
    options.deflate.client_context_takeover = true;
  } else {
    return false;
  }
  return true;
}

bool parse_arguments(int argc, char** argv, duplex::ServerOptions& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (parse_switch(flag, options)) continue;
    if (i + 1 >= argc) return false;
    const std::string_view value = argv[++i];
    std::uint64_t number = 0;
    if (flag == "--origin") {
      options.allowed_origins.emplace_back(value);
    } else if (flag == "--port" && parse_number(value, number) && number <= 65535) {
      options.port = static_cast<std::uint16_t>(number);
    } else if (flag == "--fragment-size" && parse_number(value, number)) {
      options.fragment_size = number;
    } else if (flag == "--tls-cert") {
      options.tls.cert_file = value;
    } else if (flag == "--tls-key") {
      options.tls.key_file = value;
    } else if (flag == "--deflate-server-window-bits" && parse_number(value, number) &&
               number <= 15) {
      options.deflate.server_max_window_bits = static_cast<int>(number);
    } else if (flag == "--deflate-client-window-bits" && parse_number(value, number) &&
               number <= 15) {
      options.deflate.client_max_window_bits = static_cast<int>(number);
    } else {
      return false;
    }
  }
  return options.tls.cert_file.empty() == options.tls.key_file.empty();
}

void echo(duplex::WebSocket& ws, duplex::Message m) {
  ws.send(m.data, m.opcode);
}

// A close reply need not repeat the reason (RFC 6455 5.5.1 suggests echoing
// only the code), so peers ask over HTTP whether their reason arrived intact.
class LastClose {
 public:
  void record(duplex::CloseCode code, std::string_view reason) {
    std::lock_guard lock(mutex_);
    text_ = std::to_string(static_cast<unsigned>(code)) + " " + std::string(reason);
  }
  std::string text() const {
    std::lock_guard lock(mutex_);
    return text_;
  }

 private:
  mutable std::mutex mutex_;
  std::string text_ = "none";
};

duplex::Handlers<> echo_route(std::shared_ptr<LastClose> last_close) {
  return {
      .on_message = echo,
      .on_close = [last_close](duplex::WebSocket&, duplex::CloseCode code,
                               std::string_view reason) { last_close->record(code, reason); },
  };
}

duplex::HttpHandler last_close_page(std::shared_ptr<LastClose> last_close) {
  return [last_close](const duplex::HttpRequest&, duplex::HttpResponse& response) {
    response.body = last_close->text();
  };
}

duplex::Handlers<> reject_route() {
  return {.on_upgrade = [](duplex::Upgrade& u) { u.reject(403, "rejected by hook"); }};
}

// The server's preference decides, not the order the client offered them in.
duplex::Handlers<> protocol_route() {
  return {
      .on_upgrade =
          [](duplex::Upgrade& u) {
            for (std::string_view wanted : {"chat.v2", "chat.v1"}) {
              for (std::string_view offered : u.subprotocols()) {
                if (offered == wanted) {
                  u.accept(wanted);
                  return;
                }
              }
            }
            u.accept();
          },
      .on_message = echo,
  };
}

// "CODE REASON" or just "CODE". Anything the library refuses to send (a code
// not allowed on the wire, a reason over 123 bytes) is reported back as text
// so that the peer's test says why it did not get the close it asked for.
void close_as_asked(duplex::WebSocket& ws, duplex::Message m) {
  const std::string_view text = m.data;
  const std::size_t space = text.find(' ');
  const std::string_view code_text = text.substr(0, space);
  const std::string_view reason = space == std::string_view::npos ? "" : text.substr(space + 1);
  std::uint64_t code = 0;
  if (!parse_number(code_text, code) || code > 0xffff) {
    ws.send("error: expected \"CODE REASON\", got \"" + std::string(text) + "\"");
    return;
  }
  if (const auto ec = ws.close(static_cast<duplex::CloseCode>(code), reason)) {
    ws.send("error: close refused: " + ec.message());
  }
}

duplex::Handlers<> close_route() {
  return {.on_message = close_as_asked};
}

duplex::Handlers<> ping_route() {
  return {
      .on_message =
          [](duplex::WebSocket& ws, duplex::Message m) {
            if (const auto ec = ws.ping(m.data)) ws.send("error: ping refused: " + ec.message());
          },
      .on_pong = [](duplex::WebSocket& ws,
                    std::string_view payload) { ws.send("pong:" + std::string(payload)); },
  };
}

// The host name of the TLS handshake (SNI), as the upgrade hook sees it,
// kept in the connection's typed data.
struct ServerName {
  std::string name;
};
duplex::Handlers<ServerName> server_name_route() {
  return {
      .on_upgrade =
          [](duplex::Upgrade& u, ServerName& sni) {
            sni.name = std::string(u.server_name());
            u.accept();
          },
      .on_open = [](duplex::WebSocket& ws, ServerName& sni) { ws.send("sni:" + sni.name); },
  };
}

}  // namespace

int main(int argc, char** argv) {
  duplex::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  // One event loop is plenty for checks that run one connection at a time.
  options.threads = 1;
  // Keep-alive pings of our own would reach the /ping route's on_pong and
  // add messages the peer does not expect.
  options.ping_interval = std::chrono::milliseconds{0};
  if (!parse_arguments(argc, argv, options)) {
    std::fputs(kUsage.data(), stderr);
    return 2;
  }

  duplex::Server server(options);
  auto last_close = std::make_shared<LastClose>();
  server.websocket("/echo", echo_route(last_close));
  server.http("/last-close", last_close_page(last_close));
  server.websocket("/reject", reject_route());
  server.websocket("/protocol", protocol_route());
  server.websocket("/close", close_route());
  server.websocket("/ping", ping_route());
  server.websocket<ServerName>("/sni", server_name_route());

  if (const duplex::Status listening = server.listen(); !listening) {
    std::fprintf(stderr, "duplex_interop_server: cannot listen: %s\n", listening.message().c_str());
    return 1;
  }
  const char* scheme = options.tls.cert_file.empty() ? "ws" : "wss";
  std::printf("listening on %s://127.0.0.1:%u\n", scheme, static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  if (const duplex::Status ran = server.run(); !ran) {
    std::fprintf(stderr, "duplex_interop_server: %s\n", ran.message().c_str());
    return 1;
  }
  return 0;
}
