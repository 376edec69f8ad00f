// The codes of Centrifugo's client protocol that Duplex answers with:
// errors in command replies, and disconnects as WebSocket close codes.
#pragma once

#include <duplex/close_code.hpp>

#include <string_view>

namespace duplex::push {

// An error in a reply: {"id":N,"error":{"code":C,"message":M}}; a
// temporary one ("temporary":true) makes the SDKs try again later.
struct ReplyError {
  int code;
  std::string_view message;
  bool temporary = false;
};

inline constexpr ReplyError error_internal{100, "internal server error"};
inline constexpr ReplyError error_unauthorized{101, "unauthorized"};
inline constexpr ReplyError error_unknown_channel{102, "unknown channel"};
inline constexpr ReplyError error_permission_denied{103, "permission denied"};
inline constexpr ReplyError error_method_not_found{104, "method not found"};
inline constexpr ReplyError error_already_subscribed{105, "already subscribed"};
inline constexpr ReplyError error_limit_exceeded{106, "limit exceeded"};
inline constexpr ReplyError error_bad_request{107, "bad request"};
inline constexpr ReplyError error_not_available{108, "not available"};
inline constexpr ReplyError error_token_expired{109, "token expired"};
// sub_refresh with an expired token: the SDKs give up on a subscription
// after a plain 109 there; a temporary one makes them fetch a token again.
inline constexpr ReplyError error_token_expired_retry{109, "token expired", true};
inline constexpr ReplyError error_unrecoverable_position{112, "unrecoverable position"};

// A disconnect: the close frame's code and reason. 3000-3499 let the SDKs
// reconnect, 3500-3999 do not.
struct Disconnect {
  std::uint16_t code;
  std::string_view reason;
  CloseCode close_code() const noexcept { return static_cast<CloseCode>(code); }
};

inline constexpr Disconnect disconnect_shutdown{3001, "shutdown"};
inline constexpr Disconnect disconnect_expired{3005, "connection expired"};
inline constexpr Disconnect disconnect_slow{3008, "slow"};
inline constexpr Disconnect disconnect_no_pong{3012, "no pong"};
inline constexpr Disconnect disconnect_invalid_token{3500, "invalid token"};
inline constexpr Disconnect disconnect_bad_request{3501, "bad request"};
inline constexpr Disconnect disconnect_stale{3502, "stale"};
inline constexpr Disconnect disconnect_force{3503, "force disconnect"};
inline constexpr Disconnect disconnect_not_available{3508, "not available"};

}  // namespace duplex::push
