/// @file
/// A growable, contiguous byte buffer that does not zero what it grows into
/// (std::vector would), used to reassemble fragmented or split messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string_view>
#include <utility>

namespace duplex::protocol {

/// Bytes in one growable allocation. Not thread-safe: one owner at a time.
/// Views and pointers into it are valid until it grows, is moved from, or
/// is released.
class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  /// Takes `other`'s memory, leaving it empty.
  ByteBuffer(ByteBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  /// Frees ours and takes `other`'s memory, leaving it empty.
  ByteBuffer& operator=(ByteBuffer&& other) noexcept {
    if (this != &other) {
      std::free(data_);
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }
  ~ByteBuffer() { std::free(data_); }

  /// The bytes (null while nothing was ever allocated).
  ///@{
  std::uint8_t* data() noexcept { return data_; }
  const std::uint8_t* data() const noexcept { return data_; }
  ///@}
  /// Bytes held.
  std::size_t size() const noexcept { return size_; }
  /// Bytes it can hold before it grows.
  std::size_t capacity() const noexcept { return capacity_; }
  /// True when it holds no bytes.
  bool empty() const noexcept { return size_ == 0; }
  /// The bytes as a span or as text.
  ///@{
  std::span<std::uint8_t> span() noexcept { return {data_, size_}; }
  std::span<const std::uint8_t> span() const noexcept { return {data_, size_}; }
  std::string_view view() const noexcept { return {reinterpret_cast<const char*>(data_), size_}; }
  ///@}

  /// Room for `n` more bytes at the end; write them, then commit(n).
  std::uint8_t* prepare(std::size_t n) {
    if (capacity_ - size_ < n) grow(size_ + n);
    return data_ + size_;
  }
  /// Counts `n` bytes written after prepare() as held.
  void commit(std::size_t n) noexcept { size_ += n; }

  /// Appends a copy of `bytes` (or of `text`).
  ///@{
  void append(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return;
    std::memcpy(prepare(bytes.size()), bytes.data(), bytes.size());
    size_ += bytes.size();
  }
  void append(std::string_view text) {
    append({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  }
  ///@}

  /// Drops the first `n` bytes, keeping the rest at the front.
  void consume(std::size_t n) noexcept {
    if (n >= size_) {
      size_ = 0;
      return;
    }
    std::memmove(data_, data_ + n, size_ - n);
    size_ -= n;
  }

  /// Empties the buffer, keeping its memory.
  void clear() noexcept { size_ = 0; }
  /// Makes it hold `n` bytes (new ones are not initialised).
  void resize(std::size_t n) {
    if (n > capacity_) grow(n);
    size_ = n;
  }

  /// Empties the buffer and gives its memory back.
  void release() noexcept {
    std::free(data_);
    data_ = nullptr;
    size_ = capacity_ = 0;
  }

  /// Empties the buffer, keeping its memory only when it is at most `keep`
  /// bytes, so that one huge message does not pin memory forever.
  void clear_and_trim(std::size_t keep) noexcept {
    if (capacity_ > keep) release();
    size_ = 0;
  }

 private:
  void grow(std::size_t needed) {
    std::size_t cap = capacity_ ? capacity_ : 256;
    while (cap < needed) cap = cap > (SIZE_MAX / 2) ? needed : cap * 2;
    auto* p = static_cast<std::uint8_t*>(std::realloc(data_, cap));
    if (!p) throw std::bad_alloc();
    data_ = p;
    capacity_ = cap;
  }

  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace duplex::protocol
