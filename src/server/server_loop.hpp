// One event loop of the server, with its own listening socket (SO_REUSEPORT)
// and the sessions it accepted.
#pragma once

#include "../net/event_loop.hpp"
#include "../net/socket.hpp"

#include <duplex/server.hpp>

#include <cstddef>

namespace duplex::server {

class ServerSession;

class ServerLoop final : public net::IoHandler {
 public:
  ServerLoop(Server::Impl& server, int listen_fd);
  ~ServerLoop();

  net::EventLoop& loop() noexcept { return loop_; }
  Server::Impl& server() noexcept { return server_; }
  void run();

  // Called from any thread: stop accepting, close every connection (1001),
  // wait up to shutdown_timeout, then end run().
  void request_shutdown();

  void session_closed(ServerSession& session);
  std::size_t session_count() const noexcept { return count_; }

 private:
  void on_io(std::uint32_t events) override;  // the listening socket
  void accept_pending();
  void pause_accepting(int error);
  void begin_shutdown();
  void finish_shutdown();

  Server::Impl& server_;
  net::EventLoop loop_;
  int listen_fd_;
  ServerSession* head_ = nullptr;
  std::size_t count_ = 0;
  bool shutting_down_ = false;
  std::int64_t last_accept_warning_ = -1'000'000;
  net::CallbackTimer resume_accepting_;
  net::CallbackTimer shutdown_deadline_;
};

}  // namespace duplex::server
