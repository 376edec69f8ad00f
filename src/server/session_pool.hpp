// Memory for objects of one size that come and go by the thousand (server
// sessions), in slabs of 64. One pool per event loop, used by that loop's
// thread only: no malloc header per object, and no heap fragmentation from
// the handshake's short-lived allocations landing between long-lived ones.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace duplex::server {

template <std::size_t Size>
class SlabPool {
 public:
  void* take() {
    if (!free_) grow();
    Node* n = free_;
    free_ = n->next;
    return n;
  }
  void give_back(void* p) noexcept {
    auto* n = static_cast<Node*>(p);
    n->next = free_;
    free_ = n;
  }

 private:
  union Node {
    Node* next;
    alignas(std::max_align_t) unsigned char bytes[Size];
  };
  void grow() {
    constexpr std::size_t per_slab = 64;
    slabs_.push_back(std::make_unique<Node[]>(per_slab));
    Node* slab = slabs_.back().get();
    for (std::size_t i = 0; i < per_slab; ++i) give_back(&slab[i]);
  }

  Node* free_ = nullptr;
  std::vector<std::unique_ptr<Node[]>> slabs_;
};

}  // namespace duplex::server
