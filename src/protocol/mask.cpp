#include "mask_impl.hpp"

#include <duplex/protocol/mask.hpp>

#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace duplex::protocol {
namespace {

// The key as a native word, rotated so that its first byte lines up with
// payload byte `phase`.
std::uint32_t rotated_key_word(MaskKey key, std::size_t phase) noexcept {
  std::uint32_t word;
  std::memcpy(&word, key.data(), 4);
  const int shift = static_cast<int>(8 * (phase & 3));
  if constexpr (std::endian::native == std::endian::little) {
    return std::rotr(word, shift);
  } else {
    return std::rotl(word, shift);
  }
}

std::uint64_t widen(std::uint32_t word) noexcept {
  return (std::uint64_t{word} << 32) | word;
}

// The tail that no wide unit covers, byte by byte, from a key word whose
// first byte lines up with data[0].
void mask_tail(std::uint8_t* data, std::size_t size, std::uint32_t key_word) noexcept {
  std::uint8_t k[4];
  std::memcpy(k, &key_word, 4);
  for (std::size_t i = 0; i < size; ++i) data[i] ^= k[i & 3];
}

std::size_t word64_from(std::uint8_t* data, std::size_t size, std::uint32_t key_word) noexcept {
  const std::uint64_t k = widen(key_word);
  std::size_t i = 0;
  for (; i + 32 <= size; i += 32) {
    std::uint64_t w[4];
    std::memcpy(w, data + i, 32);
    w[0] ^= k;
    w[1] ^= k;
    w[2] ^= k;
    w[3] ^= k;
    std::memcpy(data + i, w, 32);
  }
  for (; i + 8 <= size; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, data + i, 8);
    w ^= k;
    std::memcpy(data + i, &w, 8);
  }
  mask_tail(data + i, size - i, key_word);
  return size;
}

}  // namespace

namespace mask_impl {

std::size_t bytewise(std::uint8_t* data, std::size_t size, MaskKey key,
                     std::size_t phase) noexcept {
  for (std::size_t i = 0; i < size; ++i) data[i] ^= key[(phase + i) & 3];
  return (phase + size) & 3;
}

std::size_t word64(std::uint8_t* data, std::size_t size, MaskKey key, std::size_t phase) noexcept {
  word64_from(data, size, rotated_key_word(key, phase));
  return (phase + size) & 3;
}

#if defined(__x86_64__)
std::size_t sse2(std::uint8_t* data, std::size_t size, MaskKey key, std::size_t phase) noexcept {
  const std::uint32_t key_word = rotated_key_word(key, phase);
  const __m128i k = _mm_set1_epi32(static_cast<int>(key_word));
  std::size_t i = 0;
  for (; i + 64 <= size; i += 64) {
    auto* p = reinterpret_cast<__m128i*>(data + i);
    const __m128i a = _mm_xor_si128(_mm_loadu_si128(p), k);
    const __m128i b = _mm_xor_si128(_mm_loadu_si128(p + 1), k);
    const __m128i c = _mm_xor_si128(_mm_loadu_si128(p + 2), k);
    const __m128i d = _mm_xor_si128(_mm_loadu_si128(p + 3), k);
    _mm_storeu_si128(p, a);
    _mm_storeu_si128(p + 1, b);
    _mm_storeu_si128(p + 2, c);
    _mm_storeu_si128(p + 3, d);
  }
  for (; i + 16 <= size; i += 16) {
    auto* p = reinterpret_cast<__m128i*>(data + i);
    _mm_storeu_si128(p, _mm_xor_si128(_mm_loadu_si128(p), k));
  }
  // Every step above is a multiple of 4 bytes, so the key word still lines up.
  word64_from(data + i, size - i, key_word);
  return (phase + size) & 3;
}

__attribute__((target("avx2"))) std::size_t avx2(std::uint8_t* data, std::size_t size, MaskKey key,
                                                 std::size_t phase) noexcept {
  const std::uint32_t key_word = rotated_key_word(key, phase);
  const __m256i k = _mm256_set1_epi32(static_cast<int>(key_word));
  std::size_t i = 0;
  for (; i + 128 <= size; i += 128) {
    auto* p = reinterpret_cast<__m256i*>(data + i);
    const __m256i a = _mm256_xor_si256(_mm256_loadu_si256(p), k);
    const __m256i b = _mm256_xor_si256(_mm256_loadu_si256(p + 1), k);
    const __m256i c = _mm256_xor_si256(_mm256_loadu_si256(p + 2), k);
    const __m256i d = _mm256_xor_si256(_mm256_loadu_si256(p + 3), k);
    _mm256_storeu_si256(p, a);
    _mm256_storeu_si256(p + 1, b);
    _mm256_storeu_si256(p + 2, c);
    _mm256_storeu_si256(p + 3, d);
  }
  for (; i + 32 <= size; i += 32) {
    auto* p = reinterpret_cast<__m256i*>(data + i);
    _mm256_storeu_si256(p, _mm256_xor_si256(_mm256_loadu_si256(p), k));
  }
  word64_from(data + i, size - i, key_word);
  return (phase + size) & 3;
}

bool cpu_has_avx2() noexcept {
  // May run from a static initialiser, before the compiler's own CPU probe.
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}
#endif

}  // namespace mask_impl

namespace {

using MaskFn = std::size_t (*)(std::uint8_t*, std::size_t, MaskKey, std::size_t) noexcept;

// SSE2 is on every x86-64 CPU. AVX2 is not picked even where available: on
// the machines measured (see bench/README.md) it paid a fixed ~130 ns per
// call, and SSE2 already runs at memory speed for large payloads.
MaskFn pick_mask_fn() noexcept {
#if defined(__x86_64__)
  return mask_impl::sse2;
#else
  return mask_impl::word64;
#endif
}

const MaskFn best_mask_fn = pick_mask_fn();

}  // namespace

std::size_t apply_mask(std::uint8_t* data, std::size_t size, MaskKey key,
                       std::size_t phase) noexcept {
  // Small payloads (the common chat-sized message) skip the indirect call's
  // vector set-up; 64 bits at a time is already the best there.
  if (size < 64) return mask_impl::word64(data, size, key, phase);
  return best_mask_fn(data, size, key, phase);
}

std::size_t copy_masked(std::uint8_t* dst, const std::uint8_t* src, std::size_t size, MaskKey key,
                        std::size_t phase) noexcept {
  // Copy then mask in place, so both steps use their vectorised paths.
  std::memcpy(dst, src, size);
  return apply_mask(dst, size, key, phase);
}

}  // namespace duplex::protocol
