#include "lifecycle_parts.hpp"

#include <duplex/protocol/client_protocol.hpp>

namespace duplex::protocol {

ClientProtocol::ClientProtocol(ConnectionOptions options, HttpLimits limits)
    : handshake_(limits), connection_(detail::with_role(options, Role::client)) {}

std::error_code ClientProtocol::start(const ClientRequest& request) {
  return handshake_.start(request, connection_.output());
}

LifecycleEvent ClientProtocol::receive(std::span<std::uint8_t>& input) {
  LifecycleEvent e;
  if (open_) {
    e.frame = detail::receive_frames(connection_, pending_, input);
    return e;
  }
  e.handshake = handshake_.receive(input);
  if (e.handshake == HandshakeEvent::opened) {
    agreement_ = std::move(handshake_.agreement());
    if (agreement_.transform) connection_.set_transform(std::move(agreement_.transform));
    open_ = true;
    // Frames that came with the 101 are read next.
    early_.append(input);
    pending_ = early_.span();
    input = input.subspan(input.size());
  }
  return e;
}

LifecycleEvent ClientProtocol::end_of_input() {
  LifecycleEvent e;
  if (!open_) e.handshake = handshake_.end_of_input();
  return e;
}

}  // namespace duplex::protocol
