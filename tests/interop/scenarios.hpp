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
// on open; with `greeting`, the peer's first message must be that text, and
// the payloads go out after it.
struct EchoRun {
  duplex::ClientOptions options;
  std::vector<Payload> payloads;
  std::optional<std::string> expected_subprotocol;
  std::optional<std::string> greeting;
  std::chrono::seconds limit{30};
};
Outcome run_echo_sequence(const std::string& url, const EchoRun& run);

// Text and binary at every size of kMessageSizes.
Outcome echo_every_size(const Target& target);
// Messages sent with ClientOptions::fragment_size, so that the peer receives
// them in several frames (text split inside UTF-8 sequences included).
Outcome echo_fragmented(const Target& target);
// Offers `offered` in that order; the peer must pick `expected` ("" for none).
Outcome negotiate_subprotocol(const Target& target, std::vector<std::string> offered,
                              const std::string& expected);

// Pings with several payloads; each pong must carry its ping's payload.
Outcome ping_peer(const Target& target);
// Sends text `payload` to a route that pings with it: the ping must arrive with
// that payload and the peer must report the pong we answered with.
Outcome answer_peer_ping(const Target& target, const std::string& payload);
// We start the close handshake; the peer must echo our code (RFC 6455 5.5.1)
// and, as the peers used here do, our reason: that echo is how we see that
// the reason arrived intact.
Outcome close_with(const Target& target, unsigned code, const std::string& reason);
// The peer's /close route closes with the code and reason we ask for.
Outcome closed_by_peer(const Target& target, unsigned code, const std::string& reason);
// `count` connections one after the other, each closed by us with 1000 at
// once: from our close to the end of Client::run() (the peer's close frame
// and its end of the TCP connection), each must take under `limit`, far less
// than ClientOptions::close_timeout (5 s) a missed end of connection costs.
Outcome close_promptly(const Target& target, unsigned count, std::chrono::milliseconds limit);

// The upgrade must be refused with `status` (and `body`, when given);
// `origin` (when not empty) goes out as the Origin header.
Outcome expect_rejection(const Target& target, const std::string& origin, int status,
                         const std::optional<std::string>& body);
// The connection must never open, and the error reported (ConnectError::message())
// must match `pattern` (ECMAScript regular expression, any case): a refused
// certificate, a handshake answer that breaks the protocol.
Outcome expect_connect_failure(const Target& target, const std::string& pattern);

// permessage-deflate against a peer route that first reports, in text
// "negotiated: EXTENSIONS", what it agreed to: that must be `negotiated`;
// then every message of deflate_payloads() must come back identical (the
// peer judges how ours arrived and closes with 4005 when it objects).
// With `refusal_allowed`, the client may instead refuse the peer's answer,
// if its error says it is about the extension ("extension", any case).
Outcome echo_deflate(const Target& target, const std::string& negotiated, bool refusal_allowed);
// Compressible and random text and binary at the sizes around the
// compression threshold and beyond, a message repeating a block farther back
// than a small window reaches, and one message twice in a row.
std::vector<Payload> deflate_payloads();

}  // namespace interop
