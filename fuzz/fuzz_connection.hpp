// Shared body of the connection fuzz targets: the first bytes choose options
// and how the rest is cut into reads; the connection must never crash, and
// what it writes must always be well-formed frames.
#pragma once

#include <duplex/protocol/connection.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace duplex::fuzz {

using namespace duplex::protocol;

class FixedMask final : public MaskKeySource {
 public:
  MaskKey next() override { return {1, 2, 3, 4}; }
};

// Parses our own output: it must be a sequence of complete, valid frames.
inline void check_output(Connection& c, Role role) {
  std::vector<std::uint8_t> out;
  std::span<const std::uint8_t> parts[32];
  while (!c.output().empty()) {
    const std::size_t n = c.output().gather(parts);
    std::size_t total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      out.insert(out.end(), parts[i].begin(), parts[i].end());
      total += parts[i].size();
    }
    c.output().consume(total);
  }
  std::size_t at = 0;
  while (at < out.size()) {
    FrameHeader h;
    const auto r = decode_frame_header({out.data() + at, out.size() - at}, h);
    if (r.status != HeaderStatus::complete) std::abort();
    if (!is_known_opcode(h.opcode) || h.rsv != 0) std::abort();
    if (h.masked != (role == Role::client)) std::abort();
    if (is_control_opcode(h.opcode) && (h.payload_length > 125 || !h.fin)) std::abort();
    at += r.size;
    if (out.size() - at < h.payload_length) std::abort();
    at += h.payload_length;
  }
}

inline int run_connection(Role role, const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  FixedMask mask;
  ConnectionOptions options;
  options.role = role;
  options.max_message_size = 1 + (data[0] % 8) * 4096;
  options.max_frame_size = 1 + (data[1] % 8) * 2048;
  options.auto_pong = (data[0] & 0x80) == 0;
  options.mask_source = &mask;
  const std::size_t split = 1 + data[2] % 64;
  const bool echo = (data[1] & 0x80) != 0;
  Connection c(options);

  std::vector<std::uint8_t> input(data + 3, data + size);  // receive() unmasks in place
  std::size_t at = 0;
  while (at < input.size()) {
    const std::size_t n = std::min(split, input.size() - at);
    std::span<std::uint8_t> in(input.data() + at, n);
    at += n;
    for (Event e = c.receive(in); e; e = c.receive(in)) {
      if (e.type == EventType::message && echo) (void)c.send(e.opcode, e.payload);
      if (e.type == EventType::error && !e.error) std::abort();
      if (e.type == EventType::close && c.state() != ConnectionState::closed) std::abort();
    }
    if (!in.empty()) std::abort();
    check_output(c, role);
  }
  if (c.state() == ConnectionState::open) {
    (void)c.close(CloseCode::going_away, "done");
    check_output(c, role);
  }
  return 0;
}

}  // namespace duplex::fuzz
