#include "published_message.hpp"

#include <duplex/protocol/byte_buffer.hpp>
#include <duplex/protocol/extension.hpp>

#include <cstdlib>
#include <cstring>
#include <new>

namespace duplex::server {

SharedFrame* SharedFrame::make(std::string_view payload, protocol::Opcode opcode,
                               std::uint8_t rsv) {
  protocol::FrameHeader h;
  h.opcode = static_cast<std::uint8_t>(opcode);
  h.rsv = rsv;
  h.payload_length = payload.size();
  const std::size_t header_size = protocol::frame_header_size(payload.size(), false);
  void* memory = std::malloc(sizeof(SharedFrame) + header_size + payload.size());
  if (!memory) throw std::bad_alloc();
  auto* frame = new (memory) SharedFrame(header_size + payload.size(), header_size);
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

PublishedMessage* PublishedMessage::make(std::string_view payload, protocol::Opcode opcode,
                                         std::uint64_t sequence) {
  SharedFrame* plain = SharedFrame::make(payload, opcode);
  return new PublishedMessage(plain, opcode, sequence);
}

PublishedMessage::~PublishedMessage() {
  for (auto& slot : encoded_) {
    SharedFrame* f = slot.load(std::memory_order_acquire);
    if (f && f != plain_) f->release();
  }
  plain_->release();
}

void PublishedMessage::release() noexcept {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

SharedFrame& PublishedMessage::encoded(const protocol::MessageTransform& transform) {
  auto& slot = encoded_[static_cast<std::size_t>(transform.shared_encoding_key()) % encodings];
  if (SharedFrame* f = slot.load(std::memory_order_acquire)) return *f;
  // First subscriber with this encoding, on whatever thread: encode, then
  // publish the result; if another thread won the race, use its copy.
  thread_local protocol::ByteBuffer scratch;
  scratch.clear();
  const std::string_view p = payload();
  SharedFrame* made = plain_;
  if (transform.encode_shared({reinterpret_cast<const std::uint8_t*>(p.data()), p.size()},
                              scratch)) {
    made = SharedFrame::make(scratch.view(), opcode_, protocol::rsv1_bit);
  }
  SharedFrame* expected = nullptr;
  if (!slot.compare_exchange_strong(expected, made, std::memory_order_acq_rel)) {
    if (made != plain_) made->release();
    return *expected;
  }
  return *made;
}

LoopDelivery::~LoopDelivery() {
  if (plain_) plain_->release();
  for (LoopFrame* f : encoded_) {
    if (f) f->release();
  }
}

protocol::SharedBytes& LoopDelivery::plain() {
  if (!plain_) plain_ = LoopFrame::make(message_.plain());
  return *plain_;
}

protocol::SharedBytes& LoopDelivery::encoded(const protocol::MessageTransform& transform) {
  LoopFrame*& slot = encoded_[static_cast<std::size_t>(transform.shared_encoding_key()) %
                              PublishedMessage::encodings];
  if (!slot) slot = LoopFrame::make(message_.encoded(transform));
  return *slot;
}

}  // namespace duplex::server
