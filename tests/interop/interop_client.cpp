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
    "usage: duplex_interop_client URL SCENARIO [ARGS]\n"
    "  sizes                        text and binary echoes at every framing size\n"
    "  fragmented                   echoes of messages we send in 1000-byte frames\n"
    "  ping                         pings must come back as pongs with their payloads\n"
    "  pinged PAYLOAD               send PAYLOAD; the peer pings with it, reports our pong\n"
    "  close CODE REASON            we close; the peer must echo CODE and REASON back\n"
    "  peer-close CODE REASON       send \"CODE REASON\"; the peer must close with them\n"
    "  subprotocol P1,P2 EXPECTED   offer P1,P2; the peer must pick EXPECTED (- for none)\n"
    "  rejected STATUS [BODY]       the upgrade must be refused with STATUS (and BODY)\n"
    "  origin ORIGIN STATUS         send Origin; expect STATUS (101: accepted, then an echo)\n";

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

std::optional<interop::Outcome> run_scenario(const std::string& url, std::string_view scenario,
                                             const std::vector<std::string>& args) {
  using namespace interop;
  const std::size_t n = args.size();
  if (scenario == "sizes" && n == 0) return echo_every_size(url);
  if (scenario == "fragmented" && n == 0) return echo_fragmented(url);
  if (scenario == "ping" && n == 0) return ping_peer(url);
  if (scenario == "pinged" && n == 1) return answer_peer_ping(url, args[0]);
  if (scenario == "close" && n == 2 && number(args[0])) {
    return close_with(url, *number(args[0]), args[1]);
  }
  if (scenario == "peer-close" && n == 2 && number(args[0])) {
    return closed_by_peer(url, *number(args[0]), args[1]);
  }
  if (scenario == "subprotocol" && n == 2) {
    return negotiate_subprotocol(url, split_commas(args[0]), args[1] == "-" ? "" : args[1]);
  }
  if (scenario == "rejected" && (n == 1 || n == 2) && number(args[0])) {
    const auto body = n == 2 ? std::optional<std::string>(args[1]) : std::nullopt;
    return expect_rejection(url, "", static_cast<int>(*number(args[0])), body);
  }
  if (scenario == "origin" && n == 2 && number(args[1])) {
    const int status = static_cast<int>(*number(args[1]));
    if (status != 101) return expect_rejection(url, args[0], status, std::nullopt);
    EchoRun run;
    run.options.origin = args[0];
    run.payloads = {{duplex::Opcode::text, "hello from " + args[0]}};
    return run_echo_sequence(url, run);
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fputs(kUsage.data(), stderr);
    return 2;
  }
  const std::string url = argv[1];
  const std::string_view scenario = argv[2];
  const std::vector<std::string> args(argv + 3, argv + argc);
  const auto outcome = run_scenario(url, scenario, args);
  if (!outcome) {
    std::fputs(kUsage.data(), stderr);
    return 2;
  }
  if (!outcome->passed) {
    std::fprintf(stderr, "FAIL: %s %s: %s\n", argv[2], url.c_str(), outcome->text.c_str());
    return 1;
  }
  std::printf("ok: %s %s: %s\n", argv[2], url.c_str(), outcome->text.c_str());
  return 0;
}
