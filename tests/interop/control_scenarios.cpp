// Scenarios about control frames: ping/pong in both directions and the close
// handshake started by either side.
#include "scenarios.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>

namespace interop {
namespace {

// What one connection of a control scenario records, and its common ending.
struct Recorder {
  std::string failure;
  std::string connect_error;
  CloseSeen close;

  void stop_with(duplex::WebSocket& ws, std::string why) {
    if (failure.empty()) failure = std::move(why);
    ws.close();
  }
  duplex::Handlers<> handlers() {
    return {
        .on_message =
            [this](duplex::WebSocket& ws, duplex::Message m) {
              stop_with(ws, "unexpected message: \"" + std::string(m.data.substr(0, 80)) + "\"");
            },
        .on_close = [this](duplex::WebSocket&, duplex::CloseCode code,
                           std::string_view reason) { close.record(code, reason); },
        .on_error = [this](const duplex::ConnectError& e) { connect_error = e.message(); },
    };
  }
  // The failure that ended the run, or nothing when it ran to its end.
  std::optional<Outcome> run(duplex::Client& client, const Target& target,
                             const duplex::Handlers<>& h, std::chrono::seconds limit) {
    const std::string& url = target.url;
    if (const auto ec = client.connect(url, target.options, h)) {
      return fail("cannot connect to " + url + ": " + ec.message());
    }
    const bool in_time = run_bounded(client, limit);
    if (!connect_error.empty()) return fail("cannot connect to " + url + ": " + connect_error);
    if (!failure.empty()) return fail(failure);
    if (!in_time) return fail("timed out after " + std::to_string(limit.count()) + " s");
    return std::nullopt;
  }
};

constexpr std::chrono::seconds kLimit{15};

}  // namespace

Outcome ping_peer(const Target& target) {
  // Empty, ordinary, and the 125-byte maximum of a control frame.
  const std::vector<std::string> payloads = {"", "ping from duplex", std::string(125, 'p')};
  std::size_t answered = 0;
  Recorder recorder;
  duplex::Client client;
  auto send_next = [&](duplex::WebSocket& ws) {
    if (answered == payloads.size()) {
      ws.close();
      return;
    }
    if (const auto ec = ws.ping(payloads[answered])) {
      recorder.stop_with(ws, "cannot ping: " + ec.message());
    }
  };
  duplex::Handlers<> h = recorder.handlers();
  h.on_open = send_next;
  h.on_pong = [&](duplex::WebSocket& ws, std::string_view payload) {
    if (answered == payloads.size()) return recorder.stop_with(ws, "unexpected extra pong");
    if (payload != payloads[answered]) {
      return recorder.stop_with(ws, "ping of " + std::to_string(payloads[answered].size()) +
                                        " bytes answered by a pong of " +
                                        std::to_string(payload.size()) + " bytes \"" +
                                        std::string(payload) + "\"");
    }
    ++answered;
    send_next(ws);
  };
  if (auto failed = recorder.run(client, target, h, kLimit)) return *failed;
  if (answered < payloads.size()) {
    return fail(std::to_string(answered) + " of " + std::to_string(payloads.size()) +
                " pings answered before close " + recorder.close.describe());
  }
  return pass("pongs of 0, 16 and 125 bytes carried their pings' payloads");
}

Outcome answer_peer_ping(const Target& target, const std::string& payload) {
  bool pinged = false;
  bool reported = false;
  Recorder recorder;
  duplex::Client client;
  duplex::Handlers<> h = recorder.handlers();
  h.on_open = [&](duplex::WebSocket& ws) { ws.send(payload); };
  h.on_ping = [&](duplex::WebSocket& ws, std::string_view got) {
    if (got != payload) {
      return recorder.stop_with(
          ws, "peer's ping carried \"" + std::string(got) + "\", expected \"" + payload + "\"");
    }
    pinged = true;
  };
  h.on_message = [&](duplex::WebSocket& ws, duplex::Message m) {
    const std::string expected = "pong:" + payload;
    if (!pinged) return recorder.stop_with(ws, "message before the ping: " + std::string(m.data));
    if (m.data != expected) {
      return recorder.stop_with(
          ws, "peer reported \"" + std::string(m.data) + "\", expected \"" + expected + "\"");
    }
    reported = true;
    ws.close();
  };
  if (auto failed = recorder.run(client, target, h, kLimit)) return *failed;
  if (!reported) {
    return fail(std::string(pinged ? "pinged" : "never pinged") + ", no pong report before close " +
                recorder.close.describe());
  }
  return pass("pinged with \"" + payload + "\", the peer got our pong");
}

Outcome close_with(const Target& target, unsigned code, const std::string& reason) {
  Recorder recorder;
  duplex::Client client;
  duplex::Handlers<> h = recorder.handlers();
  h.on_open = [&](duplex::WebSocket& ws) {
    if (const auto ec = ws.close(static_cast<duplex::CloseCode>(code), reason)) {
      recorder.failure = "close(" + std::to_string(code) + ") refused: " + ec.message();
      ws.terminate();
    }
  };
  if (auto failed = recorder.run(client, target, h, kLimit)) return *failed;
  const CloseSeen& got = recorder.close;
  if (!got.seen || static_cast<unsigned>(got.code) != code || got.reason != reason) {
    return fail("closed with " + std::to_string(code) + " \"" + reason + "\", peer answered " +
                got.describe());
  }
  return pass("peer echoed " + got.describe());
}

Outcome closed_by_peer(const Target& target, unsigned code, const std::string& reason) {
  Recorder recorder;
  duplex::Client client;
  duplex::Handlers<> h = recorder.handlers();
  const std::string request = std::to_string(code) + (reason.empty() ? "" : " " + reason);
  h.on_open = [&](duplex::WebSocket& ws) { ws.send(request); };
  if (auto failed = recorder.run(client, target, h, kLimit)) return *failed;
  const CloseSeen& got = recorder.close;
  if (!got.seen || static_cast<unsigned>(got.code) != code || got.reason != reason) {
    return fail("asked the peer to close with " + std::to_string(code) + " \"" + reason +
                "\", got " + got.describe());
  }
  return pass("peer closed with " + got.describe());
}

Outcome close_promptly(const Target& target, unsigned count, std::chrono::milliseconds limit) {
  using Clock = std::chrono::steady_clock;
  std::chrono::milliseconds slowest{0};
  for (unsigned i = 0; i < count; ++i) {
    Recorder recorder;
    duplex::Client client;
    Clock::time_point closed_at{};
    duplex::Handlers<> h = recorder.handlers();
    h.on_open = [&](duplex::WebSocket& ws) {
      closed_at = Clock::now();
      ws.close();
    };
    if (auto failed = recorder.run(client, target, h, kLimit)) return *failed;
    if (closed_at == Clock::time_point{}) return fail("never opened");
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - closed_at);
    if (recorder.close.code != duplex::CloseCode::normal) {
      return fail("connection " + std::to_string(i + 1) + ": our 1000 was answered with " +
                  recorder.close.describe());
    }
    if (took >= limit) {
      return fail("connection " + std::to_string(i + 1) + " of " + std::to_string(count) +
                  " took " + std::to_string(took.count()) + " ms from our close to its end (" +
                  std::to_string(limit.count()) + " ms allowed)");
    }
    slowest = std::max(slowest, took);
  }
  return pass(std::to_string(count) + " closes, the slowest " + std::to_string(slowest.count()) +
              " ms from our close to the end of the connection");
}

}  // namespace interop
