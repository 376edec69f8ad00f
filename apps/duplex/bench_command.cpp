// `duplex bench URL`: a load generator for echo servers. N connections each
// keep K messages in flight (send, wait for the echo, send again), for a
// fixed time after a warm-up; prints throughput and latency percentiles.
#include "bench_args.hpp"
#include "bench_phases.hpp"
#include "commands.hpp"
#include "deflate_flags.hpp"
#include "latency_histogram.hpp"

#include <duplex/client.hpp>
#include <duplex/url.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace duplex::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Everything the handlers touch runs on the client's loop thread.
struct BenchState {
  std::string payload;
  Opcode opcode = Opcode::binary;
  unsigned in_flight = 1;
  unsigned wanted = 0;
  unsigned opened = 0;
  unsigned failed = 0;
  std::string first_error;
  bool measuring = false;
  bool stopping = false;
  std::uint64_t messages = 0;    // echoes counted while measuring
  std::uint64_t mismatched = 0;  // echoes that differ from what was sent
  LatencyHistogram latency;
  std::vector<WebSocket*> sockets;
  std::vector<std::deque<Clock::time_point>> sent;  // per connection, in flight
};

}  // namespace

int run_echo_bench(const BenchArgs& a) {
  raise_fd_limit(a.connections);
  WebSocketUrl url;
  if (const Status parsed = parse_websocket_url(a.url, url); !parsed) {
    std::fprintf(stderr, "duplex: %s: %s\n", escape_for_log(a.url).c_str(),
                 parsed.message().c_str());
    return 2;
  }
  auto state = std::make_shared<BenchState>();
  state->payload.assign(a.size, 'x');
  for (std::size_t i = 0; i < a.size; ++i) state->payload[i] = static_cast<char>('a' + i % 26);
  state->opcode = a.text ? Opcode::text : Opcode::binary;
  state->in_flight = a.in_flight;
  state->wanted = a.connections;
  state->sent.resize(a.connections);

  Client client;
  ClientOptions options;
  options.max_message_size = std::max<std::uint64_t>(a.size + 1024, 1 << 20);
  options.max_backpressure = std::max<std::size_t>(a.size * a.in_flight * 2, 1 << 20);
  options.ca_file = a.cacert;
  options.insecure_skip_verify = a.insecure;
  options.deflate = a.deflate;
  for (unsigned i = 0; i < a.connections; ++i) {
    Handlers<> h{
        .on_open =
            [state, i](WebSocket& ws) {
              state->sockets.push_back(&ws);
              ++state->opened;
              for (unsigned k = 0; k < state->in_flight; ++k) {
                state->sent[i].push_back(Clock::now());
                ws.send(state->payload, state->opcode);
              }
            },
        .on_message =
            [state, i](WebSocket& ws, Message m) {
              auto& queue = state->sent[i];

              const auto now = Clock::now();
              if (!queue.empty()) {
                if (state->measuring) {
                  state->latency.record(static_cast<std::uint64_t>(
                      std::chrono::duration_cast<std::chrono::microseconds>(now - queue.front())
                          .count()));
                  ++state->messages;
                  if (m.data.size() != state->payload.size() || m.opcode != state->opcode)
                    ++state->mismatched;
                }
                queue.pop_front();
              }
              if (state->stopping) return;
              queue.push_back(now);
              ws.send(state->payload, state->opcode);
            },
        .on_close = [state](WebSocket& ws, CloseCode,
                            std::string_view) { std::erase(state->sockets, &ws); },
        .on_error =
            [state](const ConnectError& e) {
              if (state->failed++ == 0) state->first_error = e.message();
            },
    };
    if (const auto ec = client.connect(a.url, options, h)) {
      std::fprintf(stderr, "duplex: %s: %s\n", a.url.c_str(), ec.message().c_str());
      return 2;
    }
  }

  const bool live = ::isatty(STDERR_FILENO) && !a.json;
  std::uint64_t last = 0;
  run_phases(client, a,
             {.all_connected = [&] { return state->opened + state->failed >= state->wanted; },
              .begin_measuring = [&] { state->measuring = true; },
              .each_second =
                  [&](int second) {
                    if (!live) return;
                    const std::uint64_t now = state->messages;
                    std::fprintf(stderr,
                                 "\r%3ds  %8s msg/s  p50 %6.2f ms  p99 %6.2f ms  conns %u   ",
                                 second, human_rate(static_cast<double>(now - last)).c_str(),
                                 state->latency.percentile(0.5) / 1000.0,
                                 state->latency.percentile(0.99) / 1000.0,
                                 static_cast<unsigned>(state->sockets.size()));
                    last = now;
                  },
              .end_measuring =
                  [&] {
                    state->measuring = false;
                    state->stopping = true;
                    if (live) std::fputc('\n', stderr);
                    for (WebSocket* ws : std::vector<WebSocket*>(state->sockets))
                      ws->close(CloseCode::normal);
                  }});

  if (state->opened == 0) {
    std::fprintf(stderr, "duplex: no connection opened: %s\n", state->first_error.c_str());
    return 1;
  }
  const double rate = static_cast<double>(state->messages) / a.duration;
  const auto& l = state->latency;
  if (a.json) {
    std::printf(
        "{\"connections\":%u,\"failed\":%u,\"size\":%zu,\"in_flight\":%u,\"duration\":%.3f,"
        "\"messages\":%llu,\"rate\":%.1f,\"p50_us\":%llu,\"p90_us\":%llu,\"p99_us\":%llu,"
        "\"max_us\":%llu,\"mismatched\":%llu}\n",
        state->opened, state->failed, a.size, a.in_flight, a.duration,
        static_cast<unsigned long long>(state->messages), rate,
        static_cast<unsigned long long>(l.percentile(0.5)),
        static_cast<unsigned long long>(l.percentile(0.9)),
        static_cast<unsigned long long>(l.percentile(0.99)),
        static_cast<unsigned long long>(l.max()),
        static_cast<unsigned long long>(state->mismatched));
  } else {
    std::printf("%u connections (%u failed), %zu-byte %s messages, %u in flight each, %.1f s\n",
                state->opened, state->failed, a.size, a.text ? "text" : "binary", a.in_flight,
                a.duration);
    std::printf("%llu messages, %s msg/s\n", static_cast<unsigned long long>(state->messages),
                human_rate(rate).c_str());
    std::printf("latency p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms\n",
                l.percentile(0.5) / 1000.0, l.percentile(0.9) / 1000.0, l.percentile(0.99) / 1000.0,
                static_cast<double>(l.max()) / 1000.0);
    if (state->failed) std::printf("first failure: %s\n", state->first_error.c_str());
  }
  if (state->mismatched) {
    std::fprintf(stderr, "duplex: %llu echoes did not match what was sent\n",
                 static_cast<unsigned long long>(state->mismatched));
    return 1;
  }
  return state->failed ? 1 : 0;
}

