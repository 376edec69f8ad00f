// A WebSocket route as the server keeps it: the handlers and settings its
// connections run with (a session Binding), and what the server itself
// applies to them (extensions to negotiate, the slow-consumer policy).
#pragma once

#include "../session/session.hpp"

#include <duplex/protocol/extension.hpp>
#include <duplex/server.hpp>

#include <string>
#include <vector>

namespace duplex::server {

struct Route : session::Binding {
  std::string path;
  std::vector<const protocol::PerMessageExtension*> extensions;  // offered to clients
  SlowConsumerPolicy slow_consumer = SlowConsumerPolicy::drop_message;
  CloseCode slow_consumer_close_code = CloseCode::try_again_later;
};

}  // namespace duplex::server
