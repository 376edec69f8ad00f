#include "client_impl.hpp"
#include "client_session.hpp"

#include <duplex/client_error.hpp>
#include <duplex/protocol/http.hpp>

namespace duplex {

Client::Impl::Impl() : mailbox(std::make_shared<client::LoopMailbox>()) {
  mailbox->loop = &loop;
}

Client::Impl::~Impl() {
  {
    std::lock_guard lock(mailbox->mutex);
    mailbox->loop = nullptr;
  }
  while (head) {
    client::ClientSession* s = head;
    head = static_cast<client::ClientSession*>(s->next);
    delete s;
  }
}

void Client::Impl::session_closed(client::ClientSession& session) {
  if (session.prev) session.prev->next = session.next;
  if (session.next) session.next->prev = session.prev;
  if (head == &session) head = static_cast<client::ClientSession*>(session.next);
  session.prev = session.next = nullptr;
  --count;
  loop.defer([s = &session] { delete s; });
  if (count == 0) loop.stop();
}

std::shared_ptr<transport::TlsContext> Client::Impl::tls_context(const std::string& ca_file,
                                                                 bool verify, std::string& error) {
  auto& slot = tls_contexts[{ca_file, verify}];
  if (!slot) slot = transport::TlsContext::client(ca_file, verify, error);
  return slot;
}

Client::Client() : impl_(std::make_unique<Impl>()) {}
Client::~Client() = default;

std::error_code Client::connect(std::string_view url, ClientOptions options,
                                ClientHandlers handlers) {
  WebSocketUrl parsed;
  if (const auto ec = parse_websocket_url(url, parsed)) return ec;
  auto* session =
      new client::ClientSession(*impl_, std::move(parsed), std::move(options), std::move(handlers));
  session->next = impl_->head;
  if (impl_->head) impl_->head->prev = session;
  impl_->head = session;
  ++impl_->count;
  // Start on the loop thread, so connect() itself may be called from anywhere
  // the client is not yet running, or from its own handlers.
  impl_->loop.post([session] { session->start(); });
  return {};
}

void Client::run() {
  if (impl_->count == 0) return;
  impl_->loop.run();
  impl_->loop.reset_stop();
}

void Client::stop() {
  impl_->loop.stop();
}

void Client::post(std::function<void()> fn) {
  impl_->loop.post(std::move(fn));
}

std::string ConnectError::message() const {
  std::string text = error.message();
  if (!detail.empty()) text += ": " + detail;

  if (http_status != 0) {
    text += ": " + std::to_string(http_status) + " " +
            std::string(protocol::http_reason_phrase(http_status));
    std::string_view body = http_body;
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.remove_suffix(1);
    if (!body.empty()) text += ": " + std::string(body.substr(0, 200));
  }
  return text;
}

}  // namespace duplex
