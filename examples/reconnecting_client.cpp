// A client that keeps its connection: when it cannot connect, or the
// connection ends, it tries again after a backoff that doubles each time
// (with jitter, up to a cap), on a timer of the client's own loop: no
// thread of its own. Each time it opens it says hello again (what an
// application re-sends: its credentials, its subscriptions).
//
//   reconnecting_client URL SESSIONS     (exits 0 after SESSIONS connections
//                                         have opened and ended; 1 after
//                                         too many failures in a row)
#include <duplex/client.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

namespace {

using namespace std::chrono_literals;

class Reconnector {
 public:
  Reconnector(duplex::Client& client, std::string url, int sessions)
      : client_(client), url_(std::move(url)), sessions_wanted_(sessions) {}

  void connect() {
    const std::error_code ec = client_.connect(
        url_, {},
        {
            .on_open =
                [this](duplex::WebSocket& ws) {
                  failures_ = 0;  // a success resets the backoff
                  ++sessions_;
                  ws.send("hello " + std::to_string(sessions_));
                },
            .on_message =
                [](duplex::WebSocket&, duplex::Message m) {
                  std::printf("got: %.*s\n", static_cast<int>(m.data.size()), m.data.data());
                  std::fflush(stdout);
                },
            .on_close =
                [this](duplex::WebSocket&, duplex::CloseCode code, std::string_view) {
                  std::printf("session %d ended (%u)\n", sessions_, static_cast<unsigned>(code));
                  std::fflush(stdout);
                  if (sessions_ < sessions_wanted_) retry();
                },
            .on_error =
                [this](const duplex::ConnectError& e) {
                  std::printf("cannot connect: %s\n", e.message().c_str());
                  std::fflush(stdout);
                  retry();
                },
        });
    if (ec) {
      std::fprintf(stderr, "reconnecting_client: %s\n", ec.message().c_str());
      std::exit(2);
    }
  }

  bool done() const { return sessions_ >= sessions_wanted_; }

 private:
  void retry() {
    if (++failures_ > max_failures) {
      std::printf("giving up after %d tries\n", max_failures);
      return;  // nothing left to wait for: run() returns
    }
    // 100 ms, 200 ms, 400 ms ... up to 2 s, each +-20% so that many clients
    // that lost the same server do not all come back at the same moment.
    const auto base = std::min<std::chrono::milliseconds>(100ms * (1 << (failures_ - 1)), 2s);
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    const auto delay = std::chrono::milliseconds(
        static_cast<long>(static_cast<double>(base.count()) * jitter(rng_)));
    client_.loop().after(delay, [this] { connect(); });
  }

  static constexpr int max_failures = 10;
  duplex::Client& client_;
  std::string url_;
  int sessions_wanted_;
  int sessions_ = 0;
  int failures_ = 0;
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: reconnecting_client URL SESSIONS\n");
    return 2;
  }
  duplex::Client client;
  Reconnector keeper(client, argv[1], std::atoi(argv[2]));
  keeper.connect();
  client.run();  // runs while a connection or a retry timer is pending
  return keeper.done() ? 0 : 1;
}
