// One event loop of the server, with its own listening socket (SO_REUSEPORT)
// and the sessions it accepted.
#pragma once

#include "../transport/event_loop.hpp"
#include "../transport/socket.hpp"
#include "published_message.hpp"
#include "server_session.hpp"
#include "session_pool.hpp"
#include "topic_registry.hpp"

#include <duplex/server.hpp>

#include <cstddef>

namespace duplex::server {

class ServerSession;

class ServerLoop final : public transport::IoHandler, public transport::Flushable {
 public:
  ServerLoop(Server::Impl& server, int listen_fd, std::size_t index);
  ~ServerLoop();

  transport::EventLoop& loop() noexcept { return loop_; }
  Server::Impl& server() noexcept { return server_; }
  void run();

  // Called from any thread: stop accepting, close every connection (1001),
  // wait up to shutdown_timeout, then end run().
  void request_shutdown();

  void session_closed(ServerSession& session);
  std::size_t session_count() const noexcept { return count_; }

  TopicRegistry& registry() noexcept { return registry_; }
  // From this loop's thread: deliver to local subscribers now, and to the
  // other loops at the end of this iteration (one hand-over per loop).
  void publish(std::string_view topic, MessageRef frame, const ServerSession* skip);
  // From any thread: deliver on this loop.
  void publish_from_outside(std::string topic, MessageRef frame);

 private:
  void on_io(std::uint32_t events) override;  // the listening socket
  void flush() override;                      // hands published messages to the other loops
  void accept_pending();
  void pause_accepting(int error);
  void begin_shutdown();
  void finish_shutdown();

  struct Outgoing {
    std::string topic;
    MessageRef frame;
  };

  Server::Impl& server_;
  std::size_t index_;
  transport::EventLoop loop_;
  // The sessions' memory: a slab per loop (see session_pool.hpp).
  SlabPool<sizeof(ServerSession)> session_memory_;
  TopicRegistry registry_;
  std::vector<std::vector<Outgoing>> outbox_;  // per destination loop
  int listen_fd_;
  ServerSession* head_ = nullptr;
  std::size_t count_ = 0;
  bool shutting_down_ = false;
  std::int64_t last_accept_warning_ = -1'000'000;
  transport::CallbackTimer resume_accepting_;
  transport::CallbackTimer shutdown_deadline_;
};

}  // namespace duplex::server
