#include "published_message.hpp"

#include <duplex/protocol/byte_buffer.hpp>
#include <duplex/protocol/deflate.hpp>

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
  for (auto& slot : deflated_) {
    SharedFrame* f = slot.load(std::memory_order_acquire);
    if (f && f != plain_) f->release();
  }
  plain_->release();
}

void PublishedMessage::release() noexcept {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

SharedFrame& PublishedMessage::deflated(int window_bits, const protocol::DeflateOptions& options) {
  const int bits = window_bits < 9 ? 9 : window_bits > 15 ? 15 : window_bits;
  auto& slot = deflated_[bits - 9];
  if (SharedFrame* f = slot.load(std::memory_order_acquire)) return *f;
  // First subscriber with this window, on whatever thread: compress, then
  // publish the result; if another thread won the race, use its copy.
  thread_local protocol::ByteBuffer scratch;
  scratch.clear();
  const std::string_view p = payload();
  SharedFrame* made = plain_;
  if (protocol::DeflateCodec::compress_once(
          {reinterpret_cast<const std::uint8_t*>(p.data()), p.size()}, bits, options, scratch)) {
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
  for (LoopFrame* f : deflated_) {
    if (f) f->release();
  }
}

protocol::SharedBytes& LoopDelivery::plain() {
  if (!plain_) plain_ = LoopFrame::make(message_.plain());
  return *plain_;
}

protocol::SharedBytes& LoopDelivery::deflated(int window_bits,
                                              const protocol::DeflateOptions& options) {
  const int bits = window_bits < 9 ? 9 : window_bits > 15 ? 15 : window_bits;
  LoopFrame*& slot = deflated_[bits - 9];
  if (!slot) slot = LoopFrame::make(message_.deflated(bits, options));
  return *slot;
}

}  // namespace duplex::server
