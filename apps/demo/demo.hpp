// The demo `duplex serve` runs by default, on the push server's channels:
//
//   chat:<room>     rooms; the page publishes {type, nick, text, time} itself
//   ticker:prices   simulated prices, published by TickerService's thread
//   comments:live   generated comments (a thread) and what visitors post
//                   to POST /demo/comment
//   answers:<id>    an answer streamed token by token after POST /demo/ask
//
// plus the page itself (embedded, unless a static directory replaces it) and
// /echo for tools. Only the public API is used (duplex/server.hpp and
// duplex/push/push_server.hpp).
#pragma once

#include "answer_service.hpp"
#include "comments_service.hpp"
#include "ticker_service.hpp"

#include <duplex/push/push_server.hpp>
#include <duplex/server.hpp>

#include <map>
#include <string>

namespace duplex::demo {

/// The namespaces the page uses, with the options it needs (history and
/// recovery for chat, ticker and answers; presence and join/leave for chat;
/// client publishing for chat only).
std::map<std::string, push::ChannelOptions> demo_namespaces();

/// The demo's routes and producers on a server and its push server (both
/// must outlive it). Construct before the server listens; `start()` once it
/// listens, `stop()` after `run()` has returned.
class Demo {
 public:
  Demo(Server& server, push::PushServer& push, bool embedded_page);
  void start();
  void stop();

 private:
  TickerService ticker_;
  CommentsService comments_;
  AnswerService answers_;
};

}  // namespace duplex::demo
