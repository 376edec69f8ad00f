// The demo's live comments on `comments:live`: a thread of its own
// publishes a few short generated comments a second, and POST
// /demo/comment {nick, text} publishes what a visitor writes. Each
// publication is {nick, text, time, kind: "bot"|"visitor"}.
#pragma once

#include "producer_thread.hpp"

#include <duplex/push/push_server.hpp>
#include <duplex/server.hpp>

namespace duplex::demo {

class CommentsService {
 public:
  static constexpr const char* channel = "comments:live";
  static constexpr std::size_t max_nick = 24;   ///< characters
  static constexpr std::size_t max_text = 140;  ///< characters

  explicit CommentsService(push::PushServer& push) : push_(push) {}

  void add_routes(Server& server);
  void start();
  void stop() { thread_.stop(); }

 private:
  push::PushServer& push_;
  ProducerThread thread_;
};

}  // namespace duplex::demo
