#include <duplex/protocol/utf8.hpp>

#include <array>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace duplex::protocol {
namespace {

// Byte classes: bytes that behave the same in every state share a class.
enum : std::uint8_t {
  ascii,     // 00..7F
  cont_lo,   // 80..8F
  cont_mid,  // 90..9F
  cont_hi,   // A0..BF
  never,     // C0, C1, F5..FF: never valid
  lead2,     // C2..DF
  lead3_e0,  // E0: second byte A0..BF (no overlongs)
  lead3,     // E1..EC, EE..EF
  lead3_ed,  // ED: second byte 80..9F (no surrogates)
  lead4_f0,  // F0: second byte 90..BF (no overlongs)
  lead4,     // F1..F3
  lead4_f4,  // F4: second byte 80..8F (nothing past U+10FFFF)
  class_count
};

constexpr std::array<std::uint8_t, 256> make_byte_classes() {
  std::array<std::uint8_t, 256> c{};
  for (int b = 0; b < 256; ++b) {
    std::uint8_t k;
    if (b <= 0x7F)
      k = ascii;
    else if (b <= 0x8F)
      k = cont_lo;
    else if (b <= 0x9F)
      k = cont_mid;
    else if (b <= 0xBF)
      k = cont_hi;
    else if (b <= 0xC1)
      k = never;
    else if (b <= 0xDF)
      k = lead2;
    else if (b == 0xE0)
      k = lead3_e0;
    else if (b == 0xED)
      k = lead3_ed;
    else if (b <= 0xEF)
      k = lead3;
    else if (b == 0xF0)
      k = lead4_f0;
    else if (b <= 0xF3)
      k = lead4;
    else if (b == 0xF4)
      k = lead4_f4;
    else
      k = never;
    c[static_cast<std::size_t>(b)] = k;
  }
  return c;
}

// States: 0 accept; 1 one continuation byte left; 2 two left; 3 after E0;
// 4 after ED; 5 three left; 6 after F0; 7 after F4; 8 reject (sticky).
constexpr std::uint8_t R = Utf8Validator::reject_state;
constexpr std::uint8_t transitions[9][class_count] = {
    //  asc cLo cMid cHi nev  l2 lE0  l3 lED lF0  l4 lF4
    {0, R, R, R, R, 1, 3, 2, 4, 6, 5, 7},  // 0 accept
    {R, 0, 0, 0, R, R, R, R, R, R, R, R},  // 1
    {R, 1, 1, 1, R, R, R, R, R, R, R, R},  // 2
    {R, R, R, 1, R, R, R, R, R, R, R, R},  // 3 E0: A0..BF
    {R, 1, 1, R, R, R, R, R, R, R, R, R},  // 4 ED: 80..9F
    {R, 2, 2, 2, R, R, R, R, R, R, R, R},  // 5
    {R, R, 2, 2, R, R, R, R, R, R, R, R},  // 6 F0: 90..BF
    {R, 2, R, R, R, R, R, R, R, R, R, R},  // 7 F4: 80..8F
    {R, R, R, R, R, R, R, R, R, R, R, R},  // 8 reject
};

constexpr auto byte_classes = make_byte_classes();

// Length of the pure-ASCII prefix of [p, p+n): 16 or 8 bytes at a time, then
// byte by byte, so short texts and tails do not bounce through the table.
std::size_t ascii_prefix(const std::uint8_t* p, std::size_t n) noexcept {
  std::size_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    if (_mm_movemask_epi8(v) != 0) break;
  }
#endif
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w & 0x8080808080808080ULL) break;
  }
  while (i < n && p[i] < 0x80) ++i;
  return i;
}

}  // namespace

bool Utf8Validator::feed(std::span<const std::uint8_t> bytes) noexcept {
  std::uint8_t state = state_;
  if (state == reject_state) return false;
  const std::uint8_t* p = bytes.data();
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    if (state == accept_state) {
      i += ascii_prefix(p + i, n - i);
      if (i == n) break;
    }
    state = transitions[state][byte_classes[p[i]]];
    if (state == reject_state) {
      state_ = state;
      return false;
    }
    ++i;
  }
  state_ = state;
  return true;
}

bool is_valid_utf8(std::span<const std::uint8_t> bytes) noexcept {
  Utf8Validator v;
  return v.feed(bytes) && v.complete();
}

}  // namespace duplex::protocol
