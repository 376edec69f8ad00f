// PerMessageDeflate: the extension interface over the negotiation functions
// and the codec of deflate_codec.hpp.
#include "deflate_codec.hpp"

#include <duplex/protocol/error.hpp>
#include <duplex/protocol/permessage_deflate.hpp>

namespace duplex::protocol {

std::vector<Extension> PerMessageDeflate::offers() const {
  return deflate_offers(options_);
}

std::unique_ptr<MessageTransform> PerMessageDeflate::negotiate(std::span<const Extension> offers,
                                                               Extension& response) const {
  std::string text;
  const auto agreed = negotiate_deflate(offers, options_, text, &response);
  if (!agreed) return nullptr;
  return std::make_unique<DeflateCodec>(Role::server, *agreed, options_);
}

std::unique_ptr<MessageTransform> PerMessageDeflate::accept(const Extension& response,
                                                            std::error_code& error,
                                                            std::string& why) const {
  DeflateParams agreed;
  error = accept_deflate_response(response, options_, agreed, &why);
  if (error) return nullptr;
  return std::make_unique<DeflateCodec>(Role::client, agreed, options_);
}

}  // namespace duplex::protocol
