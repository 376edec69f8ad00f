/// @file
/// Per-message extensions (RFC 6455 section 9, RFC 7692): one interface for
/// agreeing on an extension in the opening handshake (`PerMessageExtension`),
/// and one for what it does to each message afterwards (`MessageTransform`).
/// permessage-deflate (`PerMessageDeflate`) is the implementation Duplex ships.
#pragma once

#include <duplex/protocol/byte_buffer.hpp>
#include <duplex/protocol/extensions.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace duplex::protocol {

/// An extension agreed on one connection. It owns RSV1: a message whose
/// first frame has RSV1 set is decoded through it, and outgoing messages may
/// be encoded through it. Used by one connection, on its thread.
class MessageTransform {
 public:
  virtual ~MessageTransform() = default;

  /// Decodes the next piece of an encoded message's payload (pieces arrive
  /// in order, `last` on the final one), appending the result to `out`.
  /// Must not let `out` grow past `limit` bytes: returns
  /// `ProtocolError::message_too_big` instead, and
  /// `ProtocolError::invalid_compressed_data` for input that does not decode.
  virtual std::error_code decode(std::span<const std::uint8_t> in, bool last, ByteBuffer& out,
                                 std::size_t limit) = 0;

  /// Encodes a whole outgoing message into `out` (empty on entry) and
  /// returns true, or returns false to send the message as it is.
  virtual bool encode(std::span<const std::uint8_t> in, ByteBuffer& out) = 0;

  /// Connections whose transforms return the same non-negative key can all
  /// be sent one encoding of a message (made by `encode_shared`), which is
  /// what lets a broadcast be compressed once. -1: this connection's
  /// encodings are its own (compression that keeps context).
  virtual int shared_encoding_key() const noexcept { return -1; }

  /// Encodes a whole message the way every connection with this
  /// `shared_encoding_key()` can be sent it; false to send it as it is.
  /// Thread-safe: it keeps no state of this connection's.
  virtual bool encode_shared(std::span<const std::uint8_t> in, ByteBuffer& out) const {
    (void)in;
    (void)out;
    return false;
  }
};

/// One kind of per-message extension with its settings: it makes the
/// client's offers, answers a client's offers on the server, checks the
/// server's answer on the client, and makes the per-connection transform.
/// Read-only once made: one object serves every connection, on any thread.
class PerMessageExtension {
 public:
  virtual ~PerMessageExtension() = default;

  /// The extension token ("permessage-deflate").
  virtual std::string_view name() const noexcept = 0;

  /// Client: the offers to send, in order of preference.
  virtual std::vector<Extension> offers() const = 0;

  /// Server: takes the first of the client's `offers` (all extensions it
  /// offered, in order; those with other names are skipped) that is valid
  /// and that we can honour, fills in the `response` to send, and returns
  /// the connection's transform. Null declines every offer, which is not an
  /// error: the connection opens without the extension.
  virtual std::unique_ptr<MessageTransform> negotiate(std::span<const Extension> offers,
                                                      Extension& response) const = 0;

  /// Client: checks the server's `response` against our offers and returns
  /// the transform; on a response that breaks the rules, null with
  /// `HandshakeError::invalid_extension_response` in `error` and the reason
  /// in `why`.
  virtual std::unique_ptr<MessageTransform> accept(const Extension& response,
                                                   std::error_code& error,
                                                   std::string& why) const = 0;
};

}  // namespace duplex::protocol
