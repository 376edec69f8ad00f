// `duplex bench --fanout URL`: measures a server's fan-out. N connections
// subscribe to a broadcast endpoint (duplex serve --broadcast sends every
// message to every client); the first connection publishes, keeping K
// messages in flight: a message counts as done when all N connections have
// it. Reports deliveries per second and how long each message took to reach
// its last subscriber.
#include "bench_args.hpp"
#include "bench_phases.hpp"
#include "fanout_protocols.hpp"
#include "latency_histogram.hpp"

#include <duplex/client.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <thread>
#include <vector>

namespace duplex::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct InFlight {
  Clock::time_point sent;
  unsigned deliveries = 0;
};

struct FanoutState {
  FanoutProtocol protocol = FanoutProtocol::raw;
  std::size_t size = 8;
  unsigned subscribers = 0;
  unsigned in_flight = 1;
  unsigned opened = 0;
  unsigned failed = 0;
  std::string first_error;
  WebSocket* publisher = nullptr;
  std::vector<WebSocket*> sockets;
  std::uint64_t next_seq = 0;
  std::map<std::uint64_t, InFlight> pending;
  bool started = false;
  bool measuring = false;
  bool stopping = false;
  std::uint64_t deliveries = 0;
  std::uint64_t completed = 0;
  LatencyHistogram completion;  // publish to the last subscriber
  LatencyHistogram delivery;    // publish to each subscriber

  void publish() {
    if (!publisher || stopping) return;
    const std::uint64_t seq = next_seq++;
    pending[seq] = {Clock::now(), 0};
    publisher->send(fanout_publish_frame(protocol, seq, size),
                    protocol == FanoutProtocol::raw ? Opcode::binary : Opcode::text);
  }
  void fill_window() {
    while (pending.size() < in_flight && !stopping) publish();
  }
};

}  // namespace

void raise_fd_limit(std::size_t wanted) {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= wanted + 64) return;
  r.rlim_cur = std::min<rlim_t>(r.rlim_max, wanted + 64);
  ::setrlimit(RLIMIT_NOFILE, &r);
}

int run_fanout_bench(const BenchArgs& a) {
  raise_fd_limit(a.connections);
  auto state = std::make_shared<FanoutState>();
  state->protocol = a.protocol;
  state->size = std::max<std::size_t>(a.size, 8);
  state->subscribers = a.connections;
  state->in_flight = a.in_flight;

  Client client;
  ClientOptions options;
  options.max_message_size = std::max<std::uint64_t>(a.size + 1024, 1 << 20);
  options.ca_file = a.cacert;
  options.insecure_skip_verify = a.insecure;
  options.deflate = a.deflate;
  options.connect_timeout = std::chrono::seconds(30);
  options.handshake_timeout = std::chrono::seconds(30);
  for (unsigned i = 0; i < a.connections; ++i) {
    Handlers<> h{
        .on_open =
            [state](WebSocket& ws) {
              state->sockets.push_back(&ws);
              if (const std::string hello = fanout_greeting(state->protocol); !hello.empty()) {
                ws.send_text(hello);
              }
              if (state->protocol == FanoutProtocol::raw) {
                if (!state->publisher) state->publisher = &ws;
                ++state->opened;
              }
            },
        .on_message =
            [state](WebSocket& ws, Message m) {
              const FanoutEvent e = read_fanout_frame(state->protocol, m.data);
              if (!e.reply.empty()) ws.send_text(e.reply);
              if (e.ready && state->protocol != FanoutProtocol::raw) {
                if (!state->publisher) state->publisher = &ws;
                ++state->opened;
              }
              if (!e.seq) return;
              auto it = state->pending.find(*e.seq);
              if (it == state->pending.end()) return;
              const auto micros =
                  static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                 Clock::now() - it->second.sent)
                                                 .count());
              if (state->measuring) {
                ++state->deliveries;
                state->delivery.record(micros);
              }
              if (++it->second.deliveries < state->subscribers) return;
              if (state->measuring) {
                ++state->completed;
                state->completion.record(micros);
              }
              state->pending.erase(it);
              state->fill_window();
            },
        .on_close =
            [state](WebSocket& ws, CloseCode, std::string_view) {
              std::erase(state->sockets, &ws);
              if (state->publisher == &ws) state->publisher = nullptr;
            },
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

  run_phases(client, a,
             {.all_connected = [&] { return state->opened + state->failed >= state->subscribers; },
              .start = [&] { state->fill_window(); },
              .begin_measuring = [&] { state->measuring = true; },
              .end_measuring =
                  [&] {
                    state->measuring = false;
                    state->stopping = true;
                    for (WebSocket* ws : std::vector<WebSocket*>(state->sockets))
                      ws->close(CloseCode::normal);
                  }});

  if (state->opened == 0) {
    std::fprintf(stderr, "duplex: no connection opened: %s\n", state->first_error.c_str());
    return 1;
  }
  const double deliveries = static_cast<double>(state->deliveries) / a.duration;
  const double messages = static_cast<double>(state->completed) / a.duration;
  const auto& l = state->completion;
  if (a.json) {
    std::printf(
        "{\"subscribers\":%u,\"failed\":%u,\"size\":%zu,\"in_flight\":%u,\"duration\":%.3f,"
        "\"messages\":%llu,\"deliveries\":%llu,\"deliveries_per_second\":%.1f,\"messages_per_"
        "second\":%.2f,"
        "\"p50_us\":%llu,\"p99_us\":%llu,\"max_us\":%llu,"
        "\"delivery_p50_us\":%llu,\"delivery_p99_us\":%llu,\"delivery_p999_us\":%llu}\n",
        state->opened, state->failed, state->size, a.in_flight, a.duration,
        static_cast<unsigned long long>(state->completed),
        static_cast<unsigned long long>(state->deliveries), deliveries, messages,
        static_cast<unsigned long long>(l.percentile(0.5)),
        static_cast<unsigned long long>(l.percentile(0.99)),
        static_cast<unsigned long long>(l.max()),
        static_cast<unsigned long long>(state->delivery.percentile(0.5)),
        static_cast<unsigned long long>(state->delivery.percentile(0.99)),
        static_cast<unsigned long long>(state->delivery.percentile(0.999)));
  } else {
    std::printf("%u subscribers (%u failed), %zu-byte messages, %u in flight, %.1f s\n",
                state->opened, state->failed, state->size, a.in_flight, a.duration);
    std::printf("%s deliveries/s (%.1f messages/s, each to every subscriber)\n",
                human_rate(deliveries).c_str(), messages);
    std::printf("time to reach the last subscriber: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                l.percentile(0.5) / 1000.0, l.percentile(0.99) / 1000.0,
                static_cast<double>(l.max()) / 1000.0);
    const auto& d = state->delivery;
    std::printf("publish to each delivery: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms\n",
                d.percentile(0.5) / 1000.0, d.percentile(0.99) / 1000.0,
                d.percentile(0.999) / 1000.0);
    if (state->failed) std::printf("first failure: %s\n", state->first_error.c_str());
  }
  return state->failed || state->completed == 0 ? 1 : 0;
}

}  // namespace duplex::cli
