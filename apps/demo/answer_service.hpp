// The demo's streamed answers. The page picks a channel `answers:<id>`,
// subscribes to it, then POSTs /demo/ask {channel, question}; the answer
// comes back on that channel token by token, one publication each
// ({token, index, done}), 20-50 ms apart, the way a language model's
// answer streams. The tokens are timed by one loop timer per answer that
// sets the next (no thread sleeps), on the server's loops.
#pragma once

#include <duplex/push/push_server.hpp>
#include <duplex/server.hpp>

#include <atomic>
#include <memory>

namespace duplex::demo {

class AnswerService {
 public:
  static constexpr std::size_t max_question = 500;  ///< characters
  static constexpr int max_streaming = 32;          ///< answers at a time; more: 503

  AnswerService(Server& server, push::PushServer& push)
      : server_(server), push_(push), streaming_(std::make_shared<std::atomic<int>>(0)) {}

  void add_routes(Server& server);

 private:
  Server& server_;
  push::PushServer& push_;
  std::shared_ptr<std::atomic<int>> streaming_;  // shared with the timers
  std::atomic<std::size_t> next_loop_{0};
};

}  // namespace duplex::demo
