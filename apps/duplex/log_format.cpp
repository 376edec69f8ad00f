#include "log_format.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace duplex::cli {
namespace {

// RFC 3339 UTC with milliseconds: 2026-12-07T21:30:00.123Z.
std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  return text;
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out.append(escaped);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

}  // namespace

LogSink make_log_sink(LogFormat format, bool verbose) {
  return [format, verbose](LogLevel level, std::string_view text) {
    if (level != LogLevel::warning && !verbose) return;
    std::string line;
    if (format == LogFormat::json) {
      line = "{\"time\":\"" + utc_now() + "\",\"level\":\"";
      line += level == LogLevel::warning ? "warning" : "info";
      line += "\",\"msg\":";
      append_json_string(line, text);
      line += "}\n";
    } else {
      line.append("duplex: ").append(text).append("\n");
    }
    std::fwrite(line.data(), 1, line.size(), stderr);
  };
}

}  // namespace duplex::cli
