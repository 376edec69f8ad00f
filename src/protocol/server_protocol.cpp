#include "lifecycle_parts.hpp"

#include <duplex/protocol/server_protocol.hpp>

namespace duplex::protocol {

ServerProtocol::ServerProtocol(const ServerPolicy& policy, ConnectionOptions options)
    : handshake_(std::make_unique<ServerHandshake>(policy)),
      connection_(detail::with_role(options, Role::server)) {}

LifecycleEvent ServerProtocol::receive(std::span<std::uint8_t>& input) {
  LifecycleEvent e;
  if (open_) {
    e.frame = detail::receive_frames(connection_, pending_, input);
    return e;
  }
  if (answered_) {
    input = input.subspan(input.size());
    return e;
  }
  if (awaiting_decision_) {
    // Frames sent before our answer: kept until accept() (or dropped by
    // reject()).
    early_.append(input);
    input = input.subspan(input.size());
    return e;
  }
  // The request's views must outlive the caller's buffer: read it from a
  // copy of ours (a head in pieces is collected by the handshake itself).
  input_copy_.clear();
  input_copy_.append(input);
  input = input.subspan(input.size());
  std::span<std::uint8_t> mine = input_copy_.span();
  e.handshake = handshake_->receive(mine, connection_.output());
  if (e.handshake == HandshakeEvent::failed) answered_ = true;
  if (e.handshake == HandshakeEvent::upgrade_request) {
    // What followed the head is the client's first frames, read once accepted.
    awaiting_decision_ = true;
    early_.append(mine);
  }
  return e;
}

std::error_code ServerProtocol::accept(const AcceptOptions& options) {
  if (auto ec = handshake_->accept(options, connection_.output(), agreement_)) return ec;
  if (agreement_.transform) connection_.set_transform(std::move(agreement_.transform));
  open_ = true;
  awaiting_decision_ = false;
  pending_ = early_.span();
  return {};
}

std::error_code ServerProtocol::reject(int status, std::string_view body,
                                       std::span<const HttpHeader> headers) {
  if (auto ec = handshake_->reject(status, body, headers, connection_.output())) return ec;
  answered_ = true;
  early_.release();
  return {};
}

void ServerProtocol::respond(std::string_view response) {
  connection_.output().append(response);
  answered_ = true;
}

}  // namespace duplex::protocol
