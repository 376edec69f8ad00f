// The demo's chat over /chat: rooms, nicknames, presence, messages, with the
// JSON protocol of docs/demo-protocol.md. Room membership is shared by all
// event loops (a mutex: joins and leaves are rare next to messages);
// messages travel through the server's pub/sub, one topic per room, framed
// once for every member.
#pragma once

#include <duplex/server.hpp>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace duplex::demo {

struct ChatLimits {
  std::size_t max_rooms_per_connection = 8;
  std::size_t max_room_name = 32;  // characters
  std::size_t max_nickname = 24;   // code points
  std::size_t max_text = 1000;     // code points
  std::size_t max_message = 4096;  // bytes of one WebSocket message
};

// Each connection's own state (the route's per-connection data): the rooms
// it is in, as whom.
struct ChatMember {
  std::vector<std::pair<std::string, std::string>> rooms;  // room, nickname
  const std::string* nick_in(const std::string& room) const {
    for (const auto& [r, n] : rooms) {
      if (r == room) return &n;
    }
    return nullptr;
  }
};

class ChatService {
 public:
  explicit ChatService(ChatLimits limits = {}) : limits_(limits) {}
  Handlers<ChatMember> route();

  // The rooms and their member counts, as the JSON array of the protocol.
  std::string rooms_json();

 private:
  void on_open(WebSocket& ws);
  void on_message(WebSocket& ws, ChatMember& me, Message m);
  void on_close(WebSocket& ws, ChatMember& me);
  void join(WebSocket& ws, ChatMember& me, const std::string* room, const std::string* nick);
  void leave(WebSocket& ws, ChatMember& me, const std::string* room);
  void say(WebSocket& ws, const ChatMember& me, const std::string* room, const std::string* text);
  // Removes `nick` from `room`, tells the others; returns the new count.
  std::size_t remove_member(WebSocket& ws, const std::string& room, const std::string& nick);

  ChatLimits limits_;
  std::mutex mutex_;
  std::map<std::string, std::set<std::string>> rooms_;  // room -> nicknames
};

}  // namespace duplex::demo
