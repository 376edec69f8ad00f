// A message framed once (server-to-client, unmasked) in one allocation with
// an atomic reference count, so every subscriber on every loop thread can
// queue the same bytes.
#pragma once

#include <duplex/protocol/frame.hpp>
#include <duplex/protocol/output_queue.hpp>

#include <atomic>
#include <cstdint>
#include <span>
#include <string_view>

namespace duplex::server {

class SharedFrame final : public protocol::SharedBytes {
 public:
  // Frames `payload` as one message with `opcode`; the count starts at 1,
  // owned by the caller.
  static SharedFrame* make(std::string_view payload, protocol::Opcode opcode);

  std::span<const std::uint8_t> bytes() const noexcept override { return {data(), size_}; }
  void retain() noexcept override { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept override;

 private:
  explicit SharedFrame(std::size_t size) : size_(size) {}
  ~SharedFrame() = default;
  const std::uint8_t* data() const noexcept {
    return reinterpret_cast<const std::uint8_t*>(this + 1);
  }
  std::uint8_t* data() noexcept { return reinterpret_cast<std::uint8_t*>(this + 1); }

  std::atomic<std::uint32_t> refs_{1};
  std::size_t size_;
};

// Owns one reference; copies take another.
class FrameRef {
 public:
  FrameRef() = default;
  explicit FrameRef(SharedFrame* adopt) noexcept : frame_(adopt) {}
  FrameRef(const FrameRef& other) noexcept : frame_(other.frame_) {
    if (frame_) frame_->retain();
  }
  FrameRef(FrameRef&& other) noexcept : frame_(other.frame_) { other.frame_ = nullptr; }
  FrameRef& operator=(FrameRef other) noexcept {
    std::swap(frame_, other.frame_);
    return *this;
  }
  ~FrameRef() {
    if (frame_) frame_->release();
  }
  SharedFrame& operator*() const noexcept { return *frame_; }
  SharedFrame* get() const noexcept { return frame_; }

 private:
  SharedFrame* frame_ = nullptr;
};

}  // namespace duplex::server
