#include "metrics.hpp"

namespace duplex::push::detail {
namespace {

void metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            std::uint64_t value) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  out.append(name).append(" ").append(std::to_string(value)).append("\n");
}

}  // namespace

std::string prometheus_text(PushCore& core) {
  const ServerStats server = core.server.stats();
  auto relaxed = [](const auto& counter) { return counter.load(std::memory_order_relaxed); };
  std::string out;
  metric(out, "duplex_connections", "gauge", "Open sockets, WebSocket or not.", server.connections);
  metric(out, "duplex_push_clients", "gauge", "Clients connected to the push protocol.",
         relaxed(core.clients));
  metric(out, "duplex_push_subscriptions", "gauge", "Channel subscriptions of all clients.",
         relaxed(core.subscriptions));
  metric(out, "duplex_push_channels", "gauge", "Channels with at least one subscriber.",
         core.channels().size());
  metric(out, "duplex_push_commands_total", "counter", "Client protocol commands received.",
         relaxed(core.commands));
  metric(out, "duplex_push_received_bytes_total", "counter",
         "Bytes of client protocol frames received.", relaxed(core.bytes_in));
  metric(out, "duplex_push_protocol_errors_total", "counter",
         "Commands answered with an error, and disconnects for bad input.",
         relaxed(core.protocol_errors));
  metric(out, "duplex_push_publications_total", "counter", "Publications (HTTP API and clients).",
         relaxed(core.publications));
  metric(out, "duplex_push_deliveries_total", "counter",
         "Publications queued for subscribers (one per subscriber).", relaxed(core.deliveries));
  metric(out, "duplex_push_delivered_bytes_total", "counter",
         "Payload bytes of the publications queued for subscribers.", relaxed(core.bytes_out));
  metric(out, "duplex_push_api_requests_total", "counter", "HTTP API requests.",
         relaxed(core.api_requests));
  metric(out, "duplex_messages_dropped_total", "counter",
         "Publications a slow subscriber missed (its queue was full).", server.messages_dropped);
  metric(out, "duplex_slow_consumers_closed_total", "counter",
         "Subscribers closed for being too slow.", server.slow_consumers_closed);
  metric(out, "duplex_connections_refused_total", "counter",
         "Connections answered 503 for max_connections or max_connections_per_address.",
         server.connections_refused);
  metric(out, "duplex_memory_held_bytes", "gauge",
         "Bytes connections hold for their peers (output of their own, input being reassembled).",
         server.memory_held);
  metric(out, "duplex_memory_shed_total", "counter",
         "Connections dropped to keep within the memory budget.", server.memory_shed);
  metric(out, "duplex_rate_limited_closed_total", "counter",
         "Connections closed for sending more than max_messages_per_second.",
         server.rate_limited_closed);
  metric(out, "duplex_push_broker_up", "gauge", "1 while the broker works (memory: always).", 1);

  const std::string_view name = "duplex_push_publish_duration_seconds";
  out.append("# HELP ").append(name).append(
      " Time to order a publication and hand it to every event loop.\n");
  out.append("# TYPE ").append(name).append(" histogram\n");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < core.publish_latency.size(); ++i) {
    cumulative += relaxed(core.publish_latency[i]);
    std::string le = "+Inf";
    if (i < PushCore::publish_buckets_us.size()) {
      le = std::to_string(static_cast<double>(PushCore::publish_buckets_us[i]) / 1e6);
      le.erase(le.find_last_not_of('0') + 1);  // 0.000010 -> 0.00001
    }
    out.append(name).append("_bucket{le=\"").append(le).append("\"} ");
    out.append(std::to_string(cumulative)).append("\n");
  }
  out.append(name).append("_sum ");
  out.append(std::to_string(static_cast<double>(relaxed(core.publish_latency_sum_us)) / 1e6));
  out.append("\n").append(name).append("_count ").append(std::to_string(cumulative)).append("\n");
  return out;
}

void add_operations_routes(Server& server, PushCore& core) {
  server.http("/health", [](const HttpRequest&, HttpResponse& r) {
    r.content_type = "application/json";
    r.body = "{}";
  });
  server.http("/metrics", [&core](const HttpRequest&, HttpResponse& r) {
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = prometheus_text(core);
  });
}

}  // namespace duplex::push::detail
