#include "channel_name.hpp"

namespace duplex::push {

ChannelNameProblem check_channel_name(std::string_view name, std::size_t max_length) noexcept {
  if (name.empty()) return ChannelNameProblem::empty;
  if (name.size() > max_length) return ChannelNameProblem::too_long;
  for (char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) return ChannelNameProblem::bad_character;
  }
  return ChannelNameProblem::none;
}

std::string_view channel_namespace(std::string_view name) noexcept {
  if (!name.empty() && name.front() == '$') name.remove_prefix(1);
  const auto colon = name.find(':');
  return colon == std::string_view::npos ? std::string_view{} : name.substr(0, colon);
}

bool is_private_channel(std::string_view name) noexcept {
  return !name.empty() && name.front() == '$';
}

bool user_allowed_by_name(std::string_view name, std::string_view user) noexcept {
  const auto hash = name.rfind('#');
  if (hash == std::string_view::npos) return true;
  if (user.empty()) return false;
  std::string_view users = name.substr(hash + 1);
  while (!users.empty()) {
    const auto comma = users.find(',');
    if (users.substr(0, comma) == user) return true;
    if (comma == std::string_view::npos) break;
    users.remove_prefix(comma + 1);
  }
  return false;
}

bool glob_match(std::string_view pattern, std::string_view text) noexcept {
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace duplex::push
