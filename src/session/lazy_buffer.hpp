// A byte buffer made on first use and given back when released: for buffers
// most connections never need (8 bytes instead of 24 while unused).
#pragma once

#include <duplex/protocol/byte_buffer.hpp>

#include <memory>
#include <span>
#include <string_view>

namespace duplex::session {

// A ByteBuffer made on first use and given back when released: for buffers
// most objects never need (8 bytes instead of 24 while unused).
class LazyByteBuffer {
 public:
  bool empty() const noexcept { return !buffer_ || buffer_->empty(); }
  std::size_t size() const noexcept { return buffer_ ? buffer_->size() : 0; }
  std::string_view view() const noexcept { return buffer_ ? buffer_->view() : std::string_view{}; }
  void append(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return;
    if (!buffer_) buffer_ = std::make_unique<protocol::ByteBuffer>();
    buffer_->append(bytes);
  }
  void release() noexcept { buffer_.reset(); }
  // Moves the contents out (leaving this empty), or puts a buffer in.
  protocol::ByteBuffer take() noexcept {
    protocol::ByteBuffer out;
    if (buffer_) out = std::move(*buffer_);
    buffer_.reset();
    return out;
  }
  void put(protocol::ByteBuffer&& b) {
    if (!buffer_) buffer_ = std::make_unique<protocol::ByteBuffer>();
    *buffer_ = std::move(b);
  }

 private:
  std::unique_ptr<protocol::ByteBuffer> buffer_;
};

}  // namespace duplex::session
