#include "server_loop.hpp"

#include "server_session.hpp"
#include "server_state.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace duplex::server {
namespace {

// How long accepting stops while too many handshakes are under way: short,
// so that connections waiting in the backlog are taken soon after room is
// made.
constexpr std::int64_t hold_accepting_ms = 20;
// How often a loop adds up the memory its connections hold.
constexpr std::chrono::milliseconds memory_look_interval{1000};
// Connections holding less than this are never dropped for the budget.
constexpr std::size_t shed_minimum = 64 * 1024;

ServerSession& server_session(session::Session& s) {
  return static_cast<ServerSession&>(s);
}

}  // namespace

ServerLoop::ServerLoop(detail::ServerState& server, int listen_fd, std::size_t index)
    : server_(server), index_(index) {
  std::string note;
  loop_ = transport::make_event_loop(server.options.io, true, &note);
  if (!note.empty() && index == 0) server_.log(LogLevel::warning, note);
  listener_ = loop_->listen(listen_fd, *this);
  loop_->after(memory_look_interval, [this] { look_at_memory(); });
}

ServerLoop::~ServerLoop() {
  listener_.reset();
  close_parked();
  // Sessions still here never opened (shutdown drops them) or the loop
  // never ran: nothing to report, only memory to give back.
  while (session::Session* s = sessions_.front()) {
    sessions_.remove(*s);
    auto* session = &server_session(*s);
    registry_.unsubscribe_all(*session);
    session->~ServerSession();
    session_memory_.give_back(session);
  }
  // Deferred work (frees of closed sessions) runs now, with the loop.
  loop_.reset();
}

void ServerLoop::run() {
  loop_->run();
}

void ServerLoop::log(LogLevel level, std::string_view text) {
  server_.log(level, text);
}

// ---------------------------------------------------------------- accepting

void ServerLoop::on_accept(int fd, const transport::Address& peer) {
  detail::ServerState& s = server_;
  const std::size_t pending = s.pending_handshakes.load(std::memory_order_relaxed);
  if (pending >= s.options.max_pending_handshakes || !parked_.empty()) {
    // Clients that connect and say nothing, or a storm of reconnects:
    // the next ones wait in the kernel's backlog (their requests are not
    // read, and cost us nothing) until these finish or time out. Those
    // the kernel already handed over wait here, unread, in order.
    parked_.push_back({fd, peer});
    if (listener_) listener_->hold(hold_accepting_ms);
    s.warn(WarningCause::pending_limit,
           std::to_string(pending) +
               " connections are in their opening handshake (max_pending_handshakes): new "
               "ones wait");
    return;
  }
  start_session(fd, peer);
}

void ServerLoop::start_session(int fd, const transport::Address& peer) {
  detail::ServerState& s = server_;
  // Over a limit, the connection still gets a session: it answers the
  // request with 503 (a dropped connection would look like a network
  // fault and be retried at once).
  ServerSession::Refusal refusal = ServerSession::Refusal::none;
  if (s.connections.load(std::memory_order_relaxed) >= s.max_connections) {
    refusal = ServerSession::Refusal::server_full;
    s.warn(WarningCause::connection_limit,
           "refusing connections with 503: " + std::to_string(s.max_connections) +
               " are open (max_connections)");
  } else if (s.options.max_connections_per_address != 0 && !s.take_address_slot(peer.host())) {
    refusal = ServerSession::Refusal::address_full;
    s.warn(WarningCause::address_limit, "refusing connections from " + peer.host() + " with 503: " +
                                            std::to_string(s.options.max_connections_per_address) +
                                            " are open from there (max_connections_per_address)");
  }
  if (refusal != ServerSession::Refusal::none) {
    s.connections_refused.fetch_add(1, std::memory_order_relaxed);
  }
  auto* session = new (session_memory_.take()) ServerSession(*this, peer, refusal);
  sessions_.push_front(*session);
  s.connections.fetch_add(1, std::memory_order_relaxed);
  s.pending_handshakes.fetch_add(1, std::memory_order_relaxed);
  session->start(fd);
}

bool ServerLoop::may_accept() {
  const auto room = [this] {
    return server_.pending_handshakes.load(std::memory_order_relaxed) <
           server_.options.max_pending_handshakes;
  };
  std::size_t taken = 0;
  while (taken < parked_.size() && room() && !shutting_down_) {
    start_session(parked_[taken].fd, parked_[taken].peer);
    ++taken;
  }
  parked_.erase(parked_.begin(), parked_.begin() + static_cast<std::ptrdiff_t>(taken));
  return parked_.empty() && room();
}

void ServerLoop::close_parked() noexcept {
  for (const Parked& p : parked_) ::close(p.fd);
  parked_.clear();
}

void ServerLoop::handshake_finished() {
  server_.pending_handshakes.fetch_sub(1, std::memory_order_relaxed);
}

void ServerLoop::on_accept_paused(int error) {
  server_.warn(WarningCause::accept_failed, std::string("accept failed: ") + std::strerror(error) +
                                                "; pausing new connections for 100 ms");
}

void ServerLoop::note_rate_limited(session::Session&) {
  server_.rate_limited_closed.fetch_add(1, std::memory_order_relaxed);
}

