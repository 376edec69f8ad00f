// A duplex::Server running on its own thread on an ephemeral loopback port,
// stopped (gracefully) and joined when the test ends.
#pragma once

#include <duplex/server.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

namespace duplex::test {

class RunningServer {
 public:
  explicit RunningServer(ServerOptions options, std::function<void(Server&)> configure) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.handle_signals = false;
    if (options.threads == 0) options.threads = 1;
    server_ = std::make_unique<Server>(options);
    configure(*server_);
    const Status listening = server_->listen();
    if (!listening) throw std::system_error(listening.error, "listen: " + listening.detail);
    thread_ = std::thread([this] { result_ = server_->run().error; });
  }
  ~RunningServer() { stop(); }

  void stop() {
    if (!thread_.joinable()) return;
    server_->stop();
    thread_.join();
  }

  Server& server() { return *server_; }
  std::uint16_t port() const { return server_->port(); }
  std::string url(std::string_view path = "/") const {
    return "ws://127.0.0.1:" + std::to_string(port()) + std::string(path);
  }

 private:
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::error_code result_;
};

}  // namespace duplex::test
