// Fuzzes permessage-deflate decoding: arbitrary bytes as a compressed
// message, cut into pieces, must never crash or exceed the size limit; and
// whatever we compress must come back unchanged.
#include "protocol/deflate_codec.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>

using namespace duplex::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  duplex::protocol::DeflateOptions options;
  options.enabled = true;
  options.threshold = 0;
  DeflateParams params;
  params.server_no_context_takeover = data[0] & 1;
  params.client_no_context_takeover = data[0] & 2;
  params.server_max_window_bits = 9 + (data[0] >> 2) % 7;
  const std::size_t limit = 1 + (data[1] % 16) * 4096;
  const std::size_t piece = 1 + data[1] % 97;
  data += 2;
  size -= 2;

  // Arbitrary input as a compressed message, in pieces.
  DeflateCodec receiver(Role::server, params, options);
  ByteBuffer out;
  std::error_code ec;
  for (std::size_t at = 0; at < size && !ec; at += piece) {
    const std::size_t n = std::min(piece, size - at);
    ec = receiver.decode({data + at, n}, at + n == size, out, limit);
  }
  if (size == 0) ec = receiver.decode({}, true, out, limit);
  if (out.size() > limit + 1) std::abort();

  // Round trip through our own compressor.
  DeflateCodec sender(Role::server, params, options);
  DeflateCodec client(Role::client, params, options);
  ByteBuffer compressed;
  if (sender.encode({data, size}, compressed)) {
    ByteBuffer back;
    if (client.decode(compressed.span(), true, back, size + 1)) std::abort();
    if (back.size() != size || (size && std::memcmp(back.data(), data, size) != 0)) std::abort();
  }
  return 0;
}
