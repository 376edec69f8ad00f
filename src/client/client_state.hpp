// The client's internals: one event loop and the sessions it runs. It is
// the host of its sessions. Loop thread only, but for the loop's own
// thread-safe members.
#pragma once

#include "../session/session.hpp"
#include "../transport/event_loop.hpp"
#include "../transport/tls.hpp"

#include <duplex/client.hpp>

#include <map>
#include <memory>
#include <string>
#include <utility>

namespace duplex::detail {

struct ClientState final : session::Host {
  explicit ClientState(IoBackend io);
  ~ClientState();

  void log(LogLevel level, std::string_view text) override;
  void session_closed(session::Session& session) override;
  // Whether run() has anything left to wait for.
  bool busy() const;
  void stop_everything();

  // One TLS context per (CA file, verification) pair, made on first use:
  // loading the system's CA store is too slow to repeat per connection.
  std::shared_ptr<transport::TlsContext> tls_context(const std::string& ca_file, bool verify,
                                                     std::string& error);

  std::unique_ptr<transport::EventLoop> loop;
  session::SessionList sessions;
  std::map<std::pair<std::string, bool>, std::shared_ptr<transport::TlsContext>> tls_contexts;
  bool stopping = false;  // stop() ran: nothing new starts until run() returns
};

}  // namespace duplex::detail
