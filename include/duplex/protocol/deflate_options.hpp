/// @file
/// permessage-deflate (RFC 7692) settings, shared by the server and the client.
#pragma once

#include <cstddef>

namespace duplex::protocol {

/// permessage-deflate settings, for a server (its routes) or a client
/// connection.
struct DeflateOptions {
  /// Offer (client) or accept (server) permessage-deflate at all.
  bool enabled = false;
  /// Keeping the compression context across messages compresses better but
  /// costs each connection its own zlib state (~300 KiB with the defaults).
  /// Without it (the default), one compressor and one decompressor per thread
  /// serve every connection, and a broadcast is compressed once for everyone.
  bool server_context_takeover = false;  ///< false: server_no_context_takeover
  bool client_context_takeover = false;  ///< false: ask for client_no_context_takeover
  /// LZ77 window of our compressor and the one we allow the peer, 9..15.
  /// (zlib cannot compress with a 256-byte window, so 8 is never agreed to
  /// for our compressor; the peer may use any window, we decompress all.)
  int server_max_window_bits = 15;
  /// @copydoc server_max_window_bits
  int client_max_window_bits = 15;
  int level = 6;      ///< zlib compression level, 1 (fast) .. 9 (small)
  int mem_level = 8;  ///< zlib memLevel, 1 .. 9
  /// Messages shorter than this go out uncompressed.
  std::size_t threshold = 64;
};

}  // namespace duplex::protocol
