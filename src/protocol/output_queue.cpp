#include <duplex/protocol/output_queue.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

namespace duplex::protocol {

// A shared node carries up to this many shared segments back to back: a
// subscriber that gets several published messages in one loop iteration
// has one node for them, not one each.
constexpr std::uint8_t shared_run_max = 3;

struct detail::OutputChunk {
  using Chunk = OutputChunk;
  Chunk* next;
  std::size_t begin;  // first unwritten byte (of a shared node: of its segments laid end to end)
  std::size_t end;    // one past the last byte
  std::uint8_t size_class;
  std::uint8_t shared_count;  // segments in `shared`; 0 for a chunk with storage
  union {
    std::size_t capacity;                 // storage bytes (chunks with storage)
    SharedBytes* shared[shared_run_max];  // the segments, in order (shared nodes)
  };

  std::uint8_t* storage() noexcept { return reinterpret_cast<std::uint8_t*>(this + 1); }
  const std::uint8_t* storage() const noexcept {
    return reinterpret_cast<const std::uint8_t*>(this + 1);
  }
};

namespace {

using Chunk = detail::OutputChunk;

// Size classes by total allocation (header included). Small messages start
// in a small chunk; a queue that keeps growing moves up to larger ones.
constexpr std::size_t class_bytes[] = {512, 2048, 4096, 16384};
// Up to ~4 MiB cached per thread in all: enough for every connection of a
// busy iteration to hold a chunk without going back to malloc.
constexpr std::size_t class_cache_limit[] = {2048, 1024, 256, 64};
constexpr std::uint8_t data_classes = 4;
constexpr std::uint8_t shared_class = 4;     // header-only node for SharedBytes
constexpr std::uint8_t dedicated_class = 5;  // one exact-size allocation, not pooled

// Enough nodes for a fan-out to tens of thousands of subscribers with a few
// messages each in flight (48 bytes each: about 3 MiB at most per thread).
constexpr std::size_t shared_cache_limit = 65536;

// How many pops ahead a free chunk is prefetched.
constexpr std::size_t prefetch_distance = 4;

// One per thread: chunks are only ever taken and returned by the thread that
// runs the queue's owner, so the free lists need no locking. The free lists
// are arrays of pointers rather than links through the chunks: taking a
// chunk then reads nothing from it, and the chunks taken next can be
// prefetched. In a fan-out every subscriber takes one, and a linked list
// would wait on memory once per subscriber.
class ChunkPool {
 public:
  ~ChunkPool() {
    destroyed = true;
    for (auto& list : free_) {
      for (Chunk* c : list) std::free(c);
    }
  }

  Chunk* take(std::uint8_t size_class) {
    std::vector<Chunk*>& list = free_[size_class];
    if (!list.empty()) {
      Chunk* c = list.back();
      list.pop_back();
      if (list.size() >= prefetch_distance) {
        __builtin_prefetch(list[list.size() - prefetch_distance], 1);
      }
      return c;
    }
    const std::size_t bytes = size_class == shared_class ? sizeof(Chunk) : class_bytes[size_class];
    void* p = std::malloc(bytes);
    if (!p) throw std::bad_alloc();
    auto* c = static_cast<Chunk*>(p);
    c->size_class = size_class;
    if (size_class != shared_class) c->capacity = bytes - sizeof(Chunk);
    return c;
  }

  void give_back(Chunk* c) noexcept {
    std::vector<Chunk*>& list = free_[c->size_class];
    const std::size_t limit =
        c->size_class == shared_class ? shared_cache_limit : class_cache_limit[c->size_class];
    if (list.size() < limit) {
      try {
        list.push_back(c);
        return;
      } catch (const std::bad_alloc&) {
        // No room to remember it: give it back to malloc instead.
      }
    }
    std::free(c);
  }

  static thread_local bool destroyed;