void ServerLoop::session_closed(session::Session& s) {
  ServerSession& session = server_session(s);
  while (registry_.subscription_count(session) > 0) {
    const std::string topic = registry_.last_topic(session);
    unsubscribe(session, topic);
  }
  sessions_.remove(session);
  server_.connections.fetch_sub(1, std::memory_order_relaxed);
  if (session.awaiting_request()) handshake_finished();
  if (session.holds_address_slot()) server_.give_back_address_slot(session.peer().host());
  loop_->defer([this, s = &session] {
    s->~ServerSession();
    session_memory_.give_back(s);
  });
  if (shutting_down_ && sessions_.empty()) loop_->stop();
}

// ---------------------------------------------------------------- memory

void ServerLoop::look_at_memory() {
  if (shutting_down_) return;
  loop_->after(memory_look_interval, [this] { look_at_memory(); });
  std::size_t here = 0;
  std::vector<std::pair<std::size_t, session::Session*>> large;
  sessions_.for_each([&](session::Session& s) {
    const std::size_t held = s.memory_held();
    here += held;
    if (held >= shed_minimum) large.emplace_back(held, &s);
  });
  memory_held_.store(here, std::memory_order_relaxed);
  std::size_t total = 0;
  for (const auto& loop : server_.loops) total += loop->memory_held();
  const std::size_t budget = server_.memory_budget;
  if (total <= budget || large.empty()) return;
  // The largest holders first: they are the likeliest culprits (a peer
  // that sends big messages and reads nothing), and each frees the most.
  std::sort(large.begin(), large.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::size_t dropped = 0;
  for (const auto& [held, session] : large) {
    if (total <= budget) break;
    log(LogLevel::info, "dropping " + session->peer().to_string() + ": it holds " +
                            std::to_string(held) +
                            " bytes and the server is over its memory budget");
    session->do_terminate("server memory budget exceeded");
    total -= held;
    here -= held;
    ++dropped;
  }
  memory_held_.store(here, std::memory_order_relaxed);
  server_.memory_shed.fetch_add(dropped, std::memory_order_relaxed);
  server_.warn(WarningCause::memory_budget, "over the memory budget of " + std::to_string(budget) +
                                                " bytes: dropped " + std::to_string(dropped) +
                                                " connection(s) holding the most");
}

// ---------------------------------------------------------------- pub/sub

bool ServerLoop::subscribe(session::Session& session, std::string_view topic) {
  if (session.phase() == session::Session::Phase::closed) return false;
  if (!registry_.subscribe(server_session(session), topic, server_.publish_horizon())) {
    return false;
  }
  server_.count_subscription(topic, +1);
  return true;
}

bool ServerLoop::unsubscribe(session::Session& session, std::string_view topic) {
  if (!registry_.unsubscribe(server_session(session), topic)) return false;
  server_.count_subscription(topic, -1);
  return true;
}

bool ServerLoop::is_subscribed(const session::Session& session, std::string_view topic) const {
  return registry_.is_subscribed(static_cast<const ServerSession&>(session), topic);
}

std::error_code ServerLoop::publish(session::Session& from, std::string_view topic,
                                    std::string_view data, Opcode opcode, bool include_self) {
  if (opcode != Opcode::text && opcode != Opcode::binary) return UsageError::invalid_opcode;
  publish(topic, MessageRef(PublishedMessage::make(data, opcode, server_.next_publish_sequence())),
          include_self ? nullptr : &server_session(from));
  return {};
}

void ServerLoop::publish(std::string_view topic, MessageRef frame, const ServerSession* skip) {
  deliver_here(topic, *frame, skip);
  const auto& loops = server_.loops;
  if (loops.size() < 2) return;
  if (outbox_.size() != loops.size()) outbox_.resize(loops.size());
  for (std::size_t i = 0; i < loops.size(); ++i) {
    if (i != index_) outbox_[i].push_back({std::string(topic), frame});
  }
  loop_->mark_dirty(*this);
}

void ServerLoop::deliver_here(std::string_view topic, PublishedMessage& message,
                              const ServerSession* skip) {
  LoopDelivery delivery(message);
  registry_.deliver(topic, message.sequence(), delivery, skip);
}

void ServerLoop::flush() {
  const auto& loops = server_.loops;
  for (std::size_t i = 0; i < outbox_.size(); ++i) {
    if (outbox_[i].empty()) continue;
    ServerLoop* target = loops[i].get();
    target->loop_->post([target, batch = std::move(outbox_[i])] {
      for (const Outgoing& o : batch) target->deliver_here(o.topic, *o.frame, nullptr);
    });
    outbox_[i].clear();
  }
}

void ServerLoop::publish_from_outside(std::string topic, MessageRef frame) {
  loop_->post([this, topic = std::move(topic), frame = std::move(frame)] {
    deliver_here(topic, *frame, nullptr);
  });
}

// ---------------------------------------------------------------- shutdown

void ServerLoop::request_shutdown() {
  loop_->post([this] { begin_shutdown(); });
}

void ServerLoop::begin_shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  if (listener_) listener_->close();
  close_parked();
  sessions_.for_each([](session::Session& s) { server_session(s).shut_down(); });
  if (sessions_.empty()) {
    loop_->stop();
    return;
  }
  shutdown_deadline_ =
      loop_->after(server_.options.shutdown_timeout, [this] { finish_shutdown(); });
}

void ServerLoop::finish_shutdown() {
  // Whoever did not finish the close handshake in time is dropped.
  sessions_.for_each([](session::Session& s) { s.do_terminate("server shut down"); });
  loop_->stop();
}

}  // namespace duplex::server
