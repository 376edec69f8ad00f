#include "server_loop.hpp"
#include "server_state.hpp"
#include "static_files.hpp"

#include <duplex/transport_error.hpp>

#include <pthread.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace duplex {
namespace {

// Turns SIGINT/SIGTERM/SIGQUIT into a graceful stop, and SIGHUP into a call
// of ServerOptions::on_hangup, read through a signalfd on the first loop
// (the signals are blocked in every server thread; no thread of its own, so
// a one-loop server stays a single-threaded process).
class SignalWatcher final : public transport::ReadableHandler {
 public:
  SignalWatcher(transport::EventLoop& loop, Server& server, const sigset_t& set,
                std::function<void()> on_hangup)
      : loop_(loop), server_(server), on_hangup_(std::move(on_hangup)) {
    fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd_ >= 0 && loop_.watch_readable(fd_, *this)) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~SignalWatcher() {
    if (fd_ >= 0) {
      loop_.unwatch_readable(fd_);
      ::close(fd_);
    }
  }
  void on_readable() override {
    signalfd_siginfo info;
    bool stop = false;
    while (::read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      if (info.ssi_signo == SIGHUP && on_hangup_) {
        on_hangup_();
      } else {
        stop = true;
      }
    }
    if (stop) server_.stop();
  }

 private:
  transport::EventLoop& loop_;
  Server& server_;
  std::function<void()> on_hangup_;
  int fd_ = -1;
};

// 15/16 of the open-file limit: the rest stays for refusing connections
// past the limit with an answer, the listening sockets, files and logs.
std::size_t default_max_connections() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return std::max<std::size_t>(16, limit.rlim_cur / 16 * 15);
}

// A quarter of the physical memory.
std::size_t default_memory_budget() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return std::size_t{1} << 30;
  return static_cast<std::size_t>(pages) / 4 * static_cast<std::size_t>(page_size);
}

std::int64_t ms(std::chrono::milliseconds d) {
  return d.count();
}

}  // namespace

namespace detail {

ServerState::ServerState(ServerOptions o) : options(std::move(o)) {
  handshake_binding.settings.handshake_timeout_ms = ms(options.handshake_timeout);
  handshake_binding.settings.close_timeout_ms = ms(options.close_timeout);
  handshake_binding.settings.protocol.role = protocol::Role::server;
  for (session::Binding& b : refusal_bindings) b = handshake_binding;
  policy.limits = options.http_limits;
  policy.allowed_origins = options.allowed_origins;
  policy.allow_missing_origin = !options.require_origin;
  deflate = std::make_unique<protocol::PerMessageDeflate>(options.deflate);
  if (!options.static_dir.empty()) {
    char buf[PATH_MAX];
    if (::realpath(options.static_dir.c_str(), buf)) static_root = buf;
  }
}

ServerState::~ServerState() = default;

server::Route ServerState::make_route(std::string path, std::shared_ptr<const Callbacks> callbacks,
                                      const RouteOptions& r) const {
  const ServerOptions& o = options;
  server::Route route;
  route.callbacks = std::move(callbacks);
  route.path = std::move(path);
  session::Settings& s = route.settings;
  s.protocol.role = protocol::Role::server;
  s.protocol.max_message_size = r.max_message_size.value_or(o.max_message_size);
  s.protocol.max_frame_size = s.protocol.max_message_size;
  s.protocol.fragment_size = r.fragment_size.value_or(o.fragment_size);
  s.protocol.max_fragments = r.max_fragments.value_or(o.max_fragments);
  s.max_messages_per_second = r.max_messages_per_second.value_or(o.max_messages_per_second);
  s.max_inflate_per_second = r.max_inflate_per_second.value_or(o.max_inflate_per_second);
  s.max_backpressure = r.max_backpressure.value_or(o.max_backpressure);
  s.handshake_timeout_ms = ms(o.handshake_timeout);
  s.idle_timeout_ms = ms(r.idle_timeout.value_or(o.idle_timeout));
  s.ping_interval_ms = ms(r.ping_interval.value_or(o.ping_interval));
  s.close_timeout_ms = ms(o.close_timeout);
  if (r.compression.value_or(o.deflate.enabled)) route.extensions.push_back(deflate.get());
  route.slow_consumer = r.slow_consumer.value_or(o.slow_consumer);
  route.slow_consumer_close_code = r.slow_consumer_close_code.value_or(o.slow_consumer_close_code);
  return route;
}

void ServerState::warn(server::WarningCause cause, std::string_view text) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now().time_since_epoch());
  if (auto line = warnings.admit(cause, text, now.count())) log(LogLevel::warning, *line);
}

bool ServerState::take_address_slot(const std::string& host) {
  std::lock_guard lock(addresses_mutex);
  std::size_t& n = connections_per_address[host];
  if (n >= options.max_connections_per_address) {
    if (n == 0) connections_per_address.erase(host);
    return false;
  }
  ++n;
  return true;
}