 private:
  std::vector<Chunk*> free_[data_classes + 1];
};

thread_local bool ChunkPool::destroyed = false;
thread_local ChunkPool pool;

Chunk* take_chunk(std::uint8_t size_class) {
  return pool.take(size_class);
}

void free_chunk(Chunk* c) noexcept {
  for (std::uint8_t i = 0; i < c->shared_count; ++i) c->shared[i]->release();
  if (c->size_class == dedicated_class || ChunkPool::destroyed) {
    std::free(c);
  } else {
    pool.give_back(c);
  }
}

Chunk* init(Chunk* c) noexcept {
  c->next = nullptr;
  c->shared_count = 0;
  c->begin = c->end = 0;
  return c;
}

}  // namespace

OutputQueue::OutputQueue(OutputQueue&& other) noexcept
    : head_(std::exchange(other.head_, nullptr)),
      tail_(std::exchange(other.tail_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

OutputQueue& OutputQueue::operator=(OutputQueue&& other) noexcept {
  if (this != &other) {
    clear();
    head_ = std::exchange(other.head_, nullptr);
    tail_ = std::exchange(other.tail_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

OutputQueue::Chunk* OutputQueue::new_tail(std::size_t n) {
  Chunk* c;
  // Grow one class above the current tail so a burst of small writes ends
  // up in few large chunks (few iovecs) without small writers paying for it.
  std::uint8_t cls = 0;
  if (tail_ && !tail_->shared_count && tail_->size_class < data_classes) {
    cls = static_cast<std::uint8_t>(std::min<int>(tail_->size_class + 1, data_classes - 1));
  }
  while (cls < data_classes && class_bytes[cls] - sizeof(Chunk) < n) ++cls;
  if (cls < data_classes) {
    c = init(take_chunk(cls));
  } else {
    void* p = std::malloc(sizeof(Chunk) + n);
    if (!p) throw std::bad_alloc();
    c = init(static_cast<Chunk*>(p));
    c->size_class = dedicated_class;
    c->capacity = n;
  }
  if (tail_) {
    tail_->next = c;
  } else {
    head_ = c;
  }
  tail_ = c;
  return c;
}

std::uint8_t* OutputQueue::prepare(std::size_t n) {
  Chunk* c = tail_;
  if (!c || c->shared_count || c->capacity - c->end < n) c = new_tail(n);
  return c->storage() + c->end;
}

void OutputQueue::commit(std::size_t n) noexcept {
  tail_->end += n;
  size_ += n;
}

void OutputQueue::append(Bytes bytes) {
  if (bytes.empty()) return;
  std::memcpy(prepare(bytes.size()), bytes.data(), bytes.size());
  commit(bytes.size());
}

void OutputQueue::append_shared(SharedBytes& shared) {
  const std::size_t n = shared.bytes().size();
  if (n == 0) return;
  Chunk* c = tail_;
  if (!c || !c->shared_count || c->shared_count == shared_run_max) {
    c = init(take_chunk(shared_class));
    if (tail_) {
      tail_->next = c;
    } else {
      head_ = c;
    }
    tail_ = c;
  }
  shared.retain();
  c->shared[c->shared_count++] = &shared;
  c->end += n;
  size_ += n;
}

std::size_t OutputQueue::owned_size() const noexcept {
  std::size_t owned = 0;
  for (const Chunk* c = head_; c; c = c->next) {
    if (c->shared_count == 0) owned += c->end - c->begin;
  }
  return owned;
}

std::size_t OutputQueue::gather(std::span<Bytes> out) const noexcept {
  std::size_t count = 0;
  for (const Chunk* c = head_; c && count < out.size(); c = c->next) {
    if (c->end <= c->begin) continue;
    if (!c->shared_count) {
      out[count++] = Bytes(c->storage() + c->begin, c->end - c->begin);
      continue;
    }
    std::size_t skip = c->begin;  // bytes of the leading segments already written
    for (std::uint8_t i = 0; i < c->shared_count && count < out.size(); ++i) {
      const Bytes segment = c->shared[i]->bytes();
      if (skip >= segment.size()) {
        skip -= segment.size();
        continue;
      }
      out[count++] = segment.subspan(skip);
      skip = 0;
    }
  }
  return count;
}

void OutputQueue::consume(std::size_t n) noexcept {
  n = std::min(n, size_);
  size_ -= n;
  while (n > 0 && head_) {
    Chunk* c = head_;
    const std::size_t avail = c->end - c->begin;
    if (n < avail) {
      c->begin += n;
      return;
    }
    n -= avail;
    head_ = c->next;
    if (!head_) tail_ = nullptr;
    free_chunk(c);
  }
  // Fully drained: hand the last chunk back too, so idle connections hold
  // no output memory.
  if (size_ == 0) clear();
}

void OutputQueue::clear() noexcept {
  while (head_) {
    Chunk* c = head_;
    head_ = c->next;
    free_chunk(c);
  }
  tail_ = nullptr;
  size_ = 0;
}

void OutputQueue::drain_to(std::string& out) {
  Bytes parts[16];
  while (!empty()) {
    const std::size_t n = gather(parts);
    std::size_t total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      out.append(reinterpret_cast<const char*>(parts[i].data()), parts[i].size());
      total += parts[i].size();
    }
    consume(total);
  }
}

}  // namespace duplex::protocol
