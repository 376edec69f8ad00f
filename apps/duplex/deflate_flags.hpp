// The --deflate options, the same on serve, connect and bench.
#pragma once

#include <duplex/client.hpp>

#include <CLI/CLI.hpp>

namespace duplex::cli {

inline void add_deflate_flags(CLI::App* cmd, DeflateOptions& d) {
  cmd->add_flag("--deflate", d.enabled, "Use permessage-deflate (RFC 7692) when the peer agrees");
  cmd->add_flag("--deflate-server-context-takeover", d.server_context_takeover,
                "Keep the server's compression context across messages (more memory)");
  cmd->add_flag("--deflate-client-context-takeover", d.client_context_takeover,
                "Let the client keep its compression context across messages (more memory)");
  cmd->add_option("--deflate-server-window-bits", d.server_max_window_bits,
                  "LZ77 window of the server's compressor, 9..15")
      ->check(CLI::Range(9, 15))
      ->capture_default_str();
  cmd->add_option("--deflate-client-window-bits", d.client_max_window_bits,
                  "LZ77 window of the client's compressor, 9..15")
      ->check(CLI::Range(9, 15))
      ->capture_default_str();
  cmd->add_option("--deflate-level", d.level, "zlib compression level, 1..9")
      ->check(CLI::Range(1, 9))
      ->capture_default_str();
  cmd->add_option("--deflate-threshold", d.threshold,
                  "Send messages shorter than this uncompressed")
      ->capture_default_str();
}

}  // namespace duplex::cli
