#include "fanout_protocols.hpp"

#include <cstring>

namespace duplex::cli {
namespace {

// The payload of the JSON protocols: "#" and the sequence number in 16 hex
// digits, then filler. Nothing else in their frames has a '#'.
std::string marked_payload(std::uint64_t seq, std::size_t size) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string p = "#";
  for (int shift = 60; shift >= 0; shift -= 4) p.push_back(hex[(seq >> shift) & 15]);
  if (p.size() < size) p.append(size - p.size(), 'f');
  return p;
}

std::optional<std::uint64_t> find_marked_seq(std::string_view frame) {
  const auto at = frame.find('#');
  if (at == std::string_view::npos || frame.size() - at < 17) return std::nullopt;
  std::uint64_t seq = 0;
  for (std::size_t i = at + 1; i < at + 17; ++i) {
    const char c = frame[i];
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return std::nullopt;
    seq = seq << 4 | static_cast<std::uint64_t>(digit);
  }
  return seq;
}

}  // namespace

std::string fanout_greeting(FanoutProtocol p) {
  if (p == FanoutProtocol::centrifuge) {
    return "{\"id\":1,\"connect\":{}}\n{\"id\":2,\"subscribe\":{\"channel\":\"bench\"}}";
  }
  return {};  // raw: nothing; Socket.IO: the server speaks first
}

std::string fanout_publish_frame(FanoutProtocol p, std::uint64_t seq, std::size_t size) {
  switch (p) {
    case FanoutProtocol::raw: {
      std::string payload(std::max<std::size_t>(size, 8), 'f');
      std::memcpy(payload.data(), &seq, sizeof seq);
      return payload;
    }
    case FanoutProtocol::centrifuge:
      // Ids from 3 on (1 and 2 were connect and subscribe).
      return "{\"id\":" + std::to_string(seq % 4000000000u + 3) +
             ",\"publish\":{\"channel\":\"bench\",\"data\":\"" + marked_payload(seq, size) + "\"}}";
    case FanoutProtocol::socketio: return "42[\"publish\",\"" + marked_payload(seq, size) + "\"]";
  }
  return {};
}

FanoutEvent read_fanout_frame(FanoutProtocol p, std::string_view frame) {
  FanoutEvent e;
  switch (p) {
    case FanoutProtocol::raw:
      e.ready = true;
      if (frame.size() >= 8) {
        std::uint64_t seq;
        std::memcpy(&seq, frame.data(), sizeof seq);
        e.seq = seq;
      }
      return e;
    case FanoutProtocol::centrifuge:
      if (frame == "{}") {
        e.reply = "{}";  // the server's ping
      } else if (frame.starts_with("{\"push\"")) {
        e.seq = find_marked_seq(frame);
      } else if (frame.find("\"id\":2,\"subscribe\"") != std::string_view::npos) {
        e.ready = true;
      }
      return e;
    case FanoutProtocol::socketio:
      if (frame == "2") {
        e.reply = "3";  // Engine.IO ping, pong
      } else if (frame.starts_with("0{")) {
        e.reply = "40";  // Engine.IO open: connect to the main namespace
      } else if (frame.starts_with("40")) {
        e.reply = "420[\"subscribe\",\"bench\"]";  // join the room, with ack 0
      } else if (frame.starts_with("430")) {
        e.ready = true;  // the ack
      } else if (frame.starts_with("42[\"msg\"")) {
        e.seq = find_marked_seq(frame);
      }
      return e;
  }
  return e;
}

}  // namespace duplex::cli
