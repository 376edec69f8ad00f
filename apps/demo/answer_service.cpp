#include "answer_service.hpp"

#include "http_json.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <random>
#include <string>
#include <vector>

namespace duplex::demo {
namespace {

// answers:<8 to 64 of [A-Za-z0-9_-]>
bool valid_answer_channel(const std::string& channel) {
  constexpr std::string_view prefix = "answers:";
  if (channel.rfind(prefix, 0) != 0) return false;
  const std::string_view id = std::string_view(channel).substr(prefix.size());
  return id.size() >= 8 && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
         });
}

// A made-up answer that mentions the question: what the demo streams.
std::string compose_answer(const std::string& question, std::mt19937& rng) {
  static constexpr std::array topics = {
      "Each word you see is its own publication on your answers channel, sent a few dozen "
      "milliseconds after the one before, so the page can draw it while it is still being "
      "written.",
      "The channel keeps a history with offsets, so if your connection drops halfway the page "
      "resubscribes with its last offset and the server sends the words it missed: nothing is "
      "lost and nothing comes twice.",
      "On the server, one loop timer per answer publishes the next word and sets the one after; "
      "no thread sleeps, so a thousand answers cost a thousand timers, not a thousand threads.",
      "The same push server carries the chat, the ticker and the comments over one WebSocket, "
      "each on its own channel, speaking Centrifugo's protocol so its SDKs work too.",
      "A publication is framed once and shared by every subscriber, so a busy channel costs "
      "little more than a quiet one."};
  std::vector<std::string> parts(topics.begin(), topics.end());
  std::shuffle(parts.begin(), parts.end(), rng);
  std::string q = question.substr(0, 120);
  if (q.size() < question.size()) q += "...";
  std::string answer = "Good question: \xE2\x80\x9C" + q + "\xE2\x80\x9D. " + parts[0] + " " +
                       parts[1] + " " + parts[2] + " That is the whole trick.";
  return answer;
}

// Words with the space before them: their concatenation is the text.
std::vector<std::string> tokens_of(const std::string& text) {
  std::vector<std::string> tokens;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start + 1);
    if (end == std::string::npos) end = text.size();
    tokens.push_back(text.substr(start, end - start));
    start = end;
  }
  return tokens;
}

struct Stream {
  push::PushServer* push;
  std::string channel;
  std::vector<std::string> tokens;
  std::size_t next = 0;
  std::shared_ptr<std::atomic<int>> streaming;
  std::mt19937 rng{std::random_device{}()};
};

// Publishes the next token and sets the timer for the one after.
void publish_next(Loop& loop, const std::shared_ptr<Stream>& s) {
  const std::size_t i = s->next++;
  const bool done = s->next >= s->tokens.size();
  const nlohmann::json token = {{"token", s->tokens[i]}, {"index", i}, {"done", done}};
  s->push->publish(s->channel, token.dump());
  if (done) {
    s->streaming->fetch_sub(1);
    return;
  }
  const auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 50)(s->rng));
  loop.after(delay, [&loop, s] { publish_next(loop, s); });
}

}  // namespace

void AnswerService::add_routes(Server& server) {
  server.http_post("/demo/ask", [this](const HttpRequest& req, HttpResponse& r) {
    const auto body = read_json_object(req, r);
    if (!body) return;
    const std::string question = text_field(*body, "question", max_question);
    const std::string channel = text_field(*body, "channel", 80);
    if (question.empty() || !valid_answer_channel(channel)) {
      reply_json(r, 400,
                 {{"error",
                   "question (1-500 characters) and channel (answers:<8-64 letters, digits, - "
                   "or _>) are needed"}});
      return;
    }
    if (streaming_->fetch_add(1) >= max_streaming) {
      streaming_->fetch_sub(1);
      reply_json(r, 503, {{"error", "too many answers streaming: try again in a moment"}});
      return;
    }
    auto s = std::make_shared<Stream>();
    s->push = &push_;
    s->channel = channel;
    s->streaming = streaming_;
    s->tokens = tokens_of(compose_answer(question, s->rng));
    // The answers take turns among the loops; the first word follows the
    // reply to this request.
    Loop& loop = server_.loop(next_loop_.fetch_add(1) % server_.loop_count());
    loop.after(std::chrono::milliseconds(60), [&loop, s] { publish_next(loop, s); });
    reply_json(r, 200, {{"channel", channel}, {"tokens", s->tokens.size()}});
  });
}

}  // namespace duplex::demo
