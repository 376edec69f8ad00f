// A client-side connection: resolve the host (off the loop), connect, send
// the upgrade request, check the response, then run the WebSocket.
#pragma once

#include "../session/session.hpp"

#include <duplex/client.hpp>
#include <duplex/protocol/client_handshake.hpp>
#include <duplex/protocol/permessage_deflate.hpp>
#include <duplex/url.hpp>

#include <memory>

namespace duplex::client {

// Settings are per connection on the client (each connect has its own
// options); this base holds them so they exist before the Session base.
struct OwnSettings {
  session::SessionSettings own_settings;
};

class ClientSession final : private OwnSettings, public session::Session {
 public:
  ClientSession(Client::Impl& owner, WebSocketUrl url, ClientOptions options,
                ClientHandlers handlers);

  void start();

 private:
  enum class Step : std::uint8_t { resolving, connecting, awaiting_response };

  void on_handshake_input(std::span<std::uint8_t> bytes) override;
  void on_handshake_eof() override;
  void on_handshake_timeout() override;
  void on_handshake_writable() override;
  void on_closed() override;
  void on_tls_ready() override { send_request(); }
  void on_tls_failed(const transport::TlsStream& tls) override;

  void resolved(const transport::Address& address, std::error_code ec);
  void send_request();
  void fail(std::error_code ec, int status = 0, std::string body = {}, std::string detail = {});
  void reject();

  Client::Impl& owner_;
  WebSocketUrl url_;
  ClientOptions options_;
  ClientHandlers handlers_;
  session::EventHandlers events_;
  std::unique_ptr<protocol::PerMessageDeflate> deflate_;  // offered when enabled
  protocol::ClientHandshake handshake_;
  Step step_ = Step::resolving;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::shared_ptr<transport::TlsContext> tls_context_;
};

}  // namespace duplex::client
