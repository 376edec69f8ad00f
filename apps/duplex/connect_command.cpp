// `duplex connect URL`: an interactive and pipe-friendly client. Lines of
// stdin go out as text messages (or stdin chunks as binary ones), messages
// received are printed one per line; --echo answers every message instead.
#include "commands.hpp"
#include "deflate_flags.hpp"

#include <duplex/client.hpp>
#include <duplex/url.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace duplex::cli {
namespace {

struct ConnectArgs {
  std::string url;
  bool binary = false;
  std::vector<std::string> subprotocols;
  std::vector<std::string> headers;
  std::string origin;
  double ping_interval = 0;
  double connect_timeout = 10;
  std::uint64_t max_message = 16 * 1024 * 1024;
  std::size_t fragment_size = 0;
  bool echo = false;
  bool verbose = false;
  std::string cacert;
  bool insecure = false;
  DeflateOptions deflate;
};

// State shared by the handlers, all on the client's loop thread.
struct Session {
  WebSocket* ws = nullptr;
  std::vector<std::pair<std::string, bool>> pending;  // stdin read before the open
  bool stdin_done = false;
  bool we_closed = false;
  bool closed = false;
  CloseCode code = CloseCode::abnormal;
  std::string reason;
  std::string connect_error;

  void send(const std::string& data, bool binary) {
    if (!ws) {
      pending.emplace_back(data, binary);
      return;
    }
    ws->send(data, binary ? Opcode::binary : Opcode::text);
  }
  void finish_input() {
    stdin_done = true;
    if (ws && ws->is_open()) {
      we_closed = true;
      ws->close(CloseCode::normal);
    }
  }
};

// Reads stdin on a thread of its own (stdin may be a file, which epoll cannot
// watch) and hands each line to the client's loop. The thread blocks in
// read() and may outlive the client: it posts through a LoopHandle, which
// drops what arrives after the loop is gone.
void read_stdin(LoopHandle loop, std::shared_ptr<Session> session, bool binary) {
  std::string line;
  char buf[64 * 1024];
  while (true) {
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) break;
    if (binary) {
      loop.post([session, chunk = std::string(buf, static_cast<std::size_t>(n))] {
        session->send(chunk, true);
      });
      continue;
    }
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] != '\n') {
        line += buf[i];
        continue;
      }
      if (!line.empty() && line.back() == '\r') line.pop_back();
      loop.post([session, text = std::move(line)] { session->send(text, false); });
      line.clear();
    }
  }
  if (!binary && !line.empty()) {
    loop.post([session, text = std::move(line)] { session->send(text, false); });
  }
  loop.post([session] { session->finish_input(); });
}

