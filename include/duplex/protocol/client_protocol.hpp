/// @file
/// A client connection's whole life cycle without I/O: the upgrade request,
/// the server's answer, then frames, on one output queue. Duplex's own
/// client runs the same two parts (`ClientHandshake`, then `Connection`).
#pragma once

#include <duplex/protocol/client_handshake.hpp>
#include <duplex/protocol/connection.hpp>
#include <duplex/protocol/server_protocol.hpp>

#include <memory>
#include <span>
#include <system_error>

namespace duplex::protocol {

/// A client connection from its request to its last frame. Used on one
/// thread.
class ClientProtocol {
 public:
  /// `options.role` is taken as client.
  explicit ClientProtocol(ConnectionOptions options = {}, HttpLimits limits = {});

  /// Queues the upgrade request (see `ClientHandshake::start`).
  std::error_code start(const ClientRequest& request);
  /// The next event of the server's bytes: `opened`, `rejected` or `failed`
  /// from the handshake, then frame events. Views stay valid until the next
  /// call.
  LifecycleEvent receive(std::span<std::uint8_t>& input);
  /// The server ended the stream: `rejected` when a refusal's body ran to
  /// the end, nothing otherwise (if `is_open()` is still false, the
  /// handshake never finished).
  LifecycleEvent end_of_input();

  /// The handshake (its rejection, its failure), what was agreed, the
  /// connection's frames, the bytes to write, and whether it opened.
  /// @{
  ClientHandshake& handshake() noexcept { return handshake_; }
  const Agreement& agreement() const noexcept { return agreement_; }
  Connection& connection() noexcept { return connection_; }
  OutputQueue& output() noexcept { return connection_.output(); }
  bool is_open() const noexcept { return open_; }
  /// @}

 private:
  ClientHandshake handshake_;
  Connection connection_;
  Agreement agreement_;
  ByteBuffer early_;                 // a copy: the caller's buffer may be reused
  std::span<std::uint8_t> pending_;  // frame bytes that came with the 101
  bool open_ = false;
};

}  // namespace duplex::protocol
