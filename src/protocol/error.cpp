#include <duplex/error.hpp>

namespace duplex {
namespace {

class DuplexCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "duplex"; }

  std::string message(int value) const override {
    switch (static_cast<Error>(value)) {
      case Error::reserved_bits_set: return "reserved bits set without a negotiated extension";
      case Error::unknown_opcode: return "unknown opcode";
      case Error::control_frame_too_long: return "control frame payload longer than 125 bytes";
      case Error::fragmented_control_frame: return "fragmented control frame";
      case Error::unexpected_continuation:
        return "continuation frame without a message in progress";
      case Error::expected_continuation: return "new message started inside a fragmented message";
      case Error::unmasked_frame: return "client frame is not masked";
      case Error::masked_frame: return "server frame is masked";
      case Error::length_out_of_range:
        return "64-bit payload length has its most significant bit set";
      case Error::invalid_close_payload: return "close frame payload of one byte";
      case Error::invalid_close_code: return "close code not allowed on the wire";
      case Error::invalid_close_reason: return "close reason is not valid UTF-8";
      case Error::invalid_utf8: return "text message is not valid UTF-8";
      case Error::frame_too_big: return "frame larger than the configured maximum";
      case Error::message_too_big: return "message larger than the configured maximum";
      case Error::invalid_compressed_data: return "compressed message does not inflate";
      case Error::connection_closed: return "the connection is closing or closed";
      case Error::control_payload_too_long: return "control frame payload longer than 125 bytes";
      case Error::invalid_close_code_to_send: return "close code may not be sent";
      case Error::message_in_progress: return "a fragmented message is still being sent";
      case Error::no_message_in_progress: return "no fragmented message is being sent";
      case Error::http_incomplete: return "HTTP header block is incomplete";
      case Error::http_malformed: return "malformed HTTP/1.1 message";
      case Error::http_headers_too_large: return "HTTP header block too large";
      case Error::http_too_many_headers: return "too many HTTP header fields";
      case Error::method_not_get: return "WebSocket upgrade must use GET";
      case Error::http_version_not_1_1: return "WebSocket upgrade must use HTTP/1.1";
      case Error::missing_host: return "missing or repeated Host header";
      case Error::not_an_upgrade: return "missing Upgrade: websocket or Connection: Upgrade";
      case Error::invalid_key: return "Sec-WebSocket-Key is not 16 bytes of base64";
      case Error::unsupported_version:
        return "unsupported Sec-WebSocket-Version (only 13 is supported)";
      case Error::origin_not_allowed: return "Origin not allowed";
      case Error::invalid_extension_header: return "malformed Sec-WebSocket-Extensions header";
      case Error::handshake_rejected: return "server rejected the WebSocket upgrade";
      case Error::invalid_accept: return "Sec-WebSocket-Accept does not match the key";
      case Error::unexpected_subprotocol:
        return "server selected a subprotocol that was not offered";
      case Error::unexpected_extension: return "server accepted an extension that was not offered";
      case Error::invalid_extension_response:
        return "server answered the extension offer with parameters it may not use";
      case Error::invalid_url: return "invalid WebSocket URL";
      case Error::unsupported_scheme: return "unsupported URL scheme (use ws:// or wss://)";
      case Error::url_has_fragment: return "WebSocket URLs cannot have a #fragment";
      case Error::tls_not_supported: return "wss:// is not supported by this build";
      case Error::connect_timeout: return "timed out connecting";
      case Error::handshake_timeout: return "timed out waiting for the opening handshake";
      case Error::connection_lost: return "connection closed during the opening handshake";
      case Error::tls_handshake_failed: return "TLS handshake failed";
      case Error::tls_configuration: return "TLS configuration error";
    }
    return "unknown duplex error";
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const DuplexCategory category;
  return category;
}

CloseCode close_code_for(Error e) noexcept {
  switch (e) {
    case Error::invalid_utf8:
    case Error::invalid_close_reason:
    case Error::invalid_compressed_data: return CloseCode::invalid_payload;
    case Error::frame_too_big:
    case Error::message_too_big: return CloseCode::message_too_big;
    case Error::reserved_bits_set:
    case Error::unknown_opcode:
    case Error::control_frame_too_long:
    case Error::fragmented_control_frame:
    case Error::unexpected_continuation:
    case Error::expected_continuation:
    case Error::unmasked_frame:
    case Error::masked_frame:
    case Error::length_out_of_range:
    case Error::invalid_close_payload:
    case Error::invalid_close_code: return CloseCode::protocol_error;
    default: return CloseCode::normal;
  }
}

std::string_view close_code_name(CloseCode code) noexcept {
  switch (code) {
    case CloseCode::normal: return "normal closure";
    case CloseCode::going_away: return "going away";
    case CloseCode::protocol_error: return "protocol error";
    case CloseCode::unsupported_data: return "unsupported data";
    case CloseCode::no_status: return "no status code";
    case CloseCode::abnormal: return "abnormal closure";
    case CloseCode::invalid_payload: return "invalid payload data";
    case CloseCode::policy_violation: return "policy violation";
    case CloseCode::message_too_big: return "message too big";
    case CloseCode::mandatory_extension: return "mandatory extension";
    case CloseCode::internal_error: return "internal error";
    case CloseCode::service_restart: return "service restart";
    case CloseCode::try_again_later: return "try again later";
    case CloseCode::bad_gateway: return "bad gateway";
    case CloseCode::tls_handshake: return "TLS handshake failure";
  }
  return {};
}

}  // namespace duplex
