// What every scenario of duplex_interop_client shares: its verdict, the
// payloads it sends, the close it saw, and a client run that cannot hang.
#pragma once

#include <duplex/client.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace interop {

// Where a scenario connects, and the options its connections start from
// (certificate checks, permessage-deflate: the command line's) before the
// scenario adds its own.
struct Target {
  std::string url;
  duplex::ClientOptions options;
};

// A scenario's verdict: a one-line summary when it passed, the reason when not.
struct Outcome {
  bool passed = false;
  std::string text;
};

inline Outcome pass(std::string summary) {
  return {true, std::move(summary)};
}
inline Outcome fail(std::string reason) {
  return {false, std::move(reason)};
}

// The sizes RFC 6455 framing treats differently: the 7-bit, 16-bit and 64-bit
// length encodings and the edges between them, then large messages.
inline constexpr std::size_t kMessageSizes[] = {
    0, 1, 125, 126, 127, 65535, 65536, 1024 * 1024, 16 * 1024 * 1024,
};

struct Payload {
  duplex::Opcode opcode = duplex::Opcode::text;
  std::string data;
};

// ASCII text of exactly `size` bytes, varied so that a shifted or truncated
// echo does not compare equal.
std::string text_of_size(std::size_t size);
// Bytes of every value (0x00 and 0xff included) in a pattern that does not
// repeat at frame or mask boundaries.
std::string binary_of_size(std::size_t size);

// "text 126 bytes", "binary 0 bytes".
std::string describe(const Payload& payload);
// Empty when `got` is exactly `sent`; otherwise what differs.
std::string difference(const Payload& sent, const duplex::Message& got);

// The close handshake as the client saw it.
struct CloseSeen {
  bool seen = false;
  duplex::CloseCode code = duplex::CloseCode::abnormal;
  std::string reason;

  void record(duplex::CloseCode c, std::string_view r) {
    seen = true;
    code = c;
    reason = std::string(r);
  }
  // "4001 \"bye now\"", or "no close" before on_close.
  std::string describe() const;
};

// Runs the client until its connections have ended; stops it after `limit`
// so that a peer that never answers fails the scenario instead of hanging it.
// False when the limit was reached.
bool run_bounded(duplex::Client& client, std::chrono::seconds limit);

}  // namespace interop
