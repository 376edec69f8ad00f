// A price feed published from a thread of the application. Clients ask for
// symbols with text messages ("subscribe AAPL", "unsubscribe AAPL"); a
// thread that is not one of the server's publishes simulated prices through
// Server::publish, which any thread may call: each price is framed once and
// reaches every subscriber of its symbol on every loop, in order.
//
//   price_feed [PORT] [TICK_MS]     (defaults 9002 and 100)
#include <duplex/server.hpp>

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>

namespace {

const char* const symbols[] = {"AAPL", "MSFT", "NVDA"};

bool known(std::string_view symbol) {
  for (const char* s : symbols) {
    if (symbol == s) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 9002);
  const std::chrono::milliseconds tick(argc > 2 ? std::atoi(argv[2]) : 100);

  duplex::Server server({.port = port});
  server.websocket("/prices", {
                                  .on_message =
                                      [](duplex::WebSocket& ws, duplex::Message m) {
                                        const std::string_view text = m.data;
                                        const std::size_t space = text.find(' ');
                                        const std::string_view verb = text.substr(0, space);
                                        const std::string_view symbol =
                                            space == std::string_view::npos
                                                ? std::string_view{}
                                                : text.substr(space + 1);
                                        if (!known(symbol)) {
                                          ws.send("error: unknown symbol");
                                        } else if (verb == "subscribe") {
                                          ws.subscribe("price:" + std::string(symbol));
                                        } else if (verb == "unsubscribe") {
                                          ws.unsubscribe("price:" + std::string(symbol));
                                        } else {
                                          ws.send("error: say subscribe or unsubscribe");
                                        }
                                      },
                              });
  if (const duplex::Status listening = server.listen(); !listening) {
    std::fprintf(stderr, "price_feed: %s\n", listening.message().c_str());
    return 1;
  }
  std::printf("listening on ws://127.0.0.1:%u/prices\n", server.port());
  std::fflush(stdout);

  // The feed: an application thread. It blocks SIGINT and SIGTERM, which
  // the server reads through its signalfd (a thread that did not block them
  // could take the signal instead).
  std::atomic<bool> running{true};
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread feed([&] {
    std::mt19937 rng(42);
    std::normal_distribution<double> move(0.0, 0.2);
    double prices[] = {190.0, 410.0, 120.0};
    while (running.load()) {
      for (std::size_t i = 0; i < std::size(prices); ++i) {
        prices[i] += move(rng);
        char text[64];
        std::snprintf(text, sizeof text, "%s %.2f", symbols[i], prices[i]);
        server.publish("price:" + std::string(symbols[i]), text);
      }
      std::this_thread::sleep_for(tick);
    }
  });
  const duplex::Status ran = server.run();
  running = false;
  feed.join();
  return ran ? 0 : 1;
}
