// Client internals: one event loop and the sessions it runs.
#pragma once

#include "../net/event_loop.hpp"

#include <duplex/client.hpp>

#include <cstddef>
#include <memory>
#include <mutex>

namespace duplex::client {

class ClientSession;

// Lets threads that may outlive the client (name resolution) post back to
// its loop safely: they post only while the loop is still there.
struct LoopMailbox {
  std::mutex mutex;
  net::EventLoop* loop = nullptr;

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

  net::EventLoop loop;
  std::shared_ptr<client::LoopMailbox> mailbox;
  client::ClientSession* head = nullptr;
  std::size_t count = 0;
};

}  // namespace duplex
