/// @file
/// A server connection's whole life cycle without I/O: the opening
/// handshake, then frames, on one output queue. Hand it every byte the
/// transport reads; write out what `output()` holds; close the transport
/// when `should_close_transport()` says so. Duplex's own server runs the
/// same two parts (`ServerHandshake`, then `Connection`).
///
///     ServerProtocol p(policy);
///     while (auto e = p.receive(input)) {
///       if (e.handshake == HandshakeEvent::upgrade_request) p.accept({});
///       else if (e.frame.type == EventType::message) p.connection().send(e.frame.opcode,
///       e.frame.payload);
///     }
#pragma once

#include <duplex/protocol/connection.hpp>
#include <duplex/protocol/server_handshake.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <system_error>

namespace duplex::protocol {

/// One step of a connection's life: a handshake event while the handshake
/// runs, then the frame events of `Connection::receive`.
struct LifecycleEvent {
  HandshakeEvent handshake = HandshakeEvent::none;  ///< while the handshake runs
  Event frame;                                      ///< once the connection is open
  /// True when something happened.
  explicit operator bool() const noexcept {
    return handshake != HandshakeEvent::none || static_cast<bool>(frame);
  }
};

/// A server connection from its first byte to its last. Used on one thread.
class ServerProtocol {
 public:
  /// `policy` must outlive this object; `options.role` is taken as server.
  explicit ServerProtocol(const ServerPolicy& policy, ConnectionOptions options = {});

  /// The next event of the bytes in `input` (advanced past what was used).
  /// Handshake events have the meaning `ServerHandshake::receive` gives
  /// them; after `accept()` the rest of the input is frames (bytes that
  /// arrive before the answer are kept for then). Views stay valid until the
  /// next call.
  LifecycleEvent receive(std::span<std::uint8_t>& input);

  /// Answers an `upgrade_request` (see `ServerHandshake::accept`); frames
  /// follow.
  std::error_code accept(const AcceptOptions& options);
  /// Answers an `upgrade_request` with a refusal; then close.
  std::error_code reject(int status, std::string_view body,
                         std::span<const HttpHeader> headers = {});
  /// Answers an `http_request` with a complete response; then close.
  void respond(std::string_view response);

  /// The handshake, with the request it read (kept in copies of this
  /// object's, valid until it is destroyed).
  ServerHandshake& handshake() noexcept { return *handshake_; }
  /// What was agreed, once open.
  const Agreement& agreement() const noexcept { return agreement_; }
  /// The connection's frames (once open).
  Connection& connection() noexcept { return connection_; }
  /// Bytes to write to the transport, handshake and frames alike.
  OutputQueue& output() noexcept { return connection_.output(); }
  /// Whether the upgrade was accepted.
  bool is_open() const noexcept { return open_; }
  /// True once the transport should be closed after writing `output()`: a
  /// request answered without opening, or the connection's close done.
  bool should_close_transport() const noexcept {
    return answered_ || connection_.should_close_transport();
  }

 private:
  std::unique_ptr<ServerHandshake> handshake_;
  Connection connection_;
  Agreement agreement_;
  ByteBuffer input_copy_;            // the last input of the handshake
  ByteBuffer early_;                 // a copy: the caller's buffer may be reused
  std::span<std::uint8_t> pending_;  // frame bytes that came with the request
  bool open_ = false;
  bool awaiting_decision_ = false;  // an upgrade_request not answered yet
  bool answered_ = false;
};

}  // namespace duplex::protocol
