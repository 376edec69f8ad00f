// The categories of the core's errors, and the conditions every Duplex
// error maps to.
#include <duplex/protocol/error.hpp>

namespace duplex {
namespace {

class ProtocolCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "duplex.protocol"; }
  std::error_condition default_error_condition(int) const noexcept override {
    return Condition::protocol_violation;
  }
  std::string message(int value) const override {
    switch (static_cast<ProtocolError>(value)) {
      case ProtocolError::reserved_bits_set:
        return "reserved bits set without a negotiated extension";
      case ProtocolError::unknown_opcode: return "unknown opcode";
      case ProtocolError::control_frame_too_long:
        return "control frame payload longer than 125 bytes";
      case ProtocolError::fragmented_control_frame: return "fragmented control frame";
      case ProtocolError::unexpected_continuation:
        return "continuation frame without a message in progress";
      case ProtocolError::expected_continuation:
        return "new message started inside a fragmented message";
      case ProtocolError::unmasked_frame: return "client frame is not masked";
      case ProtocolError::masked_frame: return "server frame is masked";
      case ProtocolError::length_out_of_range:
        return "64-bit payload length has its most significant bit set";
      case ProtocolError::invalid_close_payload: return "close frame payload of one byte";
      case ProtocolError::invalid_close_code: return "close code not allowed on the wire";
      case ProtocolError::invalid_close_reason: return "close reason is not valid UTF-8";
      case ProtocolError::invalid_utf8: return "text message is not valid UTF-8";
      case ProtocolError::frame_too_big: return "frame larger than the configured maximum";
      case ProtocolError::message_too_big: return "message larger than the configured maximum";
      case ProtocolError::too_many_fragments:
        return "message in more frames than the configured maximum";
      case ProtocolError::invalid_compressed_data: return "compressed message does not inflate";
    }
    return "unknown protocol error";
  }
};

class HandshakeCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "duplex.handshake"; }
  std::error_condition default_error_condition(int) const noexcept override {
    return Condition::handshake_failed;
  }
  std::string message(int value) const override {
    switch (static_cast<HandshakeError>(value)) {
      case HandshakeError::http_incomplete: return "HTTP header block is incomplete";
      case HandshakeError::http_malformed: return "malformed HTTP/1.1 message";
      case HandshakeError::http_headers_too_large: return "HTTP header block too large";
      case HandshakeError::http_too_many_headers: return "too many HTTP header fields";
      case HandshakeError::method_not_get: return "WebSocket upgrade must use GET";
      case HandshakeError::http_version_not_1_1: return "WebSocket upgrade must use HTTP/1.1";
      case HandshakeError::missing_host: return "missing or repeated Host header";
      case HandshakeError::not_an_upgrade:
        return "missing Upgrade: websocket or Connection: Upgrade";
      case HandshakeError::invalid_key: return "Sec-WebSocket-Key is not 16 bytes of base64";
      case HandshakeError::unsupported_version:
        return "unsupported Sec-WebSocket-Version (only 13 is supported)";
      case HandshakeError::origin_not_allowed: return "Origin not allowed";
      case HandshakeError::invalid_extension_header:
        return "malformed Sec-WebSocket-Extensions header";
      case HandshakeError::rejected: return "server rejected the WebSocket upgrade";
      case HandshakeError::invalid_accept: return "Sec-WebSocket-Accept does not match the key";
      case HandshakeError::unexpected_subprotocol:
        return "server selected a subprotocol that was not offered";
      case HandshakeError::unexpected_extension:
        return "server accepted an extension that was not offered";
      case HandshakeError::invalid_extension_response:
        return "server answered the extension offer with parameters it may not use";
      case HandshakeError::http_bare_line_feed: return "HTTP lines must end in CRLF, not a bare LF";
    }
    return "unknown handshake error";
  }
};

class UsageCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "duplex.usage"; }
  std::error_condition default_error_condition(int value) const noexcept override {
    return static_cast<UsageError>(value) == UsageError::connection_closed
               ? Condition::connection_closed
               : Condition::invalid_argument;
  }
  std::string message(int value) const override {
    switch (static_cast<UsageError>(value)) {
      case UsageError::connection_closed: return "the connection is closing or closed";
      case UsageError::control_payload_too_long:
        return "control frame payload longer than 125 bytes";
      case UsageError::invalid_close_code: return "close code may not be sent";
      case UsageError::invalid_close_reason: return "close reason is not valid UTF-8";
      case UsageError::message_in_progress: return "a fragmented message is still being sent";
      case UsageError::no_message_in_progress: return "no fragmented message is being sent";
      case UsageError::invalid_opcode: return "a message must be text or binary";
      case UsageError::invalid_header: return "header name or value cannot be sent";
      case UsageError::invalid_subprotocol: return "subprotocol is not a token or was not offered";
      case UsageError::invalid_request_target: return "request target is not an absolute path";
      case UsageError::not_supported: return "not supported on this kind of connection";
      case UsageError::server_running: return "the server is already listening";
      case UsageError::not_running: return "no event loop is running";
    }
    return "unknown usage error";
  }
};

class ConditionCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "duplex"; }
  std::string message(int value) const override {
    switch (static_cast<Condition>(value)) {
      case Condition::protocol_violation: return "the peer broke the WebSocket protocol";
      case Condition::handshake_failed: return "the opening handshake failed";
      case Condition::timed_out: return "timed out";
      case Condition::tls_failed: return "TLS failed";
      case Condition::connection_failed: return "the connection failed";
      case Condition::connection_closed: return "the connection is closed";
      case Condition::invalid_argument: return "invalid argument";
    }
    return "unknown condition";
  }
  // System errors have conditions of ours too: a caller testing for
  // connection_failed means refused and reset as much as our own codes.
  bool equivalent(const std::error_code& code, int condition) const noexcept override {
    if (code.category() == std::generic_category() || code.category() == std::system_category()) {
      const auto e = static_cast<std::errc>(code.value());
      switch (static_cast<Condition>(condition)) {
        case Condition::timed_out: return e == std::errc::timed_out;
        case Condition::connection_failed:
          return e == std::errc::connection_refused || e == std::errc::connection_reset ||
                 e == std::errc::connection_aborted || e == std::errc::host_unreachable ||
                 e == std::errc::network_unreachable || e == std::errc::network_down ||
                 e == std::errc::broken_pipe || e == std::errc::address_not_available;
        case Condition::invalid_argument: return e == std::errc::invalid_argument;
        default: return false;
      }
    }
    return code.category().default_error_condition(code.value()) ==
           std::error_condition(condition, *this);
  }
};

}  // namespace

const std::error_category& protocol_category() noexcept {
  static const ProtocolCategory category;
  return category;
}

const std::error_category& handshake_category() noexcept {
  static const HandshakeCategory category;
  return category;
}

const std::error_category& usage_category() noexcept {
  static const UsageCategory category;
  return category;
}

const std::error_category& condition_category() noexcept {
  static const ConditionCategory category;
  return category;
}

std::string Status::message() const {
  if (!error) return "ok";
  std::string text = error.message();
  if (!detail.empty()) text += ": " + detail;
  return text;
}

CloseCode close_code_for(ProtocolError e) noexcept {
  switch (e) {
    case ProtocolError::invalid_utf8:
    case ProtocolError::invalid_close_reason:
    case ProtocolError::invalid_compressed_data: return CloseCode::invalid_payload;
    case ProtocolError::frame_too_big:
    case ProtocolError::message_too_big:
    case ProtocolError::too_many_fragments: return CloseCode::message_too_big;
    default: return CloseCode::protocol_error;
  }
}

}  // namespace duplex
