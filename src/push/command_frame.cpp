#include "command_frame.hpp"

namespace duplex::push {
namespace {

FrameProblem parse_line(std::string_view line, Command& out) {
  // The command object and its request are two levels of their own.
  if (!json_depth_within(line, max_json_depth + 2)) return FrameProblem::too_deep;
  nlohmann::json cmd = nlohmann::json::parse(line, nullptr, false);
  if (cmd.is_discarded()) return FrameProblem::not_json;
  if (!cmd.is_object()) return FrameProblem::not_an_object;
  if (auto it = cmd.find("id"); it != cmd.end()) {
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() > 0xffffffffu) {
      return FrameProblem::bad_id;
    }
    out.id = static_cast<std::uint32_t>(it->get<std::uint64_t>());
  }
  // The method is the field besides `id` that is not null (one only), or
  // else the one that is null (its request is then empty).
  for (auto it = cmd.begin(); it != cmd.end(); ++it) {
    if (it.key() == "id") continue;
    if (it.value().is_null()) {
      if (out.method.empty()) out.method = it.key();
      continue;
    }
    if (!out.request.is_null()) return FrameProblem::several_methods;
    out.method = it.key();
    out.request = std::move(it.value());
  }
  if (out.request.is_null()) out.request = nlohmann::json::object();
  if (!out.request.is_object()) return FrameProblem::not_an_object;
  // Every command but `send` (and the pong) is answered, by its id.
  if (!out.method.empty() && out.method != "send" && out.id == 0) return FrameProblem::bad_id;
  return FrameProblem::none;
}

}  // namespace

bool json_depth_within(std::string_view text, std::size_t max_depth) noexcept {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;  // skip the escaped character
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

CommandFrame parse_command_frame(std::string_view frame) {
  CommandFrame result;
  while (!frame.empty()) {
    const auto newline = frame.find('\n');
    std::string_view line = frame.substr(0, newline);
    frame = newline == std::string_view::npos ? std::string_view{} : frame.substr(newline + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) continue;
    Command command;
    result.problem = parse_line(line, command);
    if (result.problem != FrameProblem::none) return result;
    result.commands.push_back(std::move(command));
  }
  if (result.commands.empty()) result.problem = FrameProblem::no_commands;
  return result;
}

}  // namespace duplex::push