Run add_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Load-test a server: echo throughput and latency, or fan-out (--fanout)");
  cmd->add_option("url", args->url, "ws:// URL of an echo endpoint")->required();
  cmd->add_option("-c,--connections", args->connections, "Connections")
      ->check(CLI::Range(1u, 100000u))
      ->capture_default_str();
  cmd->add_option("-s,--size", args->size, "Message size in bytes")
      ->check(CLI::Range(std::size_t{0}, std::size_t{64} << 20))
      ->capture_default_str();
  cmd->add_option("-k,--in-flight", args->in_flight, "Messages in flight per connection")
      ->check(CLI::Range(1u, 100000u))
      ->capture_default_str();
  cmd->add_option("-d,--duration", args->duration, "Seconds to measure")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  cmd->add_option("-w,--warmup", args->warmup, "Seconds before measuring")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_flag("--text", args->text, "Send text messages (default binary)");
  cmd->add_flag("--json", args->json, "Print the result as one JSON object");
  cmd->add_option("--cacert", args->cacert, "Trust the CA certificates in this PEM file (wss://)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--insecure", args->insecure, "Do not check the server's certificate (wss://)");
  add_deflate_flags(cmd, args->deflate);
  cmd->add_flag(
      "--mark-window", args->mark_window,
      "Print \"measuring\" and \"measured\" on stderr when the measured time starts and ends");
  cmd->add_flag(
      "--fanout", args->fanout,
      "Fan-out instead of echo: every connection subscribes to a broadcast endpoint and the "
      "first one publishes, -k messages in flight; counts deliveries");
  const std::map<std::string, FanoutProtocol> protocols{{"raw", FanoutProtocol::raw},
                                                        {"centrifuge", FanoutProtocol::centrifuge},
                                                        {"socketio", FanoutProtocol::socketio}};
  cmd->add_option("--protocol", args->protocol,
                  "What --fanout speaks: raw (a broadcast endpoint), centrifuge (a push server's "
                  "channel \"bench\": duplex serve, Centrifugo) or socketio (Engine.IO 4; the "
                  "server's \"publish\" event emits \"msg\" to the room \"bench\")")
      ->transform(CLI::CheckedTransformer(protocols, CLI::ignore_case));
  return [args] { return args->fanout ? run_fanout_bench(*args) : run_echo_bench(*args); };
}

}  // namespace duplex::cli
