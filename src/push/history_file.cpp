#include "history_file.hpp"

#include "command_frame.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <fstream>

namespace duplex::push {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using Wall = std::chrono::system_clock;

std::int64_t unix_ms(Wall::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// A steady-clock time as wall-clock Unix milliseconds, and back.
std::int64_t to_unix_ms(Clock::time_point t) {
  return unix_ms(Wall::now()) -
         std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

Clock::time_point from_unix_ms(std::int64_t ms) {
  return Clock::now() - std::chrono::milliseconds(unix_ms(Wall::now()) - ms);
}

Status failure(int error, std::string what) {
  return Status(std::error_code(error, std::generic_category()), std::move(what));
}

bool read_stream(const std::string& line, MemoryBroker::SavedStream& out) {
  if (!json_depth_within(line, max_json_depth + 4)) return false;
  const json j = json::parse(line, nullptr, false);
  if (!j.is_object() || !j.contains("channel") || !j["channel"].is_string() ||
      !j.contains("epoch") || !j["epoch"].is_string() || !j.contains("top") ||
      !j["top"].is_number_unsigned() || !j.contains("publications") ||
      !j["publications"].is_array()) {
    return false;
  }
  out.channel = j["channel"].get<std::string>();
  out.epoch = j["epoch"].get<std::string>();
  out.top = j["top"].get<std::uint64_t>();
  out.policy.size = j.value("size", std::size_t{0});
  out.policy.ttl = std::chrono::seconds(j.value("ttl", std::int64_t{0}));
  for (const json& p : j["publications"]) {
    if (!p.is_object() || !p.contains("offset") || !p["offset"].is_number_unsigned() ||
        !p.contains("data") || !p.contains("at") || !p["at"].is_number_integer()) {
      return false;
    }
    Publication pub;
    pub.offset = p["offset"].get<std::uint64_t>();
    if (pub.offset == 0 || pub.offset > out.top) return false;
    pub.data = p["data"].dump();
    if (p.contains("info")) pub.info = p["info"].dump();
    pub.published = from_unix_ms(p["at"].get<std::int64_t>());
    out.kept.push_back(std::move(pub));
  }
  return true;
}

}  // namespace

Status save_history(MemoryBroker& broker, const std::string& path) {
  const std::string temporary = path + ".tmp";
  std::FILE* f = std::fopen(temporary.c_str(), "wb");
  if (!f) return failure(errno, "cannot write " + temporary);
  bool ok = true;
  broker.for_each_stream([&](const MemoryBroker::SavedStream& s) {
    json publications = json::array();
    for (const Publication& p : s.kept) {
      json entry = {{"offset", p.offset},
                    {"data", json::parse(p.data, nullptr, false)},
                    {"at", to_unix_ms(p.published)}};
      if (!p.info.empty()) entry["info"] = json::parse(p.info, nullptr, false);
      publications.push_back(std::move(entry));
    }
    const std::string line = json{{"channel", s.channel},
                                  {"epoch", s.epoch},
                                  {"top", s.top},
                                  {"size", s.policy.size},
                                  {"ttl", s.policy.ttl.count()},
                                  {"publications", std::move(publications)}}
                                 .dump() +
                             "\n";
    ok = ok && std::fwrite(line.data(), 1, line.size(), f) == line.size();
  });
  ok = std::fflush(f) == 0 && ok;
  const int error = errno;
  std::fclose(f);
  if (!ok) {
    std::remove(temporary.c_str());
    return failure(error, "cannot write " + temporary);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return failure(errno, "cannot rename " + temporary + " to " + path);
  }
  return {};
}

Status load_history(MemoryBroker& broker, const std::string& path, std::size_t& skipped) {
  skipped = 0;
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return {};
    return failure(errno, "cannot read " + path);
  }
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    MemoryBroker::SavedStream s;
    if (!read_stream(line, s)) {
      ++skipped;
      continue;
    }
    broker.restore(std::move(s));
  }
  return {};
}

}  // namespace duplex::push
