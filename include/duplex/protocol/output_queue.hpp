/// @file
/// Bytes waiting to be written to the transport, in order. Storage comes in
/// chunks from a per-thread pool, so a connection that writes steadily does not
/// allocate per message, and an idle connection holds no buffer at all. A
/// segment can also refer to bytes shared with other queues (a published
/// message framed once and sent to many connections).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace duplex::protocol {

class OutputQueue;

namespace detail {
struct OutputChunk;  ///< a queue node: storage or shared segments (output_queue.cpp)
/// Asks the CPU to start loading the oldest and newest pending chunks of
/// `queue`, which a write will read soon: for loops that walk many queues.
void prefetch(const OutputQueue& queue) noexcept;
}  // namespace detail

/// Immutable, reference-counted bytes that several output queues may hold.
/// Implementations count references atomically when queues on different
/// threads share them.
class SharedBytes {
 public:
  /// The bytes; valid while a reference is held.
  virtual std::span<const std::uint8_t> bytes() const noexcept = 0;
  /// Takes a reference.
  virtual void retain() noexcept = 0;
  /// Gives one back; the last one frees the bytes.
  virtual void release() noexcept = 0;

 protected:
  ~SharedBytes() = default;
};

/// A connection's pending output. Used by one thread at a time (its chunks
/// come from that thread's pool). The ranges `gather()` hands out are valid
/// until the queue is consumed past them, cleared or destroyed.
class OutputQueue {
 public:
  /// A range of pending bytes.
  using Bytes = std::span<const std::uint8_t>;

  OutputQueue() = default;
  OutputQueue(const OutputQueue&) = delete;
  OutputQueue& operator=(const OutputQueue&) = delete;
  /// Takes `other`'s pending bytes, leaving it empty.
  ///@{
  OutputQueue(OutputQueue&& other) noexcept;
  OutputQueue& operator=(OutputQueue&& other) noexcept;
  ///@}
  ~OutputQueue() { clear(); }

  /// Contiguous room for `n` bytes at the end of the queue: write into it,
  /// then commit() what was written (at most `n`).
  std::uint8_t* prepare(std::size_t n);
  /// Queues `n` bytes written after prepare().
  void commit(std::size_t n) noexcept;

  /// Queues a copy of `bytes` (or of `text`).
  ///@{
  void append(Bytes bytes);
  void append(std::string_view text) {
    append({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  }
  ///@}
  /// Queues a reference to `shared` (retained until written or cleared).
  void append_shared(SharedBytes& shared);

  /// Pending bytes.
  std::size_t size() const noexcept { return size_; }
  /// True when nothing is pending.
  bool empty() const noexcept { return size_ == 0; }
  /// Pending bytes this queue holds in storage of its own: size() less the
  /// shared segments, which other queues may hold too. Walks the queue.
  std::size_t owned_size() const noexcept;

  /// Writes up to out.size() pending byte ranges, oldest first, into `out`
  /// (for writev or SSL_write) and returns how many it wrote.
  std::size_t gather(std::span<Bytes> out) const noexcept;
  /// Drops the first `n` pending bytes (those the transport took).
  void consume(std::size_t n) noexcept;
  /// Drops everything pending.
  void clear() noexcept;
  /// Appends every pending byte to `out` and empties the queue: a copy, for
  /// tools, tests and blocking transports that write from one buffer.
  void drain_to(std::string& out);

 private:
  friend void detail::prefetch(const OutputQueue& queue) noexcept;
  using Chunk = detail::OutputChunk;
  Chunk* new_tail(std::size_t n);

  Chunk* head_ = nullptr;
  Chunk* tail_ = nullptr;
  std::size_t size_ = 0;
};

inline void detail::prefetch(const OutputQueue& queue) noexcept {
  if (queue.head_) {
    __builtin_prefetch(queue.head_);
    __builtin_prefetch(queue.tail_);
  }
}

}  // namespace duplex::protocol
