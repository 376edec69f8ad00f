// A message published to a topic: framed once, in one allocation with an
// atomic reference count, so every subscriber on every loop thread queues
// the same bytes. Subscribers whose extension can share an encoding
// (permessage-deflate without server context takeover, per window size)
// share one encoded copy per key, made by whichever thread needs it first.
#pragma once

#include <duplex/protocol/extension.hpp>
#include <duplex/protocol/frame.hpp>
#include <duplex/protocol/output_queue.hpp>

#include <atomic>
#include <cstdint>
#include <span>
#include <string_view>

namespace duplex::server {

// Immutable frame bytes with an atomic reference count.
class SharedFrame final : public protocol::SharedBytes {
 public:
  // One frame of `payload`; the count starts at 1, owned by the caller.
  static SharedFrame* make(std::string_view payload, protocol::Opcode opcode, std::uint8_t rsv = 0);

  std::span<const std::uint8_t> bytes() const noexcept override { return {data(), size_}; }
  std::string_view payload() const noexcept {
    return {reinterpret_cast<const char*>(data()) + header_size_, size_ - header_size_};
  }
  void retain() noexcept override { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept override;

 private:
  SharedFrame(std::size_t size, std::size_t header_size) : size_(size), header_size_(header_size) {}
  ~SharedFrame() = default;
  const std::uint8_t* data() const noexcept {
    return reinterpret_cast<const std::uint8_t*>(this + 1);
  }
  std::uint8_t* data() noexcept { return reinterpret_cast<std::uint8_t*>(this + 1); }

  std::atomic<std::uint32_t> refs_{1};
  std::size_t size_;
  std::size_t header_size_;
};

class PublishedMessage {
 public:
  // `sequence` is the server-wide publish order (see TopicSubscriber::since).
  static PublishedMessage* make(std::string_view payload, protocol::Opcode opcode,
                                std::uint64_t sequence);

  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept;

  protocol::Opcode opcode() const noexcept { return opcode_; }
  std::uint64_t sequence() const noexcept { return sequence_; }
  std::string_view payload() const noexcept { return plain_->payload(); }
  // The uncompressed frame.
  SharedFrame& plain() noexcept { return *plain_; }
  // The frame encoded for every connection that shares `transform`'s
  // encoding key (RSV1 set), or the plain frame when encoding does not pay.
  // `transform.shared_encoding_key()` must be in [0, encodings).
  SharedFrame& encoded(const protocol::MessageTransform& transform);

  static constexpr std::size_t encodings = 8;

 private:
  PublishedMessage(SharedFrame* plain, protocol::Opcode opcode, std::uint64_t sequence)
      : plain_(plain), sequence_(sequence), opcode_(opcode) {}
  ~PublishedMessage();

  std::atomic<std::uint32_t> refs_{1};
  SharedFrame* plain_;
  std::uint64_t sequence_;
  protocol::Opcode opcode_;
  std::atomic<SharedFrame*> encoded_[encodings] = {};  // by shared encoding key
};

// One loop's references to a shared frame, counted without atomics: only
// that loop's thread queues and writes them. It holds a single reference to
// the frame, so a delivery to N subscribers of a loop costs one atomic
// increment and decrement instead of N of each, and no locked instruction
// waits on the stores to each subscriber's queue.
class LoopFrame final : public protocol::SharedBytes {
 public:
  // The count starts at 1, owned by the caller.
  static LoopFrame* make(SharedFrame& frame) { return new LoopFrame(frame); }

  std::span<const std::uint8_t> bytes() const noexcept override { return frame_.bytes(); }
  void retain() noexcept override { ++refs_; }
  void release() noexcept override {
    if (--refs_ == 0) delete this;
  }

 private:
  explicit LoopFrame(SharedFrame& frame) noexcept : frame_(frame) { frame_.retain(); }
  ~LoopFrame() { frame_.release(); }

  SharedFrame& frame_;
  std::uint32_t refs_ = 1;
};

// A published message on its way to the subscribers of one loop: the
// loop-local references to each of its frames (plain, or compressed for a
// window), made when the first subscriber needs that frame.
class LoopDelivery {
 public:
  explicit LoopDelivery(PublishedMessage& message) noexcept : message_(message) {}
  ~LoopDelivery();
  LoopDelivery(const LoopDelivery&) = delete;
  LoopDelivery& operator=(const LoopDelivery&) = delete;

  PublishedMessage& message() const noexcept { return message_; }
  protocol::SharedBytes& plain();
  protocol::SharedBytes& encoded(const protocol::MessageTransform& transform);

 private:
  PublishedMessage& message_;
  LoopFrame* plain_ = nullptr;
  LoopFrame* encoded_[PublishedMessage::encodings] = {};  // by shared encoding key
};

// Owns one reference to a PublishedMessage; copies take another.
class MessageRef {
 public:
  MessageRef() = default;
  explicit MessageRef(PublishedMessage* adopt) noexcept : message_(adopt) {}
  MessageRef(const MessageRef& other) noexcept : message_(other.message_) {
    if (message_) message_->retain();
  }
  MessageRef(MessageRef&& other) noexcept : message_(other.message_) { other.message_ = nullptr; }
  MessageRef& operator=(MessageRef other) noexcept {
    std::swap(message_, other.message_);
    return *this;
  }
  ~MessageRef() {
    if (message_) message_->release();
  }
  PublishedMessage& operator*() const noexcept { return *message_; }
  PublishedMessage* operator->() const noexcept { return message_; }

 private:
  PublishedMessage* message_ = nullptr;
};

}  // namespace duplex::server
