// duplex_interop_client: the Duplex client against another library's server,
// one scenario per run. Exit 0 and "ok: ..." when the scenario passed; exit 1
// and "FAIL: ..." with the reason when it did not; exit 2 on bad usage.
#include "scenarios.hpp"

#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::string_view kUsage =
    "usage: duplex_interop_client [OPTIONS] URL SCENARIO [ARGS]\n"
    "  sizes                        text and binary echoes at every framing size\n"
    "  fragmented                   echoes of messages we send in 1000-byte frames\n"
    "  ping                         pings must come back as pongs with their payloads\n"
    "  pinged PAYLOAD               send PAYLOAD; the peer pings with it, reports our pong\n"
    "  close CODE REASON            we close; the peer must echo CODE and REASON back\n"
    "  peer-close CODE REASON       send \"CODE REASON\"; the peer must close with them\n"
    "  close-time COUNT MS          COUNT times: our close to the connection's end under MS\n"
    "  subprotocol P1,P2 EXPECTED   offer P1,P2; the peer must pick EXPECTED (- for none)\n"
    "  rejected STATUS [BODY]       the upgrade must be refused with STATUS (and BODY)\n"
    "  origin ORIGIN STATUS         send Origin; expect STATUS (101: accepted, then an echo)\n"
    "  echo TEXT                    TEXT must come back\n"
    "  connect-fails PATTERN        must not open; the error must match PATTERN (regex)\n"
    "  deflate NEGOTIATED           the peer reports \"negotiated: NEGOTIATED\", then\n"
    "                               echoes compressible and random messages\n"
    "  deflate-or-refuse NEGOTIATED the same, or we refuse its answer (extension error)\n"
    "options (ClientOptions for every connection of the scenario):\n"
    "  --cacert PEM                 trust these CAs for wss:// (ca_file)\n"
    "  --insecure                   no certificate checks (insecure_skip_verify)\n"
    "  --deflate                    offer permessage-deflate, with\n"
    "    [--deflate-server-context-takeover] [--deflate-client-context-takeover]\n"
    "    [--deflate-server-window-bits N] [--deflate-client-window-bits N]\n";

std::optional<unsigned> number(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::vector<std::string> split_commas(std::string_view list) {
  std::vector<std::string> items;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    items.emplace_back(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return items;
}

std::optional<interop::Outcome> run_scenario(const interop::Target& target,
                                             std::string_view scenario,
                                             const std::vector<std::string>& args) {
  using namespace interop;
  const std::size_t n = args.size();
  if (scenario == "sizes" && n == 0) return echo_every_size(target);
  if (scenario == "fragmented" && n == 0) return echo_fragmented(target);
  if (scenario == "ping" && n == 0) return ping_peer(target);
  if (scenario == "pinged" && n == 1) return answer_peer_ping(target, args[0]);
  if (scenario == "close" && n == 2 && number(args[0])) {
    return close_with(target, *number(args[0]), args[1]);
  }
  if (scenario == "peer-close" && n == 2 && number(args[0])) {
    return closed_by_peer(target, *number(args[0]), args[1]);
  }
  if (scenario == "close-time" && n == 2 && number(args[0]) && number(args[1])) {
    return close_promptly(target, *number(args[0]), std::chrono::milliseconds(*number(args[1])));
  }
  if (scenario == "subprotocol" && n == 2) {
    return negotiate_subprotocol(target, split_commas(args[0]), args[1] == "-" ? "" : args[1]);
  }
  if (scenario == "rejected" && (n == 1 || n == 2) && number(args[0])) {
    const auto body = n == 2 ? std::optional<std::string>(args[1]) : std::nullopt;
    return expect_rejection(target, "", static_cast<int>(*number(args[0])), body);
  }
  if (scenario == "origin" && n == 2 && number(args[1])) {
    const int status = static_cast<int>(*number(args[1]));
    if (status != 101) return expect_rejection(target, args[0], status, std::nullopt);
    EchoRun run;
    run.options = target.options;
    run.options.origin = args[0];
    run.payloads = {{duplex::Opcode::text, "hello from " + args[0]}};
    return run_echo_sequence(target.url, run);
  }
  if (scenario == "echo" && n == 1) {
    EchoRun run;
    run.options = target.options;
    run.payloads = {{duplex::Opcode::text, args[0]}};
    return run_echo_sequence(target.url, run);
  }
  if (scenario == "connect-fails" && n == 1) return expect_connect_failure(target, args[0]);
  if (scenario == "deflate" && n == 1) return echo_deflate(target, args[0], false);
  if (scenario == "deflate-or-refuse" && n == 1) return echo_deflate(target, args[0], true);
  return std::nullopt;
}

std::optional<int> window_bits(std::string_view text) {
  const auto bits = number(text);
  if (!bits || *bits > 15) return std::nullopt;
  return static_cast<int>(*bits);
}

// The options before URL; the index of URL, or nothing on bad usage.
std::optional<int> parse_options(int argc, char** argv, duplex::ClientOptions& options) {
  int i = 1;
  for (; i < argc && std::string_view(argv[i]).starts_with("--"); ++i) {
    const std::string_view flag = argv[i];
    duplex::DeflateOptions& deflate = options.deflate;
    if (flag == "--insecure") {
      options.insecure_skip_verify = true;
    } else if (flag == "--deflate") {
      deflate.enabled = true;
    } else if (flag == "--deflate-server-context-takeover") {
      deflate.server_context_takeover = true;
    } else if (flag == "--deflate-client-context-takeover") {
      deflate.client_context_takeover = true;
    } else if (i + 1 >= argc) {
      return std::nullopt;
    } else if (flag == "--cacert") {
      options.ca_file = argv[++i];
    } else if (flag == "--deflate-server-window-bits" && window_bits(argv[i + 1])) {
      deflate.server_max_window_bits = *window_bits(argv[++i]);
    } else if (flag == "--deflate-client-window-bits" && window_bits(argv[i + 1])) {
      deflate.client_max_window_bits = *window_bits(argv[++i]);
    } else {
      return std::nullopt;
    }
  }
  return i;
}

}  // namespace

int main(int argc, char** argv) {
  interop::Target target;
  const auto first = parse_options(argc, argv, target.options);
  if (!first || argc - *first < 2) {
    std::fputs(kUsage.data(), stderr);
    return 2;
  }
  target.url = argv[*first];
  const std::string_view scenario = argv[*first + 1];
  const std::vector<std::string> args(argv + *first + 2, argv + argc);
  const auto outcome = run_scenario(target, scenario, args);
  if (!outcome) {
    std::fputs(kUsage.data(), stderr);
    return 2;
  }
  const char* url = target.url.c_str();
  const std::string name(scenario);
  if (!outcome->passed) {
    std::fprintf(stderr, "FAIL: %s %s: %s\n", name.c_str(), url, outcome->text.c_str());
    return 1;
  }
  std::printf("ok: %s %s: %s\n", name.c_str(), url, outcome->text.c_str());
  return 0;
}
