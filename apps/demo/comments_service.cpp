#include "comments_service.hpp"

#include "http_json.hpp"

#include <array>
#include <memory>
#include <random>
#include <string>

namespace duplex::demo {
namespace {

constexpr std::array nicks = {"ada",      "linus",  "grace", "ken",   "barbara", "dennis",
                              "margaret", "bjarne", "radia", "guido", "frances", "tim"};
constexpr std::array openings = {"this is", "wow,",           "honestly",  "ok but", "lol",
                                 "so",      "not gonna lie,", "hot take:", "+1,",    "hmm,"};
constexpr std::array subjects = {"the latency",   "this stream", "the chart",          "io_uring",
                                 "the reconnect", "epoll",       "the fan-out",        "zero copy",
                                 "the backoff",   "recovery",    "permessage-deflate", "this demo"};
constexpr std::array endings = {"is smooth",   "looks great",          "is so fast", "just works",
                                "made my day", "is underrated",        "rocks",      "is wild",
                                "is clean",    "is my favourite part", "ftw",        "is magic"};
template <typename Array, typename Rng>
auto pick(const Array& a, Rng& rng) {
  return a[std::uniform_int_distribution<std::size_t>(0, a.size() - 1)(rng)];
}

}  // namespace

void CommentsService::add_routes(Server& server) {
  server.http_post("/demo/comment", [this](const HttpRequest& req, HttpResponse& r) {
    const auto body = read_json_object(req, r);
    if (!body) return;
    const std::string nick = text_field(*body, "nick", max_nick);
    const std::string text = text_field(*body, "text", max_text);
    if (nick.empty() || text.empty()) {
      reply_json(r, 400,
                 {{"error", "nick (1-24 characters) and text (1-140 characters) are needed"}});
      return;
    }
    const nlohmann::json comment = {
        {"nick", nick}, {"text", text}, {"time", unix_ms()}, {"kind", "visitor"}};
    const push::PublishResult published = push_.publish(channel, comment.dump());
    if (published.error) {
      reply_json(r, 503, {{"error", "not published"}, {"code", published.error}});
      return;
    }
    reply_json(r, 200, {{"channel", channel}, {"offset", published.offset}});
  });
}

void CommentsService::start() {
  auto rng = std::make_shared<std::mt19937>(std::random_device{}());
  thread_.start([this, rng] {
    std::mt19937& g = *rng;
    const std::string text =
        std::string(pick(openings, g)) + " " + pick(subjects, g) + " " + pick(endings, g);
    const nlohmann::json comment = {
        {"nick", pick(nicks, g)}, {"text", text}, {"time", unix_ms()}, {"kind", "bot"}};
    push_.publish(channel, comment.dump());
    // A few a second, unevenly, as people type.
    return std::chrono::milliseconds(std::uniform_int_distribution<int>(180, 650)(g));
  });
}

}  // namespace duplex::demo
