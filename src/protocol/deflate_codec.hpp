// permessage-deflate (RFC 7692): negotiating the parameters, and the codec
// that compresses and decompresses messages on zlib.
#pragma once

#include <duplex/protocol/connection.hpp>
#include <duplex/protocol/deflate_options.hpp>
#include <duplex/protocol/extensions.hpp>
#include <duplex/protocol/permessage_deflate.hpp>

#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

struct z_stream_s;

namespace duplex::protocol {

// What both ends agreed to.
struct DeflateParams {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 15;
  int client_max_window_bits = 15;
};

// Server: the first offer among `offers` that is valid and that we can honour
// (an offer asking our compressor for a 256-byte window cannot be: zlib has
// none), with the Sec-WebSocket-Extensions response value to send.
std::optional<DeflateParams> negotiate_deflate(std::span<const Extension> offers,
                                               const DeflateOptions& ours, std::string& response,
                                               Extension* response_extension = nullptr);

// Client: the offers for our options, in order of preference: what the
// options ask for, then (unless it would be the same) one that leaves the
// server its own context and lets it choose our window, for servers that
// accept nothing else.
std::vector<Extension> deflate_offers(const DeflateOptions& ours);

// Client: checks the server's answer against RFC 7692 and our offers.
// HandshakeError::invalid_extension_response (with `why`) when it breaks the rules or
// asks for what we cannot do.
std::error_code accept_deflate_response(const Extension& response, const DeflateOptions& ours,
                                        DeflateParams& out, std::string* why = nullptr);

// The codec, one per connection. Without context takeover a direction needs
// no state between messages, so it borrows a compressor or decompressor
// that its thread shares with every other connection; with it, it owns one.
class DeflateCodec final : public MessageTransform {
 public:
  DeflateCodec(Role role, const DeflateParams& params, const DeflateOptions& options);
  ~DeflateCodec() override;
  DeflateCodec(const DeflateCodec&) = delete;
  DeflateCodec& operator=(const DeflateCodec&) = delete;

  std::error_code decode(std::span<const std::uint8_t> in, bool last, ByteBuffer& out,
                         std::size_t limit) override;
  bool encode(std::span<const std::uint8_t> in, ByteBuffer& out) override;

  // One compressed copy of a message suits every connection whose
  // compressor keeps no context and has the same window: the key is the
  // window (9..15) less 8.
  int shared_encoding_key() const noexcept override {
    return compress_takeover_ ? -1 : compress_bits_ - 8;
  }
  bool encode_shared(std::span<const std::uint8_t> in, ByteBuffer& out) const override {
    return compress_once(in, compress_bits_, options_, out);
  }

  // Compresses a whole message with a fresh context: what shareable output
  // means. False when the message is under the threshold.
  static bool compress_once(std::span<const std::uint8_t> in, int window_bits,
                            const DeflateOptions& options, ByteBuffer& out);

  struct Stream;  // a z_stream, defined in deflate.cpp

 private:
  Stream* compressor();

  Stream* decompressor(bool whole_message);

  DeflateOptions options_;
  bool compress_takeover_;
  bool decompress_takeover_;
  int compress_bits_;
  std::unique_ptr<Stream> own_compressor_;
  std::unique_ptr<Stream> own_decompressor_;
  Stream* current_decompressor_ = nullptr;  // the message being decoded
};

}  // namespace duplex::protocol
