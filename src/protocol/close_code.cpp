#include <duplex/close_code.hpp>

namespace duplex {

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
