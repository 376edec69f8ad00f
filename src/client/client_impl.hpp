// Client internals: one event loop and the sessions it runs.
#pragma once

#include "../transport/event_loop.hpp"
#include "../transport/tls.hpp"

#include <duplex/client.hpp>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace duplex::client {

class ClientSession;

// Lets threads that may outlive the client (name resolution) post back to
// its loop safely: they post only while the loop is still there.
struct LoopMailbox {
  std::mutex mutex;
  transport::EventLoop* loop = nullptr;

  void post(std::function<void()> fn) {
    std::lock_guard lock(mutex);
    if (loop) loop->post(std::move(fn));
  }
};

}  // namespace duplex::client

namespace duplex {

struct Client::Impl {
  Impl();
  ~Impl();

  void session_closed(client::ClientSession& session);
  // One TLS context per (CA file, verification) pair, made on first use:
  // loading the system's CA store is too slow to repeat per connection.
  std::shared_ptr<transport::TlsContext> tls_context(const std::string& ca_file, bool verify,
                                                     std::string& error);

  transport::EventLoop loop;
  std::shared_ptr<client::LoopMailbox> mailbox;
  client::ClientSession* head = nullptr;
  std::size_t count = 0;
  std::map<std::pair<std::string, bool>, std::shared_ptr<transport::TlsContext>> tls_contexts;
};

}  // namespace duplex
