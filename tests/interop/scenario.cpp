#include "scenario.hpp"

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

namespace interop {

std::string text_of_size(std::size_t size) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>(' ' + (i * 7 + i / 95) % 95);
  return text;
}

std::string binary_of_size(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 31 + i / 251) & 0xff);
  return bytes;
}

std::string describe(const Payload& payload) {
  return std::string(payload.opcode == duplex::Opcode::text ? "text " : "binary ") +
         std::to_string(payload.data.size()) + " bytes";
}

std::string difference(const Payload& sent, const duplex::Message& got) {
  const Payload received{got.opcode, std::string(got.data)};
  if (got.opcode != sent.opcode || got.data.size() != sent.data.size()) {
    return "sent " + describe(sent) + ", got " + describe(received);
  }
  for (std::size_t i = 0; i < sent.data.size(); ++i) {
    if (sent.data[i] == got.data[i]) continue;
    char where[96];
    std::snprintf(where, sizeof where, "byte %zu differs (sent 0x%02x, got 0x%02x)", i,
                  static_cast<unsigned char>(sent.data[i]),
                  static_cast<unsigned char>(got.data[i]));
    return describe(sent) + ": " + where;
  }
  return {};
}

std::string CloseSeen::describe() const {
  if (!seen) return "no close";
  return std::to_string(static_cast<unsigned>(code)) + " \"" + reason + "\"";
}

bool run_bounded(duplex::Client& client, std::chrono::seconds limit) {
  std::mutex mutex;
  std::condition_variable finished_changed;
  bool finished = false;
  bool reached_limit = false;
  std::thread watchdog([&] {
    std::unique_lock lock(mutex);
    if (!finished_changed.wait_for(lock, limit, [&] { return finished; })) {
      reached_limit = true;
      client.stop();
    }
  });
  client.run();
  {
    std::lock_guard lock(mutex);
    finished = true;
  }
  finished_changed.notify_one();
  watchdog.join();
  return !reached_limit;
}

}  // namespace interop
