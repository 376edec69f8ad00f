// Differential fuzzing of the UTF-8 validator against a plain decoder, whole
// and cut at every point the input's first byte picks.
#include <duplex/protocol/utf8.hpp>

#include <cstdint>
#include <cstdlib>

namespace {

bool reference_valid(const std::uint8_t* s, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    const std::uint8_t b = s[i];
    std::size_t extra;
    std::uint32_t cp;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      extra = 1;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      extra = 2;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      extra = 3;
      cp = b & 0x07;
    } else {
      return false;
    }
    if (i + extra >= n) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    const std::uint32_t min = extra == 1 ? 0x80 : extra == 2 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t cut = data[0] % size;
  const std::uint8_t* s = data + 1;
  const std::size_t n = size - 1;
  const bool expected = reference_valid(s, n);
  if (duplex::protocol::is_valid_utf8({s, n}) != expected) std::abort();
  duplex::protocol::Utf8Validator v;
  const std::size_t c = cut > n ? n : cut;
  const bool ok = v.feed({s, c}) && v.feed({s + c, n - c}) && v.complete();
  if (ok != expected) std::abort();
  return 0;
}
