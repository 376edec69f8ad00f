// The per-loop slab pool of server sessions: memory comes back for reuse,
// slabs are added 64 objects at a time, and objects never overlap.
#include "server/session_pool.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

namespace duplex::test {
namespace {

TEST(SlabPool, ObjectsAreDistinctAlignedAndReused) {
  server::SlabPool<100> pool;
  std::vector<void*> taken;
  for (int i = 0; i < 200; ++i) {
    void* p = pool.take();
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignof(std::max_align_t), 0u);
    std::memset(p, i, 100);  // the whole object is ours to write
    taken.push_back(p);
  }
  EXPECT_EQ(std::set<void*>(taken.begin(), taken.end()).size(), taken.size());
  // Objects do not overlap: each still holds what was written into it.
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(static_cast<unsigned char*>(taken[i])[99], static_cast<unsigned char>(i));
  }
  void* last = taken.back();
  pool.give_back(last);
  EXPECT_EQ(pool.take(), last);  // the most recently given back comes first
  for (void* p : taken) pool.give_back(p);
  std::set<void*> again;
  for (int i = 0; i < 200; ++i) again.insert(pool.take());
  EXPECT_EQ(again, std::set<void*>(taken.begin(), taken.end()));  // no new slab needed
}

}  // namespace
}  // namespace duplex::test
