// `duplex serve`: the Duplex server as a program: echo or broadcast on every
// path, optional static files, the timers and limits as options.
#include "commands.hpp"
#include "deflate_flags.hpp"
#include "limit_flags.hpp"
#include "log_format.hpp"
#include "push_flags.hpp"

#include "demo.hpp"

#include <duplex/push/push_server.hpp>
#include <duplex/server.hpp>
#include <duplex/transport_error.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace duplex::cli {
namespace {

struct ServeArgs {
  std::string host = "127.0.0.1";
  int port = 9002;
  unsigned threads = 0;
  std::string io = "auto";
  std::string static_dir;
  LimitArgs limits;
  std::vector<std::string> origins;
  bool allow_missing_origin = false;
  bool echo = false;
  bool broadcast = false;
  bool verbose = false;
  std::string tls_cert;
  std::string tls_key;
  bool no_tickets = false;
  DeflateOptions deflate;

  std::string log_format = "text";
  PushArgs push;         // the push server (default mode)
  bool no_demo = false;  // the push server alone
};

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost";
}

void log_close(WebSocket& ws, CloseCode code, std::string_view reason) {
  // The path and the reason come from the peer: escaped, so that they
  // cannot forge log lines or drive the terminal.
  std::fprintf(stderr, "duplex: WebSocket closed: %s %s %u %s\n", ws.remote_address().c_str(),
               escape_for_log(ws.path()).c_str(), static_cast<unsigned>(code),
               escape_for_log(reason).c_str());
}

