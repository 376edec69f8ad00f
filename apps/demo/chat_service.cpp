#include "chat_service.hpp"

#include "json.hpp"

#include <chrono>
#include <memory>
#include <vector>

namespace duplex::demo {
namespace {

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

bool valid_room_name(const std::string& room, std::size_t max) {
  if (room.empty() || room.size() > max) return false;
  for (char c : room) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// No C0 or C1 control characters (the JSON reader already checked UTF-8).
bool printable(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return false;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return false;
  }
  return true;
}

std::string topic_of(const std::string& room) {
  return "room:" + room;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void send_error(WebSocket& ws, std::string_view why) {
  std::string out = R"({"type":"error","error":)";
  append_json_string(out, why);
  out += '}';
  ws.send_text(out);
}

}  // namespace

Handlers<ChatMember> ChatService::route() {
  return {
      .on_open = [this](WebSocket& ws, ChatMember&) { on_open(ws); },
      .on_message = [this](WebSocket& ws, ChatMember& me, Message m) { on_message(ws, me, m); },
      .on_close = [this](WebSocket& ws, ChatMember& me, CloseCode,
                         std::string_view) { on_close(ws, me); },
  };
}

std::string ChatService::rooms_json() {
  std::string out = "[";
  std::lock_guard lock(mutex_);
  bool first = true;
  for (const auto& [room, members] : rooms_) {
    if (!first) out += ',';
    first = false;
    out += R"({"room":)";
    append_json_string(out, room);
    out += R"(,"count":)" + std::to_string(members.size()) + '}';
  }
  return out + ']';
}

void ChatService::on_open(WebSocket& ws) {
  ws.send_text(R"({"type":"welcome","rooms":)" + rooms_json() + '}');
}

void ChatService::on_message(WebSocket& ws, ChatMember& me, Message m) {
  if (m.data.size() > limits_.max_message) return send_error(ws, "message too large");
  const auto doc = parse_json(m.data);
  if (!doc) return send_error(ws, "not JSON");
  if (!doc->is_object()) return send_error(ws, "not a JSON object");
  const std::string* type = doc->string_member("type");
  if (!type) return send_error(ws, "unknown type");
  if (*type == "join") return join(ws, me, doc->string_member("room"), doc->string_member("nick"));
  if (*type == "leave") return leave(ws, me, doc->string_member("room"));
  if (*type == "say") return say(ws, me, doc->string_member("room"), doc->string_member("text"));
  if (*type == "rooms")
    return (void)ws.send_text(R"({"type":"rooms","rooms":)" + rooms_json() + '}');
  send_error(ws, "unknown type");
}

void ChatService::join(WebSocket& ws, ChatMember& me, const std::string* room,
                       const std::string* nick) {
  if (!room) return send_error(ws, "missing room");
  if (!valid_room_name(*room, limits_.max_room_name)) return send_error(ws, "bad room name");
  if (!nick || nick->empty()) return send_error(ws, "missing nick");
  if (code_points(*nick) > limits_.max_nickname) return send_error(ws, "nickname too long");
  if (!printable(*nick)) return send_error(ws, "bad nickname");
  if (me.nick_in(*room)) return send_error(ws, "already in that room");
  if (me.rooms.size() >= limits_.max_rooms_per_connection) return send_error(ws, "too many rooms");

  std::string members;
  std::size_t count;
  {
    std::lock_guard lock(mutex_);
    auto& names = rooms_[*room];
    if (!names.insert(*nick).second) {
      if (names.empty()) rooms_.erase(*room);
      return send_error(ws, "nickname taken");
    }
    count = names.size();
    members = "[";
    for (const std::string& n : names) {
      if (members.size() > 1) members += ',';
      append_json_string(members, n);
    }
    members += ']';
  }
  me.rooms.emplace_back(*room, *nick);
  ws.subscribe(topic_of(*room));

  std::string joined = R"({"type":"joined","room":)";
  append_json_string(joined, *room);
  joined += R"(,"nick":)";
  append_json_string(joined, *nick);
  joined += R"(,"members":)" + members + '}';
  ws.send_text(joined);

  std::string presence = R"({"type":"presence","room":)";
  append_json_string(presence, *room);
  presence += R"(,"nick":)";
  append_json_string(presence, *nick);
  presence += R"(,"event":"join","count":)" + std::to_string(count) + '}';
  ws.publish(topic_of(*room), presence);  // to the others
}

std::size_t ChatService::remove_member(WebSocket& ws, const std::string& room,
                                       const std::string& nick) {
  std::size_t count = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = rooms_.find(room);
    if (it != rooms_.end()) {
      it->second.erase(nick);
      count = it->second.size();
      if (count == 0) rooms_.erase(it);
    }
  }
  ws.unsubscribe(topic_of(room));
  std::string presence = R"({"type":"presence","room":)";
  append_json_string(presence, room);
  presence += R"(,"nick":)";
  append_json_string(presence, nick);
  presence += R"(,"event":"leave","count":)" + std::to_string(count) + '}';
  ws.publish(topic_of(room), presence);
  return count;
}

void ChatService::leave(WebSocket& ws, ChatMember& me, const std::string* room) {
  if (!room) return send_error(ws, "missing room");
  for (auto it = me.rooms.begin(); it != me.rooms.end(); ++it) {
    if (it->first != *room) continue;
    const std::string nick = it->second;
    me.rooms.erase(it);
    remove_member(ws, *room, nick);
    std::string left = R"({"type":"left","room":)";
    append_json_string(left, *room);
    ws.send_text(left + '}');
    return;
  }
  send_error(ws, "not in that room");
}

void ChatService::say(WebSocket& ws, const ChatMember& me, const std::string* room,
                      const std::string* text) {
  if (!room) return send_error(ws, "missing room");
  const std::string* nick = me.nick_in(*room);
  if (!nick) return send_error(ws, "not in that room");
  if (!text || text->empty()) return send_error(ws, "missing text");
  if (code_points(*text) > limits_.max_text) return send_error(ws, "text too long");
  std::string out = R"({"type":"message","room":)";
  append_json_string(out, *room);
  out += R"(,"nick":)";
  append_json_string(out, *nick);
  out += R"(,"text":)";
  append_json_string(out, *text);
  out += R"(,"time":)" + std::to_string(now_ms()) + '}';
  ws.publish(topic_of(*room), out, Opcode::text, true);  // the sender sees it too
}

void ChatService::on_close(WebSocket& ws, ChatMember& me) {
  for (const auto& [room, nick] : me.rooms) remove_member(ws, room, nick);
  me.rooms.clear();
}

}  // namespace duplex::demo
