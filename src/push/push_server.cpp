#include "client_protocol.hpp"
#include "command_frame.hpp"
#include "history_file.hpp"
#include "http_api.hpp"
#include "metrics.hpp"
#include "push_core.hpp"

#include <duplex/push/push_server.hpp>

#include <nlohmann/json.hpp>

namespace duplex::push {

namespace {

// A command frame larger than this closes the connection with 1009, as
// Centrifugo's default limit does.
constexpr std::uint64_t max_command_frame = 64 * 1024;

}  // namespace

PushServer::PushServer(Server& server, PushOptions options)
    : core_(std::make_unique<detail::PushCore>(server, std::move(options))) {
  auto protocol = std::make_shared<detail::ClientProtocol>(*core_);
  Handlers<detail::PushConnection> handlers{
      .on_open = [protocol](WebSocket& ws, detail::PushConnection& c) { protocol->open(ws, c); },
      .on_message =
          [protocol](WebSocket& ws, detail::PushConnection& c, Message m) {
            if (m.opcode != Opcode::text) {
              // The JSON protocol is text; binary means the protobuf one.
              ws.close(disconnect_bad_request.close_code(), "binary frames not supported");
              return;
            }
            protocol->message(ws, c, m.data);
          },
      .on_close = [protocol](WebSocket& ws, detail::PushConnection& c, CloseCode,
                             std::string_view) { protocol->closed(ws, c); },
  };
  RouteOptions route;
  route.max_message_size = max_command_frame;
  // The protocol's own pings ({} every ping_interval) keep the connection
  // checked; WebSocket pings on top would only add traffic.
  route.ping_interval = std::chrono::milliseconds(0);
  // A subscriber too slow for its publications is disconnected (3008,
  // "slow": the SDKs reconnect and recover what it missed) rather than
  // left to miss some silently, which recovery could not tell.
  route.slow_consumer = SlowConsumerPolicy::close_connection;
  route.slow_consumer_close_code = static_cast<CloseCode>(disconnect_slow.code);
  server.websocket(core_->options().websocket_path, std::move(handlers), route);
  detail::add_http_api(server, *core_);
  detail::add_operations_routes(server, *core_);
}

PushServer::~PushServer() = default;

PublishResult PushServer::publish(std::string_view channel, std::string_view json_data) {
  if (!json_depth_within(json_data, max_json_depth)) return {.error = 107};
  const auto data = nlohmann::json::parse(json_data, nullptr, false);
  if (data.is_discarded() || data.is_null()) return {.error = 107};
  return core_->publish(channel, data.dump(), {});
}

Status PushServer::save_history(const std::string& path) {
  return push::save_history(core_->memory_broker(), path);
}

Status PushServer::load_history(const std::string& path) {
  std::size_t skipped = 0;
  Status s = push::load_history(core_->memory_broker(), path, skipped);
  if (s && skipped > 0) {
    return Status(std::make_error_code(std::errc::invalid_argument),
                  path + ": " + std::to_string(skipped) + " lines could not be read (skipped)");
  }
  return s;
}

void PushServer::reload(PushOptions options) {
  core_->reload(std::move(options));
}

PushStats PushServer::stats() const {
  return {core_->clients.load(), core_->subscriptions.load(), core_->publications.load(),
          core_->commands.load(), core_->protocol_errors.load()};
}

}  // namespace duplex::push
