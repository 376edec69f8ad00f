// JSON in and out of the demo's POST endpoints.
#pragma once

#include <duplex/server.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace duplex::demo {

/// Answers with `body` as JSON.
inline void reply_json(HttpResponse& r, int status, const nlohmann::json& body) {
  r.status = status;
  r.content_type = "application/json";
  r.body = body.dump();
  r.headers.emplace_back("Cache-Control", "no-store");
}

/// The request's body as a JSON object, or an empty value after a 400.
inline std::optional<nlohmann::json> read_json_object(const HttpRequest& req, HttpResponse& r) {
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    reply_json(r, 400, {{"error", "the body must be a JSON object"}});
    return std::nullopt;
  }
  return body;
}

/// Characters (code points) of UTF-8 text that nlohmann has already checked.
inline std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

/// The string field `name` when it is present, a string, not blank and at
/// most `max_chars` long; otherwise empty.
inline std::string text_field(const nlohmann::json& body, const char* name, std::size_t max_chars) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string()) return {};
  std::string s = it->get<std::string>();
  if (s.find_first_not_of(" \t\r\n") == std::string::npos || utf8_length(s) > max_chars) return {};
  return s;
}

inline long long unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace duplex::demo
