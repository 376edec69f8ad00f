// Reading a WebSocket frame of Centrifugo's JSON client protocol into
// commands: one JSON object per line, each {"id":N,"<method>":{..}}, or {}
// (a pong). Pure: no I/O, for the connection and the fuzz target alike.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::push {

struct Command {
  std::uint32_t id = 0;    // 0: none (a pong, or `send`)
  std::string method;      // empty: a pong
  nlohmann::json request;  // the method's object ({} when it was null)
};

enum class FrameProblem {
  none,
  no_commands,      // nothing but blank lines
  not_json,         // a line is not JSON
  not_an_object,    // a line, or a method's request, is not an object
  bad_id,           // `id` is not an integer in 0..2^32-1, or 0/missing where one is needed
  too_deep,         // JSON nested deeper than max_json_depth
  several_methods,  // more than one command in one object
};

struct CommandFrame {
  std::vector<Command> commands;              // the good lines before the first bad one
  FrameProblem problem = FrameProblem::none;  // what the first bad line had
};

// How deeply a command's JSON may nest. Writing JSON back out (what a
// publication needs) recurses once per level: a 64 KiB frame could
// otherwise nest deep enough to overflow a thread's stack.
inline constexpr std::size_t max_json_depth = 64;

// Whether `text` (JSON or not) nests arrays and objects at most `max_depth`
// deep. Brackets inside strings do not count.
bool json_depth_within(std::string_view text, std::size_t max_depth) noexcept;

// Thread-safe (no state).
CommandFrame parse_command_frame(std::string_view frame);

}  // namespace duplex::push
