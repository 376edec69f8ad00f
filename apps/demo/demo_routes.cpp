#include "demo_routes.hpp"

#include "embedded_files.hpp"

namespace duplex::demo {

void add_demo_routes(Server& server, ChatService& chat, TickerService& ticker, bool embedded_page) {
  server.websocket<ChatMember>("/chat", chat.route());
  server.websocket("/ticker", ticker.route());
  server.websocket("/echo",
                   {.on_message = [](WebSocket& ws, Message m) { ws.send(m.data, m.opcode); }});
  if (!embedded_page) return;
  for (const EmbeddedFile& file : embedded_files()) {
    auto serve = [&file](const HttpRequest&, HttpResponse& r) {
      r.content_type = std::string(content_type_for(file.path));
      r.body.assign(reinterpret_cast<const char*>(file.bytes.data()), file.bytes.size());
      r.headers.emplace_back("Cache-Control", "no-cache");
    };
    server.http(std::string(file.path), serve);
    if (file.path == "/index.html") server.http("/", serve);
  }
}

}  // namespace duplex::demo