void ServerState::give_back_address_slot(const std::string& host) {
  std::lock_guard lock(addresses_mutex);
  auto it = connections_per_address.find(host);
  if (it == connections_per_address.end()) return;
  if (--it->second == 0) connections_per_address.erase(it);
}

std::shared_ptr<transport::TlsContext> ServerState::tls_context() const {
  std::lock_guard lock(tls_mutex);
  return tls;
}

std::shared_ptr<transport::TlsContext> ServerState::make_tls_context(std::string& error) const {
  const TlsServerOptions& t = options.tls;
  return transport::TlsContext::server({.cert_file = t.cert_file,
                                        .key_file = t.key_file,
                                        .session_tickets = t.session_tickets,
                                        .min_version = t.min_version,
                                        .ciphers = t.ciphers},
                                       error);
}

void ServerState::log(LogLevel level, std::string_view text) const {
  if (options.log) {
    options.log(level, text);
  } else if (level == LogLevel::warning) {
    std::fprintf(stderr, "duplex: %.*s\n", static_cast<int>(text.size()), text.data());
  }
}

const server::Route* ServerState::find_route(std::string_view path) const {
  if (auto it = routes.find(std::string(path)); it != routes.end()) return it->second.get();
  if (auto it = routes.find("*"); it != routes.end()) return it->second.get();
  return nullptr;
}

const HttpHandler* ServerState::find_http(std::string_view path) const {
  auto it = http_routes.find(std::string(path));
  return it == http_routes.end() ? nullptr : &it->second;
}

const HttpHandler* ServerState::find_http_post(std::string_view path) const {
  auto it = http_post_routes.find(std::string(path));
  return it == http_post_routes.end() ? nullptr : &it->second;
}

void ServerState::count_subscription(std::string_view topic, int delta) {
  std::lock_guard lock(topics_mutex);
  const std::string key(topic);
  std::size_t& n = topic_counts[key];
  n = static_cast<std::size_t>(static_cast<long long>(n) + delta);
  if (n == 0) topic_counts.erase(key);
}

}  // namespace detail

std::string_view content_type_for(std::string_view file_name) noexcept {
  return server::content_type_for(file_name);
}

Server::Server(ServerOptions options)
    : state_(std::make_unique<detail::ServerState>(std::move(options))) {}

Server::~Server() = default;

std::error_code Server::websocket(std::string path, Handlers<> handlers, RouteOptions options) {
  return add_route(std::move(path), detail::make_callbacks(std::move(handlers)), options);
}

std::error_code Server::add_route(std::string path,
                                  std::shared_ptr<const detail::Callbacks> callbacks,
                                  RouteOptions options) {
  if (state_->listening.load()) return UsageError::server_running;
  auto route =
      std::make_unique<server::Route>(state_->make_route(path, std::move(callbacks), options));
  state_->routes[std::move(path)] = std::move(route);
  return {};
}

std::error_code Server::http(std::string path, HttpHandler handler) {
  if (state_->listening.load()) return UsageError::server_running;
  state_->http_routes[std::move(path)] = std::move(handler);
  return {};
}

std::error_code Server::http_post(std::string path, HttpHandler handler) {
  if (state_->listening.load()) return UsageError::server_running;
  state_->http_post_routes[std::move(path)] = std::move(handler);
  return {};
}

std::uint16_t Server::port() const noexcept {
  return state_->bound_port;
}

Status Server::listen() {
  if (state_->listening.load()) return {};
  const ServerOptions& o = state_->options;
  if (!o.tls.cert_file.empty() || !o.tls.key_file.empty()) {
    std::string why;
    state_->tls = state_->make_tls_context(why);
    if (!state_->tls) {
      state_->log(LogLevel::info, why);
      return {TransportError::tls_configuration, why};
    }
  }
  if (!o.static_dir.empty() && state_->static_root.empty()) {
    return {std::make_error_code(std::errc::no_such_file_or_directory), o.static_dir};
  }
  state_->max_connections = o.max_connections ? o.max_connections : default_max_connections();
  state_->memory_budget = o.memory_budget ? o.memory_budget : default_memory_budget();
  transport::Address address;
  if (const auto ec = transport::resolve_blocking(o.host, o.port, address)) return {ec, o.host};
  unsigned threads = o.threads ? o.threads : std::thread::hardware_concurrency();
  if (threads == 0) threads = 1;
  const transport::ListenOptions listen_options{.reuse_port = threads > 1};
  std::vector<int> fds;
  for (unsigned i = 0; i < threads; ++i) {
    std::error_code ec;
    const int fd = transport::listen_tcp(address, listen_options, ec);
    if (fd < 0) {
      for (int f : fds) ::close(f);
      return {ec, address.to_string()};
    }
    if (i == 0) {
      // With port 0 the kernel picks one; the other loops must share it.
      address = transport::local_address(fd);
      state_->bound_port = address.port();
    }
    fds.push_back(fd);
  }
  std::lock_guard lock(state_->loops_mutex);
  try {
    for (std::size_t i = 0; i < fds.size(); ++i) {
      state_->loops.push_back(std::make_unique<server::ServerLoop>(*state_, fds[i], i));
    }
  } catch (const std::system_error& e) {
    // Out of descriptors for the loops themselves.
    for (std::size_t i = state_->loops.size(); i < fds.size(); ++i) ::close(fds[i]);
    state_->loops.clear();
    return {e.code(), std::string("cannot make the event loops: ") + e.what()};
  }
  state_->listening.store(true);
  return {};
}

