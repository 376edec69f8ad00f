#include "server_loop.hpp"

#include "server_impl.hpp"
#include "server_session.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace duplex::server {
namespace {

// How long accepting pauses when the process runs out of file descriptors:
// long enough not to spin on a listening socket that stays readable, short
// enough to pick up again quickly when descriptors free up.
constexpr std::int64_t accept_pause_ms = 100;

}  // namespace

ServerLoop::ServerLoop(Server::Impl& server, int listen_fd, std::size_t index)
    : server_(server),
      index_(index),
      listen_fd_(listen_fd),
      resume_accepting_([this] {
        if (listen_fd_ >= 0 && !shutting_down_) loop_.watch(listen_fd_, EPOLLIN, this);
      }),
      shutdown_deadline_([this] { finish_shutdown(); }) {
  loop_.watch(listen_fd_, EPOLLIN, this);
}

ServerLoop::~ServerLoop() {
  loop_.cancel(resume_accepting_);
  loop_.cancel(shutdown_deadline_);
  while (head_) {
    ServerSession* s = head_;
    head_ = static_cast<ServerSession*>(s->next);
    s->~ServerSession();
    session_memory_.give_back(s);
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void ServerLoop::run() {
  loop_.run();
}

void ServerLoop::publish(std::string_view topic, MessageRef frame, const ServerSession* skip) {
  registry_.deliver(topic, *frame, skip);
  const auto& loops = server_.loops;
  if (loops.size() < 2) return;
  if (outbox_.size() != loops.size()) outbox_.resize(loops.size());
  for (std::size_t i = 0; i < loops.size(); ++i) {
    if (i != index_) outbox_[i].push_back({std::string(topic), frame});
  }
  loop_.mark_dirty(*this);
}

void ServerLoop::flush() {
  const auto& loops = server_.loops;
  for (std::size_t i = 0; i < outbox_.size(); ++i) {
    if (outbox_[i].empty()) continue;
    ServerLoop* target = loops[i].get();
    target->loop_.post([target, batch = std::move(outbox_[i])] {
      for (const Outgoing& o : batch) target->registry_.deliver(o.topic, *o.frame, nullptr);
    });
    outbox_[i].clear();
  }
}

void ServerLoop::publish_from_outside(std::string topic, MessageRef frame) {
  loop_.post([this, topic = std::move(topic), frame = std::move(frame)] {
    registry_.deliver(topic, *frame, nullptr);
  });
}

void ServerLoop::on_io(std::uint32_t) {
  accept_pending();
}

void ServerLoop::accept_pending() {
  // A bounded batch per wake-up keeps one busy listener from starving the
  // connections already accepted.
  for (int i = 0; i < 128 && listen_fd_ >= 0; ++i) {
    transport::Address peer;
    std::error_code ec;
    const int fd = transport::accept_tcp(listen_fd_, peer, ec);
    if (fd < 0) {
      const int e = ec.value();
      if (e == EAGAIN || e == EWOULDBLOCK) return;
      if (e == EINTR || e == ECONNABORTED || e == EPROTO) continue;
      pause_accepting(e);
      return;
    }
    auto* session = new (session_memory_.take()) ServerSession(*this, fd, peer);
    session->next = head_;
    if (head_) head_->prev = session;
    head_ = session;
    ++count_;
    server_.connections.fetch_add(1, std::memory_order_relaxed);
    session->start();
  }
}

void ServerLoop::pause_accepting(int error) {
  // EMFILE/ENFILE (and ENOBUFS/ENOMEM): the pending connection stays in the
  // backlog. A level-triggered listener would report it again at once, so
  // stop watching it for a moment instead of spinning.
  const std::int64_t now = loop_.now();
  if (now - last_accept_warning_ >= 1000) {
    last_accept_warning_ = now;
    server_.log(LogLevel::warning, std::string("accept failed: ") + std::strerror(error) +
                                       "; pausing new connections for 100 ms");
  }
  loop_.unwatch(listen_fd_);
  loop_.schedule(resume_accepting_, now + accept_pause_ms);
}

void ServerLoop::session_closed(ServerSession& session) {
  if (session.prev) session.prev->next = session.next;
  if (session.next) session.next->prev = session.prev;
  if (head_ == &session) head_ = static_cast<ServerSession*>(session.next);
  session.prev = session.next = nullptr;
  --count_;
  server_.connections.fetch_sub(1, std::memory_order_relaxed);
  loop_.defer([this, s = &session] {
    s->~ServerSession();
    session_memory_.give_back(s);
  });
  if (shutting_down_ && count_ == 0) loop_.stop();
}

void ServerLoop::request_shutdown() {
  loop_.post([this] { begin_shutdown(); });
}

void ServerLoop::begin_shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  loop_.cancel(resume_accepting_);
  if (listen_fd_ >= 0) {
    loop_.unwatch(listen_fd_);
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  for (ServerSession* s = head_; s;) {
    auto* next = static_cast<ServerSession*>(s->next);
    s->shut_down();
    s = next;
  }
  if (count_ == 0) {
    loop_.stop();
    return;
  }
  loop_.schedule(shutdown_deadline_,
                 loop_.now() + static_cast<std::int64_t>(server_.options.shutdown_timeout.count()));
}

void ServerLoop::finish_shutdown() {
  // Whoever did not finish the close handshake in time is dropped.
  for (ServerSession* s = head_; s;) {
    auto* next = static_cast<ServerSession*>(s->next);
    s->do_terminate("server shut down");
    s = next;
  }
  loop_.stop();
}

}  // namespace duplex::server
