// What `duplex bench --fanout` speaks to the server under test: plain
// WebSocket broadcast (every message to everyone), Centrifugo's client
// protocol (duplex serve's push server, or Centrifugo), or Socket.IO's
// (Engine.IO 4 over WebSocket, a server whose "publish" event emits "msg"
// to the room "bench"). Each subscriber reports itself ready once the
// server confirmed its subscription.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace duplex::cli {

enum class FanoutProtocol { raw, centrifuge, socketio };

// What one frame from the server means to a subscriber.
struct FanoutEvent {
  bool ready = false;                // its subscription is confirmed
  std::optional<std::uint64_t> seq;  // a delivery of message `seq`
  std::string reply;                 // to send back (a pong, the next handshake step)
};

// The text a subscriber sends when its connection opens (may be empty).
std::string fanout_greeting(FanoutProtocol p);

// The frame that publishes message `seq` with a payload of about `size`
// bytes (a text frame but for raw, which is binary: the first 8 bytes are
// the sequence number).
std::string fanout_publish_frame(FanoutProtocol p, std::uint64_t seq, std::size_t size);

FanoutEvent read_fanout_frame(FanoutProtocol p, std::string_view frame);

}  // namespace duplex::cli
