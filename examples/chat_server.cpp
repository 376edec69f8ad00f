// Chat rooms over publish/subscribe. Each connection joins the room its URL
// names, under a nickname (ws://HOST:PORT/chat?room=lobby&nick=ann); every
// message it sends goes to everyone in that room, itself included: framed
// once, the same bytes queued for every member, whichever thread serves
// them. The room and the nickname are the connection's own data, filled in
// by the upgrade hook and handed to every handler.
//
//   chat_server [PORT]     (default 9002; 0 picks a free port)
#include <duplex/server.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

struct Member {
  std::string room;
  std::string nick;
};

// The value of `key` in a query string ("room=lobby&nick=ann"), if it is
// made of letters, digits, '-' and '_' only (what a room or a nick may be).
std::string query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == key) {
      const std::string_view value = pair.substr(eq + 1);
      if (value.empty() || value.size() > 32) return {};
      for (char c : value) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) return {};
      }
      return std::string(value);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

std::string topic_of(const Member& m) {
  return "room:" + m.room;
}

}  // namespace

int main(int argc, char** argv) {
  const auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 9002);
  duplex::Server server({.port = port});
  server.websocket<Member>(
      "/chat",
      {
          .on_upgrade =
              [](duplex::Upgrade& request, Member& me) {
                me.room = query_value(request.query(), "room");
                me.nick = query_value(request.query(), "nick");
                if (me.room.empty() || me.nick.empty()) {
                  request.reject(400, "use /chat?room=ROOM&nick=NICK (letters, digits, - and _)\n");
                }
              },
          .on_open =
              [](duplex::WebSocket& ws, Member& me) {
                ws.subscribe(topic_of(me));
                ws.publish(topic_of(me), me.nick + " joined");  // to the others
              },
          .on_message =
              [](duplex::WebSocket& ws, Member& me, duplex::Message m) {
                if (!m.is_text()) return;
                ws.publish(topic_of(me), me.nick + ": " + std::string(m.data), duplex::Opcode::text,
                           true);  // the sender sees its own message too
              },
          .on_close = [](duplex::WebSocket& ws, Member& me, duplex::CloseCode,
                         std::string_view) { ws.publish(topic_of(me), me.nick + " left"); },
      });
  if (const duplex::Status listening = server.listen(); !listening) {
    std::fprintf(stderr, "chat_server: %s\n", listening.message().c_str());
    return 1;
  }
  std::printf("listening on ws://127.0.0.1:%u/chat\n", server.port());
  std::fflush(stdout);
  return server.run() ? 0 : 1;
}
