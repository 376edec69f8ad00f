/// @file
/// Incremental UTF-8 validation (RFC 3629, Unicode table 3-7) for text
/// messages that arrive in pieces. It fails on the first byte that no valid
/// continuation could follow: overlong forms, surrogates (U+D800-DFFF) and
/// code points past U+10FFFF are all caught at the byte that makes them so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace duplex::protocol {

/// Validates one text as it arrives. One byte of state; no allocation.
class Utf8Validator {
 public:
  /// Feeds the next bytes. Returns false once the text so far can no longer be
  /// valid; the failure is sticky until reset().
  /// @{
  bool feed(std::span<const std::uint8_t> bytes) noexcept;
  bool feed(std::string_view text) noexcept {
    return feed({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  }
  /// @}

  /// True when everything fed so far is valid and ends on a code point boundary.
  bool complete() const noexcept { return state_ == accept_state; }
  /// True once the text can no longer be valid.
  bool failed() const noexcept { return state_ == reject_state; }
  /// Starts a new text.
  void reset() noexcept { state_ = accept_state; }

  /// The automaton's states at a boundary and after a failure.
  /// @{
  static constexpr std::uint8_t accept_state = 0;
  static constexpr std::uint8_t reject_state = 8;
  /// @}

 private:
  std::uint8_t state_ = accept_state;
};

/// Whole-buffer validation.
/// @{
bool is_valid_utf8(std::span<const std::uint8_t> bytes) noexcept;
inline bool is_valid_utf8(std::string_view text) noexcept {
  return is_valid_utf8({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}
/// @}

}  // namespace duplex::protocol
