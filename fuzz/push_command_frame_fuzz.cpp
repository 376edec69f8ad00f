// Fuzzes the push server's command frame reader: any bytes must become
// commands and a problem without a crash, and the fields the connection
// then reads (the request helpers, the history query, the channel name
// checks) must cope with whatever JSON came out.
//
// Checked on the way: a frame read without a problem has commands; every
// command's request is an object; every command but `send` and the pong has
// an id; the history limit stays within its cap; and the commands, written
// back one per line, read the same again.
#include "push/channel_name.hpp"
#include "push/command_frame.hpp"
#include "push/request_fields.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace duplex::push;

namespace {

constexpr std::size_t max_history = 300;

void read_fields(const Command& cmd) {
  const nlohmann::json& r = cmd.request;
  const HistoryQuery q = history_query(r, max_history);
  if (q.limit < 0 || q.limit > static_cast<long long>(max_history)) std::abort();
  if (q.since && !r.contains("since")) std::abort();

  const std::string channel = string_field(r, "channel");
  (void)string_field(r, "token");
  (void)string_field(r, "epoch");
  (void)bool_field(r, "recover");
  (void)bool_field(r, "join_leave");
  (void)offset_field(r, "offset");
  if (check_channel_name(channel, 255) == ChannelNameProblem::none) {
    (void)channel_namespace(channel);
    (void)is_private_channel(channel);
    (void)user_allowed_by_name(channel, string_field(r, "user"));
  }
  // The API's `channels` pattern against the channel: both fuzzed.
  const std::string pattern = string_field(r, "pattern");
  if (pattern.size() <= 256 && channel.size() <= 256) (void)glob_match(pattern, channel);
}

std::string write_back(const CommandFrame& frame) {
  std::string text;
  for (const Command& cmd : frame.commands) {
    nlohmann::json line = nlohmann::json::object();
    if (cmd.id != 0) line["id"] = cmd.id;
    if (!cmd.method.empty() || !cmd.request.empty()) line[cmd.method] = cmd.request;
    text += line.dump();
    text += '\n';
  }
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const CommandFrame frame = parse_command_frame(text);
  if (frame.problem == FrameProblem::none && frame.commands.empty()) std::abort();
  if (frame.problem == FrameProblem::no_commands && !frame.commands.empty()) std::abort();
  for (const Command& cmd : frame.commands) {
    if (!cmd.request.is_object()) std::abort();
    if (!cmd.method.empty() && cmd.method != "send" && cmd.id == 0) std::abort();
    read_fields(cmd);
  }
  // dump() and == recurse once per level of nesting: keep the write-back to
  // inputs too small to nest deep enough to matter (the default -max_len is
  // 4096; see the unit test PushCommandFrame.NestingTooDeepToWriteBackIsRefused).
  if (!frame.commands.empty() && size <= 16 * 1024) {
    // What was read, written back, reads the same (only good lines are kept).
    const CommandFrame again = parse_command_frame(write_back(frame));
    if (again.problem != FrameProblem::none) std::abort();
    if (again.commands.size() != frame.commands.size()) std::abort();
    for (std::size_t i = 0; i < again.commands.size(); ++i) {
      const Command& a = frame.commands[i];
      const Command& b = again.commands[i];
      if (a.id != b.id || a.method != b.method || a.request != b.request) std::abort();
    }
  }
  return 0;
}
