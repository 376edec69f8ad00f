/// @file
/// permessage-deflate (RFC 7692), the compression extension browsers offer,
/// as a `PerMessageExtension`: one object with the settings, shared by every
/// connection of a server route or a client.
#pragma once

#include <duplex/protocol/deflate_options.hpp>
#include <duplex/protocol/extension.hpp>

#include <memory>
#include <string_view>
#include <vector>

namespace duplex::protocol {

/// The extension token.
inline constexpr std::string_view deflate_extension_name = "permessage-deflate";

/// permessage-deflate with the given settings. Negotiation follows RFC 7692
/// to the letter (all four parameters, with and without values, several
/// offers); the transforms compress on zlib, with shared per-thread streams
/// for directions that keep no context. Read-only: thread-safe.
class PerMessageDeflate final : public PerMessageExtension {
 public:
  /// permessage-deflate with `options`.
  explicit PerMessageDeflate(const DeflateOptions& options = {}) : options_(options) {}

  std::string_view name() const noexcept override { return deflate_extension_name; }
  /// What the options ask for, then (unless the same) one offer the way
  /// browsers make theirs, for servers that accept nothing else.
  std::vector<Extension> offers() const override;
  std::unique_ptr<MessageTransform> negotiate(std::span<const Extension> offers,
                                              Extension& response) const override;
  std::unique_ptr<MessageTransform> accept(const Extension& response, std::error_code& error,
                                           std::string& why) const override;

  /// The settings it was made with.
  const DeflateOptions& options() const noexcept { return options_; }

 private:
  DeflateOptions options_;
};

}  // namespace duplex::protocol
