#include "client_session.hpp"
#include "client_state.hpp"

#include <duplex/client_error.hpp>
#include <duplex/protocol/error.hpp>

namespace duplex {
namespace detail {

ClientState::ClientState(IoBackend io) : loop(transport::make_event_loop(io)) {
  loop->stop_when_idle([this] { return busy(); });
}

ClientState::~ClientState() {
  // Whatever is left ends now: on_close for the open connections, on_error
  // (cancelled) for those still connecting.
  sessions.for_each([](session::Session& s) { static_cast<client::ClientSession&>(s).drop(); });
  loop->run_deferred();
}

void ClientState::log(LogLevel, std::string_view) {}

void ClientState::session_closed(session::Session& session) {
  sessions.remove(session);
  loop->defer([s = &session] { delete static_cast<client::ClientSession*>(s); });
}

bool ClientState::busy() const {
  return !sessions.empty() || (!stopping && loop->app_timer_count() > 0);
}

void ClientState::stop_everything() {
  stopping = true;
  loop->cancel_app_timers();
  sessions.for_each(
      [](session::Session& s) { static_cast<client::ClientSession&>(s).stop_gracefully(); });
}

std::shared_ptr<transport::TlsContext> ClientState::tls_context(const std::string& ca_file,
                                                                bool verify, std::string& error) {
  auto& slot = tls_contexts[{ca_file, verify}];
  if (!slot) slot = transport::TlsContext::client(ca_file, verify, error);
  return slot;
}

}  // namespace detail

Client::Client(IoBackend io) : state_(std::make_unique<detail::ClientState>(io)) {}

IoBackend Client::io_backend() const noexcept {
  return transport::backend_of(*state_->loop);
}
Client::~Client() = default;

std::error_code Client::connect(std::string_view url, ClientOptions options, Handlers<> handlers) {
  return start(url, std::move(options), detail::make_callbacks(std::move(handlers)));
}

std::error_code Client::start(std::string_view url, ClientOptions options,
                              std::shared_ptr<const detail::Callbacks> callbacks) {
  if (state_->stopping) return UsageError::not_running;
  WebSocketUrl parsed;
  if (const Status s = parse_websocket_url(url, parsed); !s) return s.error;
  auto* session = new client::ClientSession(*state_, std::move(parsed), std::move(options),
                                            std::move(callbacks));
  state_->sessions.push_front(*session);
  // Start on the loop thread, so connect() itself may be called from
  // anywhere the client is not yet running, or from its own handlers.
  state_->loop->post([session] { session->start(); });
  return {};
}

void Client::run() {
  // Nothing to do and nothing posted (a connect or a timer from another
  // thread): there is nothing to wait for.
  if (!state_->busy() && !state_->loop->has_posted_work()) return;
  state_->loop->run();
  state_->loop->reset_stop();
  state_->stopping = false;
}

void Client::stop() {
  state_->loop->post([state = state_.get()] { state->stop_everything(); });
}

Loop& Client::loop() noexcept {
  return *state_->loop;
}

void Client::post(std::function<void()> fn) {
  state_->loop->post(std::move(fn));
}

}  // namespace duplex
