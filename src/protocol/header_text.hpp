// Writing HTTP header lines safely: names must be tokens, values may not hold
// line breaks or other control characters, so nothing an application or a
// peer supplies can end a header early or inject one.
#pragma once

#include "token.hpp"

#include <duplex/protocol/http.hpp>

#include <algorithm>
#include <span>
#include <string>
#include <string_view>

namespace duplex::protocol::detail {

// A value we may emit: no control characters but tab.
inline bool is_safe_value(std::string_view v) noexcept {
  return std::none_of(v.begin(), v.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7F;
  });
}

inline void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

// False (and nothing appended) when one of them cannot be sent.
inline bool append_user_headers(std::string& out, std::span<const HttpHeader> headers) {
  for (const HttpHeader& h : headers) {
    if (!is_token(h.name) || !is_safe_value(h.value)) return false;
  }
  for (const HttpHeader& h : headers) append_header(out, h.name, h.value);
  return true;
}

}  // namespace duplex::protocol::detail
