// Reading the fields of a command or API request, forgivingly: a field of
// the wrong type counts as absent, as in Centrifugo's decoding.
#pragma once

#include "broker.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace duplex::push {

inline std::string string_field(const nlohmann::json& o, const char* name) {
  auto it = o.find(name);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

inline bool bool_field(const nlohmann::json& o, const char* name) {
  auto it = o.find(name);
  return it != o.end() && it->is_boolean() && it->get<bool>();
}

inline std::uint64_t offset_field(const nlohmann::json& o, const char* name) {
  auto it = o.find(name);
  return it != o.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

// A history request's `limit` (capped at `max`; -1 and absent as the
// protocol says), `since` {offset, epoch} and `reverse`.
inline HistoryQuery history_query(const nlohmann::json& request, std::size_t max) {
  HistoryQuery query;
  if (auto it = request.find("limit"); it != request.end() && it->is_number_integer()) {
    query.limit = it->get<long long>();
  }
  const auto cap = static_cast<long long>(max);
  if (query.limit < 0 || query.limit > cap) query.limit = cap;
  query.reverse = bool_field(request, "reverse");
  if (auto it = request.find("since"); it != request.end() && it->is_object()) {
    query.since = StreamPosition{offset_field(*it, "offset"), string_field(*it, "epoch")};
  }
  return query;
}

}  // namespace duplex::push
