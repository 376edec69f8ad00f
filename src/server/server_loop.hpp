// One event loop of the server, with its own listening socket
// (SO_REUSEPORT), the sessions it accepted, and its share of pub/sub: the
// topics its sessions subscribe to, and the hand-over of published messages
// to the other loops. It is the host of its sessions. Loop thread only, but
// for request_shutdown() and publish_from_outside().
#pragma once

#include "../session/session.hpp"
#include "../transport/event_loop.hpp"
#include "published_message.hpp"
#include "server_session.hpp"
#include "session_pool.hpp"
#include "topic_registry.hpp"

#include <duplex/server.hpp>

#include <atomic>
#include <cstddef>
#include <memory>

namespace duplex::detail {
struct ServerState;
}

namespace duplex::server {

class ServerSession;

class ServerLoop final : public session::Host,
                         private transport::AcceptHandler,
                         private transport::Flushable {
 public:
  ServerLoop(detail::ServerState& server, int listen_fd, std::size_t index);
  ~ServerLoop();

  transport::EventLoop& loop() noexcept { return *loop_; }
  detail::ServerState& server() noexcept { return server_; }
  const detail::ServerState& server() const noexcept { return server_; }
  void run();

  // Any thread: stop accepting, close every connection (1001), wait up to
  // shutdown_timeout, then end run().
  void request_shutdown();

  std::size_t session_count() const noexcept { return sessions_.size(); }
  // Any thread: what this loop's connections held at its last look.
  std::size_t memory_held() const noexcept { return memory_held_.load(std::memory_order_relaxed); }
  TopicRegistry<ServerSession>& registry() noexcept { return registry_; }
  // This loop's thread: deliver to local subscribers now, and to the other
  // loops at the end of this iteration (one hand-over per loop).
  void publish(std::string_view topic, MessageRef frame, const ServerSession* skip);
  // Any thread: deliver on this loop.
  void publish_from_outside(std::string topic, MessageRef frame);

  // session::Host
  void log(LogLevel level, std::string_view text) override;
  void session_closed(session::Session& session) override;
  void note_rate_limited(session::Session& session) override;
  // A session of this loop is done with its opening handshake (it opened).
  void handshake_finished();
  bool subscribe(session::Session& session, std::string_view topic) override;
  bool unsubscribe(session::Session& session, std::string_view topic) override;
  bool is_subscribed(const session::Session& session, std::string_view topic) const override;
  std::error_code publish(session::Session& from, std::string_view topic, std::string_view data,
                          Opcode opcode, bool include_self) override;

 private:
  void on_accept(int fd, const transport::Address& peer) override;
  void on_accept_paused(int error) override;
  bool may_accept() override;  // fewer than max_pending_handshakes under way
  void flush() override;       // hands published messages to the other loops
  void start_session(int fd, const transport::Address& peer);
  // Once a second: adds up what the connections hold, and drops the largest
  // holders while the server is over its memory budget.
  void look_at_memory();
  void close_parked() noexcept;
  // Delivers to this loop's subscribers.
  void deliver_here(std::string_view topic, PublishedMessage& message, const ServerSession* skip);
  void begin_shutdown();
  void finish_shutdown();

  struct Outgoing {
    std::string topic;
    MessageRef frame;
  };

  detail::ServerState& server_;
  std::size_t index_;
  std::unique_ptr<transport::EventLoop> loop_;
  std::unique_ptr<transport::Listener> listener_;
  // The sessions' memory: a slab per loop (see session_pool.hpp).
  SlabPool<sizeof(ServerSession)> session_memory_;
  session::SessionList sessions_;
  TopicRegistry<ServerSession> registry_;
  std::vector<std::vector<Outgoing>> outbox_;  // per destination loop
  bool shutting_down_ = false;
  // Connections accepted while max_pending_handshakes were under way, not
  // read yet: started, oldest first, as handshakes finish.
  struct Parked {
    int fd;
    transport::Address peer;
  };
  std::vector<Parked> parked_;
  std::atomic<std::size_t> memory_held_{0};
  TimerId shutdown_deadline_ = 0;
};

}  // namespace duplex::server