void print_message(Message m) {
  std::fwrite(m.data.data(), 1, m.data.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

int run_connect(const ConnectArgs& a) {
  WebSocketUrl url;
  if (const Status parsed = parse_websocket_url(a.url, url); !parsed) {
    std::fprintf(stderr, "duplex: %s: %s\n", escape_for_log(a.url).c_str(),
                 parsed.message().c_str());
    return 2;
  }
  ClientOptions options;
  options.subprotocols = a.subprotocols;
  options.origin = a.origin;
  options.max_message_size = a.max_message;
  options.fragment_size = a.fragment_size;
  options.ca_file = a.cacert;
  options.insecure_skip_verify = a.insecure;
  options.deflate = a.deflate;
  options.ping_interval =
      std::chrono::milliseconds(static_cast<std::int64_t>(a.ping_interval * 1000));
  // The whole opening is bounded by what the user asked for: name
  // resolution and TCP, then TLS and the upgrade.
  options.connect_timeout =
      std::chrono::milliseconds(static_cast<std::int64_t>(a.connect_timeout * 1000));
  options.handshake_timeout = options.connect_timeout;
  for (const std::string& h : a.headers) {
    const std::size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      std::fprintf(stderr, "duplex: --header expects NAME:VALUE, got \"%s\"\n", h.c_str());
      return 2;
    }
    std::string value = h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    options.headers.emplace_back(h.substr(0, colon), value);
  }

  auto session = std::make_shared<Session>();
  Client client;
  const bool echo = a.echo;
  const bool verbose = a.verbose;
  Handlers<> handlers{
      .on_open =
          [session, verbose, url_text = a.url](WebSocket& ws) {
            session->ws = &ws;
            if (verbose) {
              std::fprintf(stderr, "duplex: connected to %s%s%s%s%s\n", url_text.c_str(),
                           ws.subprotocol().empty() ? "" : " subprotocol=",
                           escape_for_log(ws.subprotocol()).c_str(),
                           ws.extensions().empty() ? "" : " extensions=",
                           escape_for_log(ws.extensions()).c_str());
            }
            for (const auto& [data, binary] : session->pending)
              ws.send(data, binary ? Opcode::binary : Opcode::text);
            session->pending.clear();
            if (session->stdin_done) session->finish_input();
          },
      .on_message =
          [echo](WebSocket& ws, Message m) {
            if (echo) {
              ws.send(m.data, m.opcode);
            } else {
              print_message(m);
            }
          },
      .on_close =
          [session](WebSocket&, CloseCode code, std::string_view reason) {
            session->closed = true;
            session->code = code;
            session->reason = std::string(reason);
            session->ws = nullptr;
          },
      .on_error = [session](const ConnectError& e) { session->connect_error = e.message(); },
  };
  if (const auto ec = client.connect(a.url, options, handlers)) {
    std::fprintf(stderr, "duplex: %s: %s\n", a.url.c_str(), ec.message().c_str());
    return 2;
  }
  if (!echo) std::thread(read_stdin, client.loop().handle(), session, a.binary).detach();
  client.run();

  if (!session->connect_error.empty()) {
    std::fprintf(stderr, "duplex: cannot connect to %s: %s\n", a.url.c_str(),
                 session->connect_error.c_str());
    return 1;
  }
  const bool normal = session->code == CloseCode::normal || session->code == CloseCode::going_away;
  if (!session->we_closed || !normal || verbose) {
    // "closed: 1000 normal closure: bye", "closed: 4001: bye now" (no name).
    const std::string name(close_code_name(session->code));
    std::fprintf(stderr, "duplex: closed: %u%s%s%s%s\n", static_cast<unsigned>(session->code),
                 name.empty() ? "" : " ", name.c_str(), session->reason.empty() ? "" : ": ",
                 escape_for_log(session->reason).c_str());  // the server's text
  }

  return normal ? 0 : 1;
}

}  // namespace

Run add_connect_command(CLI::App& app) {
  auto args = std::make_shared<ConnectArgs>();
  CLI::App* cmd = app.add_subcommand(
      "connect", "Connect to a WebSocket server; stdin lines go out, messages come in");
  cmd->add_option("url", args->url, "ws:// URL")->required();
  cmd->add_flag("--binary", args->binary,
                "Send stdin in binary messages (chunks as read) instead of text lines");
  cmd->add_option("--subprotocol", args->subprotocols, "Offer this subprotocol (repeatable)");
  cmd->add_option("-H,--header", args->headers, "Extra request header NAME:VALUE (repeatable)");
  cmd->add_option("--origin", args->origin, "Origin header to send");
  cmd->add_option("--ping-interval", args->ping_interval,
                  "Ping the server this often (seconds, 0: never)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--connect-timeout", args->connect_timeout,
                  "Give up after this long for each step of the opening: name resolution and TCP, "
                  "then TLS and the upgrade (seconds)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-message", args->max_message, "Largest message accepted, in bytes")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40))
      ->capture_default_str();
  cmd->add_option("--fragment-size", args->fragment_size,
                  "Send messages longer than this in frames of this many bytes (0: one frame)");
  cmd->add_flag("--echo", args->echo, "Send every message back unchanged; do not read stdin");

  cmd->add_option("--cacert", args->cacert, "Trust the CA certificates in this PEM file (wss://)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--insecure", args->insecure,
                "Do not check the server's certificate at all (wss://): for tests only");
  add_deflate_flags(cmd, args->deflate);
  cmd->add_flag("-v,--verbose", args->verbose, "Report the connection and its close on stderr");
  return [args] { return run_connect(*args); };
}

}  // namespace duplex::cli
