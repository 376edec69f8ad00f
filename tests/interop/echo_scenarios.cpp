// Scenarios whose check is an identical echo: sizes, fragmentation and
// subprotocol negotiation.
#include "scenarios.hpp"

#include <string_view>

namespace interop {

Outcome run_echo_sequence(const std::string& url, const EchoRun& run) {
  const std::vector<Payload>& payloads = run.payloads;
  std::size_t echoed = 0;
  bool greeted = !run.greeting;
  std::string failure;
  std::string connect_error;
  CloseSeen close;

  auto stop_with = [&](duplex::WebSocket& ws, std::string why) {
    failure = std::move(why);
    ws.close();
  };
  auto send_next = [&](duplex::WebSocket& ws) {
    if (echoed == payloads.size()) {
      ws.close();
      return;
    }
    const Payload& p = payloads[echoed];
    if (const auto ec = ws.send(p.data, p.opcode)) {
      stop_with(ws, "cannot send " + describe(p) + ": " + ec.message());
    }
  };

  duplex::Client client;
  duplex::Handlers<> handlers{
      .on_open =
          [&](duplex::WebSocket& ws) {
            const std::string_view chosen = ws.subprotocol();
            if (run.expected_subprotocol && chosen != *run.expected_subprotocol) {
              return stop_with(ws, "peer selected subprotocol \"" + std::string(chosen) +
                                       "\", expected \"" + *run.expected_subprotocol + "\"");
            }
            if (greeted) send_next(ws);
          },
      .on_message =
          [&](duplex::WebSocket& ws, duplex::Message m) {
            if (!failure.empty()) return;
            if (!greeted) {
              if (m.opcode != duplex::Opcode::text || m.data != *run.greeting) {
                return stop_with(ws, "peer said \"" + std::string(m.data.substr(0, 200)) +
                                         "\", expected \"" + *run.greeting + "\"");
              }
              greeted = true;
              return send_next(ws);
            }
            if (echoed == payloads.size()) {
              return stop_with(
                  ws, "unexpected extra message: " + describe({m.opcode, std::string(m.data)}));
            }
            if (auto why = difference(payloads[echoed], m); !why.empty()) {
              return stop_with(ws, "echo " + std::to_string(echoed + 1) + ": " + why);
            }
            ++echoed;
            send_next(ws);
          },
      .on_close = [&](duplex::WebSocket&, duplex::CloseCode code,
                      std::string_view reason) { close.record(code, reason); },
      .on_error = [&](const duplex::ConnectError& e) { connect_error = e.message(); },
  };
  if (const auto ec = client.connect(url, run.options, handlers)) {
    return fail("cannot connect to " + url + ": " + ec.message());
  }
  const bool in_time = run_bounded(client, run.limit);

  const std::string progress =
      std::to_string(echoed) + " of " + std::to_string(payloads.size()) + " echoes";
  if (!connect_error.empty()) return fail("cannot connect to " + url + ": " + connect_error);
  if (!failure.empty()) return fail(failure);
  if (!in_time) {
    return fail("timed out after " + std::to_string(run.limit.count()) + " s with " + progress);
  }
  if (!greeted) return fail("connection closed (" + close.describe() + ") before the greeting");
  if (echoed < payloads.size()) {
    return fail("connection closed (" + close.describe() + ") after " + progress);
  }
  if (close.code != duplex::CloseCode::normal) {
    return fail("our 1000 close was answered with " + close.describe());
  }
  return pass(progress + " identical");
}

Outcome echo_every_size(const Target& target) {
  EchoRun run;
  run.options = target.options;
  for (std::size_t size : kMessageSizes) {
    run.payloads.push_back({duplex::Opcode::text, text_of_size(size)});
    run.payloads.push_back({duplex::Opcode::binary, binary_of_size(size)});
  }
  run.limit = std::chrono::seconds{120};
  return run_echo_sequence(target.url, run);
}

Outcome echo_fragmented(const Target& target) {
  EchoRun run;
  run.options = target.options;
  // 1000 is not a multiple of 3, so frames of the three-byte "€" text end
  // inside a character: the peer must validate UTF-8 across frames.
  run.options.fragment_size = 1000;
  std::string euros;
  for (int i = 0; i < 3334; ++i) euros += "\u20ac";
  run.payloads = {
      {duplex::Opcode::text, "short enough for one frame"},
      {duplex::Opcode::text, text_of_size(1001)},
      {duplex::Opcode::text, text_of_size(10'000)},
      {duplex::Opcode::text, euros},
      {duplex::Opcode::binary, binary_of_size(65'536)},
      {duplex::Opcode::binary, binary_of_size(1024 * 1024)},
  };
  run.limit = std::chrono::seconds{60};
  return run_echo_sequence(target.url, run);
}

Outcome negotiate_subprotocol(const Target& target, std::vector<std::string> offered,
                              const std::string& expected) {
  EchoRun run;
  run.options = target.options;
  run.options.subprotocols = std::move(offered);
  run.expected_subprotocol = expected;
  run.payloads = {{duplex::Opcode::text, "hello over " + (expected.empty() ? "no" : expected)}};
  Outcome outcome = run_echo_sequence(target.url, run);
  if (outcome.passed) {
    outcome.text = "selected \"" + expected + "\", " + outcome.text;
  }
  return outcome;
}

}  // namespace interop
