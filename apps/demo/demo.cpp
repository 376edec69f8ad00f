#include "demo.hpp"

#include "embedded_files.hpp"

#include <chrono>

namespace duplex::demo {

std::map<std::string, push::ChannelOptions> demo_namespaces() {
  using std::chrono::seconds;
  std::map<std::string, push::ChannelOptions> ns;
  ns["chat"] = {.history_size = 100,
                .history_ttl = seconds(600),
                .force_recovery = true,
                .presence = true,
                .join_leave = true,
                .allow_publish_for_client = true};
  ns["ticker"] = {.history_size = 50, .history_ttl = seconds(60), .force_recovery = true};
  ns["comments"] = {.history_size = 50, .history_ttl = seconds(60)};
  ns["answers"] = {.history_size = 200, .history_ttl = seconds(60), .force_recovery = true};
  return ns;
}

Demo::Demo(Server& server, push::PushServer& push, bool embedded_page)
    : ticker_(push, std::chrono::milliseconds(200)), comments_(push), answers_(server, push) {
  server.websocket("/echo",
                   {.on_message = [](WebSocket& ws, Message m) { ws.send(m.data, m.opcode); }});
  comments_.add_routes(server);
  answers_.add_routes(server);
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

void Demo::start() {
  ticker_.start();
  comments_.start();
}

void Demo::stop() {
  ticker_.stop();
  comments_.stop();
}

}  // namespace duplex::demo
