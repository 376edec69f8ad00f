/// @file
/// Where Duplex's connection-level log lines go.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace duplex {

/// How much a log line matters: warnings are on by default, info lines
/// (one per connection event) only when asked for.
enum class LogLevel { warning, info };

/// Receives log lines. Called on the event-loop thread that logs, so it
/// must be thread-safe when a server runs several loops. Text that came from
/// a peer (a close reason, a path) has been escaped before it gets here.
using LogSink = std::function<void(LogLevel, std::string_view)>;

/// `text` made safe for a terminal or a log line: control characters
/// (newlines and escape sequences included), backslashes, and bytes that
/// are not UTF-8 become `\n`, `\t`, `\\` or `\xNN`, so that text from a peer
/// cannot forge log lines or drive a terminal. Thread-safe.
std::string escape_for_log(std::string_view text);

}  // namespace duplex
