// `duplex tour`: a client and a server protocol core talking in memory, with
// every byte they exchange printed. It shows the handshake and the framing
// rules at work without a network.
#include "commands.hpp"

#include <duplex/protocol/client_protocol.hpp>
#include <duplex/protocol/connection.hpp>
#include <duplex/protocol/server_protocol.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace duplex::cli {
namespace {

using namespace duplex::protocol;

std::vector<std::uint8_t> take_output(OutputQueue& queue) {
  std::string bytes;
  queue.drain_to(bytes);
  return {bytes.begin(), bytes.end()};
}

std::string as_string(const std::vector<std::uint8_t>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

void print_hex(const char* who, const std::vector<std::uint8_t>& bytes) {
  std::printf("  %s ->", who);
  const std::size_t shown = bytes.size() < 48 ? bytes.size() : 48;
  for (std::size_t i = 0; i < shown; ++i) std::printf(" %02x", bytes[i]);
  if (shown < bytes.size()) std::printf(" ... (%zu bytes)", bytes.size());
  std::printf("\n");
}

const char* event_name(EventType t) {
  switch (t) {
    case EventType::message: return "message";
    case EventType::ping: return "ping";
    case EventType::pong: return "pong";
    case EventType::close: return "close";
    case EventType::error: return "error";
    case EventType::none: break;
  }
  return "none";
}

// Moves what `from` wrote into `to` and prints the events it produced.
void deliver(const char* from_name, Connection& from, const char* to_name, Connection& to) {
  std::vector<std::uint8_t> wire = take_output(from.output());
  if (wire.empty()) return;
  print_hex(from_name, wire);
  std::span<std::uint8_t> in(wire);
  for (Event e = to.receive(in); e; e = to.receive(in)) {
    std::printf("  %s got %s", to_name, event_name(e.type));
    if (e.type == EventType::message) {
      std::printf(" (%s, %zu bytes): %.*s", e.opcode == Opcode::text ? "text" : "binary",
                  e.payload.size(), static_cast<int>(std::min<std::size_t>(e.payload.size(), 40)),
                  reinterpret_cast<const char*>(e.payload.data()));
    } else if (e.type == EventType::close) {
      std::printf(" %u \"%.*s\"", static_cast<unsigned>(e.code), static_cast<int>(e.payload.size()),
                  reinterpret_cast<const char*>(e.payload.data()));
    } else if (e.type == EventType::error) {
      std::printf(": %s (closing with %u)", e.error.message().c_str(),
                  static_cast<unsigned>(e.code));
    } else {
      std::printf(" \"%.*s\"", static_cast<int>(e.payload.size()),
                  reinterpret_cast<const char*>(e.payload.data()));
    }
    std::printf("\n");
  }
}

int run_tour() {
  std::printf("1. Opening handshake\n");
  // The same two objects Duplex's server and client run, without sockets.
  const ServerPolicy policy;
  ServerProtocol server_side(policy);
  ClientProtocol client_side;
  const std::vector<std::string> protocols{"chat"};
  if (auto ec = client_side.start({.host = "localhost:9002",
                                   .target = "/chat",
                                   .subprotocols = protocols,
                                   .origin = "http://localhost"})) {
    std::printf("client cannot start: %s\n", ec.message().c_str());
    return 1;
  }
  std::vector<std::uint8_t> request = take_output(client_side.output());
  std::printf("%s", as_string(request).c_str());
  std::span<std::uint8_t> request_bytes(request);
  const LifecycleEvent asked = server_side.receive(request_bytes);
  if (asked.handshake != HandshakeEvent::upgrade_request) {
    std::printf("server refused: %s\n", server_side.handshake().error().message().c_str());
    return 1;
  }
  if (auto ec = server_side.accept({.subprotocol = "chat"})) {
    std::printf("server cannot accept: %s\n", ec.message().c_str());
    return 1;
  }
  std::vector<std::uint8_t> response = take_output(server_side.output());
  std::printf("%s", as_string(response).c_str());
  std::span<std::uint8_t> response_bytes(response);
  if (client_side.receive(response_bytes).handshake != HandshakeEvent::opened) {
    std::printf("client refused: %s\n", client_side.handshake().error().message().c_str());
    return 1;
  }
  std::printf("  handshake complete, subprotocol \"%s\"\n\n",
              client_side.agreement().subprotocol.c_str());

  Connection client({.role = Role::client});
  Connection server({.role = Role::server});

  std::printf("2. A masked text message from the client, echoed unmasked\n");
  (void)client.send_text("Hello, Duplex");
  deliver("client", client, "server", server);
  (void)server.send_text("Hello, Duplex");
  deliver("server", server, "client", client);

  std::printf("\n3. A fragmented message with a ping in the middle\n");
  (void)client.send_fragment(Opcode::text, Connection::as_bytes("frag"), false);
  (void)client.ping(Connection::as_bytes("are you there?"));
  (void)client.send_fragment(Opcode::continuation, Connection::as_bytes("mented"), true);
  deliver("client", client, "server", server);
  deliver("server", server, "client", client);

  std::printf("\n4. Close handshake\n");
  (void)client.close(CloseCode::normal, "bye");
  deliver("client", client, "server", server);
  deliver("server", server, "client", client);
  std::printf("  server closes TCP now: %s\n\n", server.should_close_transport() ? "yes" : "no");

  std::printf("5. A peer that breaks the rules: invalid UTF-8 in a text frame\n");
  Connection strict({.role = Role::server});
  Connection sloppy({.role = Role::client});
  (void)sloppy.send(Opcode::text, std::span<const std::uint8_t>(
                                      reinterpret_cast<const std::uint8_t*>("bad \xff"), 5));
  deliver("client", sloppy, "server", strict);
  deliver("server", strict, "client", sloppy);
  return 0;
}

}  // namespace

Run add_tour_command(CLI::App& app) {
  app.add_subcommand("tour", "Show the protocol core at work: a client and a server in memory");
  return run_tour;
}

}  // namespace duplex::cli
