// A client-side connection: resolve the host (off the loop), connect, TLS
// if wss://, the upgrade request and its answer (through the sans-I/O
// ClientHandshake), then the WebSocket through the session pump.
#pragma once

#include "../session/session.hpp"

#include <duplex/client.hpp>
#include <duplex/protocol/client_handshake.hpp>
#include <duplex/protocol/permessage_deflate.hpp>
#include <duplex/url.hpp>

#include <memory>

namespace duplex::detail {
struct ClientState;
}

namespace duplex::client {

// A client connection's binding is its own (each connect has its own
// options); this base holds it so it exists before the Session base.
struct OwnBinding {
  session::Binding own_binding;
};

class ClientSession final : private OwnBinding, public session::Session {
 public:
  ClientSession(detail::ClientState& owner, WebSocketUrl url, ClientOptions options,
                std::shared_ptr<const detail::Callbacks> callbacks);

  void start();
  // Client::stop(): a close handshake (1001) for an open connection,
  // on_error (ClientError::cancelled) for one still connecting.
  void stop_gracefully();
  // The client is going away: on_close (1006) at once if it opened,
  // on_error (ClientError::cancelled) if it was still connecting.
  void drop();

 private:
  enum class Step : std::uint8_t { resolving, connecting, awaiting_response };

  void on_handshake_data(std::span<std::uint8_t> bytes) override;
  void on_handshake_end() override;
  void on_handshake_error(std::error_code error, std::string_view detail) override;
  void on_handshake_timeout() override;
  void on_connected() override;

  void resolved(const transport::Address& address, std::error_code ec);
  void send_request();
  void reject();
  void fail(std::error_code ec, std::string detail = {});
  void report(const ConnectError& error);

  detail::ClientState& owner_;
  WebSocketUrl url_;
  ClientOptions options_;
  std::unique_ptr<protocol::PerMessageDeflate> deflate_;  // offered when enabled
  protocol::ClientHandshake handshake_;
  Step step_ = Step::resolving;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // for the resolver thread
  std::shared_ptr<transport::TlsContext> tls_context_;
};

}  // namespace duplex::client
