// Fuzzes the demo's JSON reader: any input must be accepted or refused
// without a crash, and what it accepts must hold valid UTF-8 strings that
// survive a round trip through the writer.
#include "json.hpp"

#include <duplex/protocol/utf8.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace duplex::demo;

namespace {

void check(const Json& v, int depth) {
  if (depth > 20) std::abort();
  if (const auto* s = std::get_if<std::string>(&v.value)) {
    if (!duplex::protocol::is_valid_utf8(*s)) std::abort();
    std::string quoted;
    append_json_string(quoted, *s);
    auto back = parse_json(quoted);
    if (!back || std::get<std::string>(back->value) != *s) std::abort();
  } else if (const auto* a = std::get_if<JsonArray>(&v.value)) {
    for (const Json& item : *a) check(item, depth + 1);
  } else if (const auto* o = v.object()) {
    for (const auto& [key, item] : *o) check(item, depth + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto v = parse_json(text, 16)) check(*v, 0);
  return 0;
}
