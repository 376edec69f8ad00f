// The public WebSocket and its handle, implemented by the session behind
// them: the face forwards without a virtual call (a WebSocket is always a
// session), the handle posts to the session's loop.
#include "session.hpp"

// The public WebSocket methods, implemented by the session behind them.
namespace duplex {
namespace {

session::Session& impl(WebSocket& ws) {
  return static_cast<session::Session&>(ws);
}
const session::Session& impl(const WebSocket& ws) {
  return static_cast<const session::Session&>(ws);
}

}  // namespace

std::error_code WebSocket::send(std::string_view data, Opcode opcode) {
  return impl(*this).do_send(data, opcode);
}
std::error_code WebSocket::send_fragment(std::string_view data, Opcode opcode, bool fin) {
  return impl(*this).do_send_fragment(data, opcode, fin);
}
std::error_code WebSocket::ping(std::string_view payload) {
  return impl(*this).do_ping(payload);
}
std::error_code WebSocket::close(CloseCode code, std::string_view reason) {
  return impl(*this).do_close(code, reason);
}
void WebSocket::terminate() {
  impl(*this).do_terminate("terminated by the application");
}
std::size_t WebSocket::buffered_amount() const noexcept {
  return impl(*this).buffered();
}
bool WebSocket::is_open() const noexcept {
  return impl(*this).is_open_now();
}
std::string_view WebSocket::path() const noexcept {
  return impl(*this).path_view();
}
std::string_view WebSocket::subprotocol() const noexcept {
  return impl(*this).subprotocol_view();
}
std::string_view WebSocket::extensions() const noexcept {
  return impl(*this).extensions_view();
}
std::string WebSocket::remote_address() const {
  return impl(*this).peer().to_string();
}
Loop& WebSocket::loop() noexcept {
  return impl(*this).event_loop();
}
WebSocketHandle WebSocket::handle() {
  return impl(*this).make_handle();
}
bool WebSocket::subscribe(std::string_view topic) {
  session::Session& s = impl(*this);
  return s.host().subscribe(s, topic);
}
bool WebSocket::unsubscribe(std::string_view topic) {
  session::Session& s = impl(*this);
  return s.host().unsubscribe(s, topic);
}
bool WebSocket::is_subscribed(std::string_view topic) const {
  const session::Session& s = impl(*this);
  return const_cast<session::Session&>(s).host().is_subscribed(s, topic);
}
std::error_code WebSocket::publish(std::string_view topic, std::string_view data, Opcode opcode,
                                   bool include_self) {
  session::Session& s = impl(*this);
  return s.host().publish(s, topic, data, opcode, include_self);
}

// ------------------------------------------------------------- handles

bool WebSocketHandle::is_open() const noexcept {
  return state_ && state_->open.load(std::memory_order_relaxed);
}

bool WebSocketHandle::post(std::function<void(WebSocket&)> fn) const {
  if (!is_open()) return false;
  return state_->loop.post([state = state_, fn = std::move(fn)] {
    if (state->session && state->session->is_open_now()) fn(*state->session);
  });
}

bool WebSocketHandle::send(std::string data, Opcode opcode) const {
  if (!is_open()) return false;
  return state_->loop.post([state = state_, data = std::move(data), opcode] {
    if (state->session) state->session->do_send(data, opcode);
  });
}

bool WebSocketHandle::close(CloseCode code, std::string reason) const {
  if (!is_open()) return false;
  return state_->loop.post([state = state_, code, reason = std::move(reason)] {
    if (state->session) state->session->do_close(code, reason);
  });
}

}  // namespace duplex
