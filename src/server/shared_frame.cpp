#include "shared_frame.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

namespace duplex::server {

SharedFrame* SharedFrame::make(std::string_view payload, protocol::Opcode opcode) {
  protocol::FrameHeader h;
  h.opcode = static_cast<std::uint8_t>(opcode);
  h.payload_length = payload.size();
  const std::size_t header_size = protocol::frame_header_size(payload.size(), false);
  void* memory = std::malloc(sizeof(SharedFrame) + header_size + payload.size());
  if (!memory) throw std::bad_alloc();
  auto* frame = new (memory) SharedFrame(header_size + payload.size());
  protocol::encode_frame_header(frame->data(), h);
  if (!payload.empty()) std::memcpy(frame->data() + header_size, payload.data(), payload.size());
  return frame;
}

void SharedFrame::release() noexcept {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    this->~SharedFrame();
    std::free(this);
  }
}

}  // namespace duplex::server
