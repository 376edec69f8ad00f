// permessage-deflate against a peer server: what it agreed to, then echoes
// of messages that compress well, badly and not at all, at the sizes around
// the compression threshold, several in a row on one connection.
#include "scenarios.hpp"

#include <cstdint>
#include <random>
#include <regex>

namespace interop {
namespace {

// Periods of 16 bytes: 64 bytes of either compress to about 20.
std::string repeat_to(std::string_view unit, std::size_t size) {
  std::string out;
  out.reserve(size);
  while (out.size() < size) out.append(unit.substr(0, size - out.size()));
  return out;
}

std::string compressible_text(std::size_t size) {
  return repeat_to("duplex deflate! ", size);
}

std::string compressible_binary(std::size_t size) {
  static constexpr char kUnit[] =
      "\x00\xff\x7f\x80\x01\xfe\x10\xef\x00\xff\x7f\x80\x01\xfe\x10\xef";
  return repeat_to(std::string_view(kUnit, 16), size);
}

// The same bytes on every run; nothing repeats within a message.
std::string random_binary(std::size_t size, std::uint32_t seed) {
  std::mt19937 generator(seed);
  std::string bytes(size, '\0');
  for (char& b : bytes) b = static_cast<char>(generator() & 0xff);
  return bytes;
}

// Printable ASCII: about 6.6 bits a byte, so deflate gains little.
std::string random_text(std::size_t size, std::uint32_t seed) {
  std::string text = random_binary(size, seed);
  for (char& c : text) c = static_cast<char>(32 + static_cast<unsigned char>(c) % 95);
  return text;
}

constexpr std::size_t kDeflateSizes[] = {0, 1, 63, 64, 1000, 65536, 1024 * 1024};

}  // namespace

std::vector<Payload> deflate_payloads() {
  using duplex::Opcode;
  std::vector<Payload> payloads;
  for (std::size_t size : kDeflateSizes) {
    const auto seed = static_cast<std::uint32_t>(size);
    payloads.push_back({Opcode::text, compressible_text(size)});
    payloads.push_back({Opcode::binary, compressible_binary(size)});
    payloads.push_back({Opcode::text, random_text(size, seed)});
    payloads.push_back({Opcode::binary, random_binary(size, seed + 1)});
  }
  // Back-references 3000 bytes long: out of reach of a 512- or 1024-byte
  // window, so a compressor that exceeds the window it agreed to is caught
  // by the peer's decompressor.
  const std::string block = random_binary(3000, 3);
  std::string printable_block = block;
  for (char& c : printable_block) c = static_cast<char>(32 + static_cast<unsigned char>(c) % 95);
  payloads.push_back({Opcode::text, repeat_to(printable_block, 65536)});
  payloads.push_back({Opcode::binary, repeat_to(block, 1024 * 1024)});
  // The same message twice: with context takeover the second copy becomes
  // a reference to the first, without it the decompressor must not need one.
  // Short enough for the smallest window to reach back over (zlib's 512-byte
  // window keeps 262 bytes for look-ahead: 250 bytes back at most).
  const std::string twice = random_text(200, 99);
  payloads.push_back({Opcode::text, twice});
  payloads.push_back({Opcode::text, twice});
  return payloads;
}

Outcome echo_deflate(const Target& target, const std::string& negotiated, bool refusal_allowed) {
  EchoRun run;
  run.options = target.options;
  run.greeting = "negotiated: " + negotiated;
  run.payloads = deflate_payloads();
  run.limit = std::chrono::seconds{90};
  Outcome outcome = run_echo_sequence(target.url, run);
  if (outcome.passed) {
    outcome.text = "negotiated " + negotiated + ", " + outcome.text;
    return outcome;
  }
  // run_echo_sequence says "cannot connect to URL: REASON" when it never
  // opened; the URL, which names the route, must not count as the reason.
  static const std::regex about_the_extension("extension", std::regex::icase);
  const std::string never_opened = "cannot connect to " + target.url + ": ";
  if (refusal_allowed && outcome.text.starts_with(never_opened) &&
      std::regex_search(outcome.text.substr(never_opened.size()), about_the_extension)) {
    return pass("refused the answer: " + outcome.text.substr(never_opened.size()));
  }
  return outcome;
}

}  // namespace interop
