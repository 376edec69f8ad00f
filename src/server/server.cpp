#include "server_impl.hpp"
#include "server_loop.hpp"
#include "static_files.hpp"

#include <duplex/transport_error.hpp>

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace duplex {
namespace {

session::EventHandlers handlers_of(const WebSocketRoute& r) {
  return {r.on_open, r.on_message, r.on_ping, r.on_pong, r.on_drain, r.on_close};
}

// Turns SIGINT/SIGTERM into a graceful stop, read through a signalfd on the
// first loop (the signals are blocked in every server thread).
class SignalWatcher final : public transport::IoHandler {
 public:
  SignalWatcher(transport::EventLoop& loop, Server& server, const sigset_t& set)
      : loop_(loop), server_(server) {
    fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd_ >= 0) loop_.watch(fd_, EPOLLIN, this);
  }
  ~SignalWatcher() {
    if (fd_ >= 0) {
      loop_.unwatch(fd_);
      ::close(fd_);
    }
  }
  void on_io(std::uint32_t) override {
    signalfd_siginfo info;
    while (::read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    }
    server_.stop();
  }

 private:
  transport::EventLoop& loop_;
  Server& server_;
  int fd_ = -1;
};

}  // namespace

Server::Impl::Impl(ServerOptions o) : options(std::move(o)) {
  settings.protocol.role = protocol::Role::server;
  settings.protocol.max_message_size = options.max_message_size;
  settings.protocol.max_frame_size = options.max_message_size;
  settings.protocol.fragment_size = options.fragment_size;

  settings.max_backpressure = options.max_backpressure;
  settings.handshake_timeout_ms = options.handshake_timeout.count();
  settings.idle_timeout_ms = options.idle_timeout.count();
  settings.ping_interval_ms = options.ping_interval.count();
  settings.close_timeout_ms = options.close_timeout.count();
  settings.log = [this](LogLevel level, std::string_view text) { log(level, text); };
  policy.limits = options.http_limits;
  policy.allowed_origins = options.allowed_origins;
  if (options.deflate.enabled) {
    deflate = std::make_unique<protocol::PerMessageDeflate>(options.deflate);
    extensions.push_back(deflate.get());
  }
  if (!options.static_dir.empty()) {
    char buf[PATH_MAX];
    if (::realpath(options.static_dir.c_str(), buf)) static_root = buf;
  }
}

Server::Impl::~Impl() = default;

void Server::Impl::log(LogLevel level, std::string_view text) const {
  if (options.log) {
    options.log(level, text);
  } else if (level == LogLevel::warning) {
    std::fprintf(stderr, "duplex: %.*s\n", static_cast<int>(text.size()), text.data());
  }
}

const server::Route* Server::Impl::find_route(std::string_view path) const {
  if (auto it = routes.find(std::string(path)); it != routes.end()) return it->second.get();
  if (auto it = routes.find("*"); it != routes.end()) return it->second.get();
  return nullptr;
}

const HttpHandler* Server::Impl::find_http(std::string_view path) const {
  auto it = http_routes.find(std::string(path));
  return it == http_routes.end() ? nullptr : &it->second;
}

void Server::Impl::count_subscription(std::string_view topic, int delta) {
  std::lock_guard lock(topics_mutex);
  const std::string key(topic);
  std::size_t& n = topic_counts[key];
  n = static_cast<std::size_t>(static_cast<long long>(n) + delta);
  if (n == 0) topic_counts.erase(key);
}

std::string_view content_type_for(std::string_view file_name) noexcept {
  return server::content_type_for(file_name);
}

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() = default;

Server& Server::websocket(std::string path, WebSocketRoute route) {
  auto entry = std::make_unique<server::Route>();
  entry->handlers = handlers_of(route);
  entry->route = std::move(route);
  impl_->routes[std::move(path)] = std::move(entry);
  return *this;
}

Server& Server::http(std::string path, HttpHandler handler) {
  impl_->http_routes[std::move(path)] = std::move(handler);
  return *this;
}

std::uint16_t Server::port() const noexcept {
  return impl_->bound_port;
}

