// The scenarios duplex_interop_client runs against another library's server.
// Each opens one connection, checks what comes back byte for byte, and
// closes; none takes longer than its own time limit.
#pragma once

#include "scenario.hpp"

#include <duplex/client.hpp>

#include <optional>
#include <string>
#include <vector>

namespace interop {

// Sends `payloads` one at a time, each once the previous echo came back, and
// expects identical echoes, then a clean 1000 close. With
// `expected_subprotocol`, the negotiated subprotocol ("" for none) is checked
// on open.
struct EchoRun {
  duplex::ClientOptions options;
  std::vector<Payload> payloads;
  std::optional<std::string> expected_subprotocol;
  std::chrono::seconds limit{30};
};
Outcome run_echo_sequence(const std::string& url, const EchoRun& run);

// Text and binary at every size of kMessageSizes.
Outcome echo_every_size(const std::string& url);
// Messages sent with ClientOptions::fragment_size, so that the peer receives
// them in several frames (text split inside UTF-8 sequences included).
Outcome echo_fragmented(const std::string& url);
// Offers `offered` in that order; the peer must pick `expected` ("" for none).
Outcome negotiate_subprotocol(const std::string& url, std::vector<std::string> offered,
                              const std::string& expected);

// Pings with several payloads; each pong must carry its ping's payload.
Outcome ping_peer(const std::string& url);
// Sends text `payload` to a route that pings with it: the ping must arrive with
// that payload and the peer must report the pong we answered with.
Outcome answer_peer_ping(const std::string& url, const std::string& payload);
// We start the close handshake; the peer must echo our code (RFC 6455 5.5.1)
// and, as the peers used here do, our reason: that echo is how we see that
// the reason arrived intact.
Outcome close_with(const std::string& url, unsigned code, const std::string& reason);
// The peer's /close route closes with the code and reason we ask for.
Outcome closed_by_peer(const std::string& url, unsigned code, const std::string& reason);

// The upgrade must be refused with `status` (and `body`, when given);
// `origin` (when not empty) goes out as the Origin header.
Outcome expect_rejection(const std::string& url, const std::string& origin, int status,
                         const std::optional<std::string>& body);

}  // namespace interop
