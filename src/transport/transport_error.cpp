#include <duplex/transport_error.hpp>

namespace duplex {
namespace {

class TransportCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "duplex.transport"; }
  std::error_condition default_error_condition(int value) const noexcept override {
    return static_cast<TransportError>(value) == TransportError::connection_lost
               ? Condition::connection_failed
               : Condition::tls_failed;
  }
  std::string message(int value) const override {
    switch (static_cast<TransportError>(value)) {
      case TransportError::connection_lost: return "connection closed during the opening handshake";
      case TransportError::tls_handshake_failed: return "TLS handshake failed";
      case TransportError::tls_configuration: return "TLS configuration error";
      case TransportError::tls_failed: return "TLS error";
      case TransportError::plain_http_to_tls: return "plain HTTP request to a TLS port";
    }
    return "unknown transport error";
  }
};

}  // namespace

const std::error_category& transport_category() noexcept {
  static const TransportCategory category;
  return category;
}

}  // namespace duplex
