#include <duplex/client_error.hpp>

namespace duplex {
namespace {

class ClientCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "duplex.client"; }
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<ClientError>(value)) {
      case ClientError::connect_timeout:
      case ClientError::handshake_timeout: return Condition::timed_out;
      case ClientError::cancelled: return Condition::connection_failed;
      default: return Condition::invalid_argument;
    }
  }
  std::string message(int value) const override {
    switch (static_cast<ClientError>(value)) {
      case ClientError::invalid_url: return "invalid WebSocket URL";
      case ClientError::unsupported_scheme: return "unsupported URL scheme (use ws:// or wss://)";
      case ClientError::url_has_fragment: return "WebSocket URLs cannot have a #fragment";
      case ClientError::connect_timeout: return "timed out connecting";
      case ClientError::handshake_timeout: return "timed out waiting for the opening handshake";
      case ClientError::cancelled: return "cancelled before the connection opened";
    }
    return "unknown client error";
  }
};

}  // namespace

const std::error_category& client_category() noexcept {
  static const ClientCategory category;
  return category;
}

}  // namespace duplex