Status Server::run() {
  if (Status s = listen(); !s) return s;
  sigset_t signals, previous;
  sigemptyset(&signals);
  if (state_->options.handle_signals) {
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGQUIT);  // its default (a core dump, no close frames) helps nobody
    if (state_->options.on_hangup || state_->tls) sigaddset(&signals, SIGHUP);
  }
  // Blocked before the threads start, so they inherit the mask and the
  // signals reach only the signalfd.
  pthread_sigmask(SIG_BLOCK, &signals, &previous);
  std::unique_ptr<SignalWatcher> watcher;
  if (state_->options.handle_signals) {
    std::function<void()> on_hangup;
    if (state_->options.on_hangup || state_->tls) on_hangup = [this] { hang_up(); };
    watcher = std::make_unique<SignalWatcher>(state_->loops[0]->loop(), *this, signals,
                                              std::move(on_hangup));
  }
  if (state_->stopping.load()) {
    for (auto& l : state_->loops) l->request_shutdown();
  }
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < state_->loops.size(); ++i) {
    threads.emplace_back([loop = state_->loops[i].get()] { loop->run(); });
  }
  state_->loops[0]->run();
  for (auto& t : threads) t.join();
  watcher.reset();
  {
    std::lock_guard lock(state_->loops_mutex);
    state_->loops.clear();
    state_->listening.store(false);
    state_->stopping.store(false);
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return {};
}

std::error_code Server::publish(std::string_view topic, std::string_view data, Opcode opcode) {
  if (opcode != Opcode::text && opcode != Opcode::binary) return UsageError::invalid_opcode;
  server::MessageRef frame(
      server::PublishedMessage::make(data, opcode, state_->next_publish_sequence()));
  std::lock_guard lock(state_->loops_mutex);
  for (auto& loop : state_->loops) loop->publish_from_outside(std::string(topic), frame);
  return {};
}

std::size_t Server::loop_count() const {
  std::lock_guard lock(state_->loops_mutex);
  return state_->loops.size();
}

IoBackend Server::io_backend() const {
  std::lock_guard lock(state_->loops_mutex);
  if (state_->loops.empty()) return IoBackend::automatic;
  return transport::backend_of(state_->loops.front()->loop());
}

Loop& Server::loop(std::size_t index) {
  std::lock_guard lock(state_->loops_mutex);
  return state_->loops.at(index)->loop();
}

bool Server::post(std::function<void()> fn) {
  std::lock_guard lock(state_->loops_mutex);
  if (state_->loops.empty()) return false;
  state_->loops.front()->loop().post(std::move(fn));
  return true;
}

std::size_t Server::subscriber_count(std::string_view topic) const {
  std::lock_guard lock(state_->topics_mutex);
  auto it = state_->topic_counts.find(std::string(topic));
  return it == state_->topic_counts.end() ? 0 : it->second;
}

ServerStats Server::stats() const {
  ServerStats s;
  {
    std::lock_guard lock(state_->topics_mutex);
    s.topics = state_->topic_counts.size();
  }
  s.connections = state_->connections.load(std::memory_order_relaxed);
  s.messages_dropped = state_->messages_dropped.load(std::memory_order_relaxed);
  s.slow_consumers_closed = state_->slow_consumers_closed.load(std::memory_order_relaxed);
  s.connections_refused = state_->connections_refused.load(std::memory_order_relaxed);
  s.rate_limited_closed = state_->rate_limited_closed.load(std::memory_order_relaxed);
  s.memory_shed = state_->memory_shed.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(state_->loops_mutex);
    for (const auto& loop : state_->loops) s.memory_held += loop->memory_held();
  }
  return s;
}

Status Server::reload_tls() {
  if (!state_->tls_context()) return {};
  std::string why;
  auto fresh = state_->make_tls_context(why);
  if (!fresh) return {TransportError::tls_configuration, why};
  std::lock_guard lock(state_->tls_mutex);
  state_->tls = std::move(fresh);
  return {};
}

void Server::hang_up() {
  if (state_->tls_context()) {
    if (const Status s = reload_tls(); !s) {
      state_->log(LogLevel::warning, "SIGHUP: keeping the TLS certificate in use: " + s.message());
    } else {
      state_->log(LogLevel::warning, "SIGHUP: TLS certificate and key read again");
    }
  }
  if (state_->options.on_hangup) state_->options.on_hangup();
}

void Server::stop() {
  std::lock_guard lock(state_->loops_mutex);
  state_->stopping.store(true);
  for (auto& loop : state_->loops) loop->request_shutdown();
}

}  // namespace duplex