std::error_code Server::listen(std::string* detail) {
  if (impl_->listening) return {};
  const ServerOptions& o = impl_->options;
  if (!o.tls.cert_file.empty() || !o.tls.key_file.empty()) {
    std::string why;
    impl_->tls =
        transport::TlsContext::server(o.tls.cert_file, o.tls.key_file, o.tls.session_tickets, why);
    if (!impl_->tls) {
      if (detail) *detail = why;
      impl_->log(LogLevel::info, why);
      return TransportError::tls_configuration;
    }
  }
  if (!o.static_dir.empty() && impl_->static_root.empty()) {
    return std::make_error_code(std::errc::no_such_file_or_directory);
  }
  transport::Address address;
  if (const auto ec = transport::resolve_blocking(o.host, o.port, address)) return ec;
  unsigned threads = o.threads ? o.threads : std::thread::hardware_concurrency();
  if (threads == 0) threads = 1;
  const transport::ListenOptions listen_options{.reuse_port = threads > 1};
  std::vector<int> fds;
  for (unsigned i = 0; i < threads; ++i) {
    std::error_code ec;
    const int fd = transport::listen_tcp(address, listen_options, ec);
    if (fd < 0) {
      for (int f : fds) ::close(f);
      return ec;
    }
    if (i == 0) {
      // With port 0 the kernel picks one; the other loops must share it.
      address = transport::local_address(fd);
      impl_->bound_port = address.port();
    }
    fds.push_back(fd);
  }
  std::lock_guard lock(impl_->loops_mutex);
  for (std::size_t i = 0; i < fds.size(); ++i) {
    impl_->loops.push_back(std::make_unique<server::ServerLoop>(*impl_, fds[i], i));
  }
  impl_->listening = true;
  return {};
}

std::error_code Server::run() {
  if (const auto ec = listen()) return ec;
  sigset_t signals, previous;
  sigemptyset(&signals);
  if (impl_->options.handle_signals) {
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
  }
  // Blocked before the threads start, so they inherit the mask and the
  // signals reach only the signalfd.
  pthread_sigmask(SIG_BLOCK, &signals, &previous);
  std::unique_ptr<SignalWatcher> watcher;
  if (impl_->options.handle_signals) {
    watcher = std::make_unique<SignalWatcher>(impl_->loops[0]->loop(), *this, signals);
  }
  if (impl_->stopping.load()) {
    for (auto& l : impl_->loops) l->request_shutdown();
  }
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < impl_->loops.size(); ++i) {
    threads.emplace_back([loop = impl_->loops[i].get()] { loop->run(); });
  }
  impl_->loops[0]->run();
  for (auto& t : threads) t.join();
  watcher.reset();
  {
    std::lock_guard lock(impl_->loops_mutex);
    impl_->loops.clear();
    impl_->listening = false;
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return {};
}

void Server::publish(std::string_view topic, std::string_view data, Opcode opcode) {
  if (opcode != Opcode::text && opcode != Opcode::binary) return;
  server::MessageRef frame(
      server::PublishedMessage::make(data, opcode, impl_->next_publish_sequence()));
  std::lock_guard lock(impl_->loops_mutex);
  for (auto& loop : impl_->loops) loop->publish_from_outside(std::string(topic), frame);
}

std::size_t Server::subscriber_count(std::string_view topic) const {
  std::lock_guard lock(impl_->topics_mutex);
  auto it = impl_->topic_counts.find(std::string(topic));
  return it == impl_->topic_counts.end() ? 0 : it->second;
}

ServerStats Server::stats() const {
  ServerStats s;
  {
    std::lock_guard lock(impl_->topics_mutex);
    s.topics = impl_->topic_counts.size();
  }
  s.connections = impl_->connections.load(std::memory_order_relaxed);
  s.messages_dropped = impl_->messages_dropped.load(std::memory_order_relaxed);
  s.slow_consumers_closed = impl_->slow_consumers_closed.load(std::memory_order_relaxed);
  return s;
}

void Server::stop() {
  std::lock_guard lock(impl_->loops_mutex);
  impl_->stopping.store(true);
  for (auto& loop : impl_->loops) loop->request_shutdown();
}

}  // namespace duplex
