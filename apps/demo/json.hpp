// A small, strict JSON (RFC 8259) reader and writer for the demo's chat
// protocol: values up to a nesting depth, strings checked for UTF-8 and
// unescaped, numbers as double. Not a general-purpose library: just enough,
// and safe on hostile input (it is fuzzed).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace duplex::demo {

struct Json;
using JsonObject = std::map<std::string, Json, std::less<>>;
using JsonArray = std::vector<Json>;

struct Json {
  std::variant<std::nullptr_t, bool, double, std::string, JsonArray, JsonObject> value;

  bool is_object() const noexcept { return std::holds_alternative<JsonObject>(value); }
  const JsonObject* object() const noexcept { return std::get_if<JsonObject>(&value); }
  // The member `key` of an object if it is a string.
  const std::string* string_member(std::string_view key) const;
};

// Parses `text` (the whole of it, whitespace allowed around the value).
// nullopt for anything that is not valid JSON, nests deeper than
// `max_depth`, or holds invalid UTF-8.
std::optional<Json> parse_json(std::string_view text, int max_depth = 16);

// Appends `s` as a JSON string literal (quotes and escapes included).
void append_json_string(std::string& out, std::string_view s);

}  // namespace duplex::demo
