// Channel names: what a valid one is, and the parts with a meaning.
//
//   "news"           a channel of the default namespace
//   "chat:lobby"     namespace "chat" (its options apply)
//   "$secret"        a private channel: subscribing needs a subscription token
//   "dm#alice,bob"   only users alice and bob may subscribe (user boundary)
#pragma once

#include <string_view>

namespace duplex::push {

enum class ChannelNameProblem {
  none,
  empty,
  too_long,
  bad_character,  // a control character or a space
};

// Checks `name` against the rules above and the length limit. The name is
// already valid UTF-8 (it came out of JSON).
ChannelNameProblem check_channel_name(std::string_view name, std::size_t max_length) noexcept;

// The namespace: the part before the first ':' (without the leading '$'),
// or empty.
std::string_view channel_namespace(std::string_view name) noexcept;

// A private channel: "$" first (after it, the namespace as usual).
bool is_private_channel(std::string_view name) noexcept;

// Whether `user` may subscribe by the channel's user boundary: channels
// without '#' let everyone; "x#a,b" only users "a" and "b".
bool user_allowed_by_name(std::string_view name, std::string_view user) noexcept;

// Whether `text` matches `pattern`: '*' any run of characters, '?' one
// (the API's `channels` pattern).
bool glob_match(std::string_view pattern, std::string_view text) noexcept;

}  // namespace duplex::push
