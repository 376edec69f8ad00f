// HTTP tokens (RFC 9110 section 5.6.2): the one definition the request and
// response parsers, the extension grammar and the header writers share.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace duplex::protocol::detail {

inline constexpr std::array<bool, 256> token_chars = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

// A tchar: a character a token may hold.
inline bool is_token_char(char c) noexcept {
  return token_chars[static_cast<unsigned char>(c)];
}

// A token: one or more tchars.
inline bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

}  // namespace duplex::protocol::detail