int run_serve(const ServeArgs& a) {
  ServerOptions options;
  options.host = a.host;
  options.port = static_cast<std::uint16_t>(a.port);
  options.threads = a.threads;
  options.io = parse_io_backend(a.io).value_or(IoBackend::automatic);
  options.static_dir = a.static_dir;
  apply_limit_flags(a.limits, options);
  options.allowed_origins = a.origins;
  // With --origin, a request without an Origin (not from a browser) is
  // refused too, as the help says, unless asked otherwise.
  options.require_origin = !a.allow_missing_origin;
  options.tls.cert_file = a.tls_cert;
  options.tls.key_file = a.tls_key;
  options.tls.session_tickets = !a.no_tickets;
  options.deflate = a.deflate;
  const bool verbose = a.verbose;
  options.log = make_log_sink(a.log_format == "json" ? LogFormat::json : LogFormat::text, verbose);

  // The push server's options: the file's, the flags given, and the
  // demo's namespaces (chat, ticker, comments, answers) with the options
  // its page needs (a namespace of the same name in the file or the flags
  // wins). Read again on SIGHUP.
  auto make_push_options = [&a](push::PushOptions& o) {
    if (!build_push_options(a.push, is_loopback(a.host), o)) return false;
    for (auto& [name, channel_options] :
         a.no_demo ? decltype(demo::demo_namespaces()){} : demo::demo_namespaces()) {
      o.namespaces.emplace(name, channel_options);
    }
    return true;
  };
  std::unique_ptr<push::PushServer> push_server;
  bool api_usable = false;
  // SIGHUP reads the configuration again, on the server's first loop (set
  // before run(), which is when the push server exists).
  if (!a.echo && !a.broadcast) {
    options.on_hangup = [&push_server, &make_push_options, log = options.log] {
      push::PushOptions o;
      if (!push_server || !make_push_options(o)) return;  // the message says why; nothing changes
      push_server->reload(std::move(o));
      log(LogLevel::warning, "SIGHUP: configuration read again");
    };
  }
  Server server(options);
  if (!a.echo && !a.broadcast) {
    push::PushOptions push_opts;
    if (!make_push_options(push_opts)) return 1;
    api_usable = !push_opts.api_key.empty() || push_opts.api_insecure;
    push_server = std::make_unique<push::PushServer>(server, std::move(push_opts));
  }
  std::unique_ptr<demo::Demo> demo_app;
  if (a.echo || a.broadcast) {
    // Tools and benchmarks: every path echoes, or every message goes to
    // everyone (framed once for all of them, the sender included).
    Handlers<> route;
    if (a.broadcast) {
      route.on_open = [](WebSocket& ws) { ws.subscribe("broadcast"); };
      route.on_message = [](WebSocket& ws, Message m) {
        ws.publish("broadcast", m.data, m.opcode, true);
      };
    } else {
      route.on_message = [](WebSocket& ws, Message m) { ws.send(m.data, m.opcode); };
    }
    if (verbose) route.on_close = log_close;
    server.websocket("*", std::move(route));
  } else {
    if (!a.push.history_file.empty()) {
      if (const Status s = push_server->load_history(a.push.history_file); !s) {
        std::fprintf(stderr, "duplex: %s\n", s.message().c_str());
        if (s.error != std::errc::invalid_argument) return 1;  // unreadable: do not overwrite it
      }
      // Read once: a graceful stop writes it again. After a crash there is
      // none, so the next run starts new epochs and clients learn that
      // what came since the last stop is gone (rather than being offered
      // the old offsets again, with other publications behind them).
      std::remove(a.push.history_file.c_str());
    }
    // The demo: the page, its channels' producers, /demo/*, /echo.
    if (!a.no_demo) {
      demo_app = std::make_unique<demo::Demo>(server, *push_server, a.static_dir.empty());
    }
  }
  if (const Status listening = server.listen(); !listening) {
    if (listening.error == TransportError::tls_configuration) {
      std::fprintf(stderr, "duplex: %s\n", listening.detail.c_str());
    } else {
      std::fprintf(stderr, "duplex: cannot listen on %s:%d: %s\n", a.host.c_str(), a.port,
                   listening.error.message().c_str());
    }
    return 1;
  }
  const bool v6 = a.host.find(':') != std::string::npos;
  const std::string_view io = to_string(server.io_backend());
  // Tools wait for this line as it is: the URL ends it.
  std::printf("listening on %s://%s%s%s:%u\n", a.tls_cert.empty() ? "ws" : "wss", v6 ? "[" : "",
              a.host.c_str(), v6 ? "]" : "", static_cast<unsigned>(server.port()));
  if (demo_app) {
    std::printf("demo: open %s://%s%s%s:%u/ in a browser\n", a.tls_cert.empty() ? "http" : "https",
                v6 ? "[" : "", a.host.c_str(), v6 ? "]" : "", static_cast<unsigned>(server.port()));
  }
  if (push_server) {
    std::printf("push: %s://%s%s%s:%u/connection/websocket, API at /api/*%s\n",
                a.tls_cert.empty() ? "ws" : "wss", v6 ? "[" : "", a.host.c_str(), v6 ? "]" : "",
                static_cast<unsigned>(server.port()),
                api_usable ? "" : " (set --api-key to use it)");
  }
  std::printf("io: %.*s\n", static_cast<int>(io.size()), io.data());
  std::fflush(stdout);
  if (demo_app) demo_app->start();
  const Status ran = server.run();
  if (demo_app) demo_app->stop();
  if (push_server && !a.push.history_file.empty()) {
    if (const Status s = push_server->save_history(a.push.history_file); !s) {
      std::fprintf(stderr, "duplex: %s\n", s.message().c_str());
      return 1;
    }
  }
  if (!ran) {
    std::fprintf(stderr, "duplex: %s\n", ran.message().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

Run add_serve_command(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Run the WebSocket server: the push server and its demo, or echo, or broadcast");
  cmd->add_option("--host", args->host, "Address to listen on (0.0.0.0 or :: for every interface)")
      ->capture_default_str();
  cmd->add_option("--port", args->port, "TCP port (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "Event loops (0: one per CPU core)")
      ->check(CLI::Range(0u, 1024u))
      ->capture_default_str();
  cmd->add_option("--io", args->io,
                  "Kernel interface: io_uring, epoll, or auto (io_uring where the kernel allows "
                  "it; the DUPLEX_IO environment variable decides auto)")
      ->check(CLI::IsMember({"auto", "epoll", "io_uring"}))
      ->capture_default_str();
  cmd->add_option("--static", args->static_dir, "Serve files from this directory for GET/HEAD")
      ->check(CLI::ExistingDirectory);
  auto* origin =
      cmd->add_option("--origin", args->origins,
                      "Allowed Origin (repeatable; others, and requests without one, get 403)");
  cmd->add_flag("--allow-missing-origin", args->allow_missing_origin,
                "With --origin, also let requests without an Origin header (non-browser "
                "clients) through")
      ->needs(origin);

  auto* echo =
      cmd->add_flag("--echo", args->echo, "Send every message back to its sender (default)");
  cmd->add_flag("--broadcast", args->broadcast, "Send every message to every connected client")
      ->excludes(echo);
  auto* cert =
      cmd->add_option("--tls-cert", args->tls_cert, "Serve wss:// with this PEM certificate chain")
          ->check(CLI::ExistingFile);
  auto* key = cmd->add_option("--tls-key", args->tls_key, "The certificate's PEM private key")
                  ->check(CLI::ExistingFile);
  cmd->add_flag("--tls-no-tickets", args->no_tickets,
                "Issue no TLS 1.3 session tickets (~8 KiB less per connection, no resumption)")
      ->needs(cert);
  cert->needs(key);
  key->needs(cert);
  add_deflate_flags(cmd, args->deflate);
  add_limit_flags(cmd, args->limits);

  // The push server (Centrifugo's protocol and API), in the default mode.
  add_push_flags(cmd, args->push);
  cmd->add_option("--log-format", args->log_format,
                  "Log lines as text, or as JSON objects (time, level, msg) one per line")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->add_flag("--no-demo", args->no_demo,
                "The push server without the demo page and its channels' producers");
  cmd->add_flag("-v,--verbose", args->verbose, "Log one line per connection event");
  return [args] { return run_serve(*args); };
}

}  // namespace duplex::cli
