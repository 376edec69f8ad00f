// The incremental UTF-8 validator: every valid code point passes, every
// malformed form fails, and at the first byte that makes it malformed.
#include <duplex/protocol/utf8.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>

namespace duplex::test {
namespace {

using protocol::is_valid_utf8;
using protocol::Utf8Validator;

std::string encode(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// Index of the byte at which a byte-at-a-time feed first fails, if any.
std::optional<std::size_t> first_failure(const std::string& s) {
  Utf8Validator v;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!v.feed(std::string_view(&s[i], 1))) return i;
  }
  return std::nullopt;
}

// A straightforward reference decoder (RFC 3629), independent of the table.
bool reference_valid(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t n;
    char32_t cp;
    if (b < 0x80) {
      ++i;
      continue;
    }
    if ((b & 0xE0) == 0xC0) {
      n = 1;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      n = 2;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      n = 3;
      cp = b & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    const char32_t min = n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

TEST(Utf8, EveryScalarValueIsValid) {
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    const std::string s = encode(cp);
    ASSERT_TRUE(is_valid_utf8(s)) << std::hex << static_cast<std::uint32_t>(cp);
  }
}

TEST(Utf8, EverySurrogateIsRejectedAtItsSecondByte) {
  for (char32_t cp = 0xD800; cp <= 0xDFFF; ++cp) {
    const std::string s = encode(cp);
    EXPECT_FALSE(is_valid_utf8(s));
    EXPECT_EQ(first_failure(s), 1u) << std::hex << static_cast<std::uint32_t>(cp);
  }
}

TEST(Utf8, FailsAtTheFirstImpossibleByte) {
  struct Case {
    const char* name;
    std::string bytes;
    std::size_t fails_at;
  };
  const Case cases[] = {
      {"lone continuation", "a\x80", 1},
      {"C0 overlong", "\xC0\x80", 0},
      {"C1 overlong", "\xC1\xBF", 0},
      {"3-byte overlong", "\xE0\x80\x80", 1},
      {"3-byte overlong max", "\xE0\x9F\xBF", 1},
      {"4-byte overlong", "\xF0\x80\x80\x80", 1},
      {"4-byte overlong max", "\xF0\x8F\xBF\xBF", 1},
      {"past U+10FFFF", "\xF4\x90\x80\x80", 1},
      {"F5 lead", "\xF5\x80\x80\x80", 0},
      {"FE", "ab\xFE", 2},
      {"FF", "\xFF", 0},
      {"missing continuation",
       "\xE2\x82"
       "a",
       2},
      {"2-byte then ASCII",
       "\xC3"
       "A",
       1},
      {"Autobahn 6.3.1 (bad mid-text)",
       "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", 12},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(is_valid_utf8(c.bytes)) << c.name;
    EXPECT_EQ(first_failure(c.bytes), c.fails_at) << c.name;
  }
}

TEST(Utf8, TruncatedSequenceIsIncompleteNotFailed) {
  for (const std::string s : {"\xC3", "\xE2\x82", "\xF0\x9F\x98", "abc\xF4\x8F\xBF"}) {
    Utf8Validator v;
    EXPECT_TRUE(v.feed(s)) << "a valid prefix must not fail early";
    EXPECT_FALSE(v.complete());
    EXPECT_FALSE(v.failed());
    EXPECT_FALSE(is_valid_utf8(s));
  }
}

TEST(Utf8, KnownGoodTexts) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(
      is_valid_utf8("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"));
  EXPECT_TRUE(is_valid_utf8("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"));  // κόσμε
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80 emoji \xf4\x8f\xbf\xbf"));
  EXPECT_TRUE(is_valid_utf8(std::string(1000, 'x') + "\xe2\x82\xac" + std::string(33, 'y')));
}

TEST(Utf8, FailureIsSticky) {
  Utf8Validator v;
  EXPECT_FALSE(v.feed("\xFF"));
  EXPECT_TRUE(v.failed());
  EXPECT_FALSE(v.feed("abc"));
  v.reset();
  EXPECT_TRUE(v.feed("abc"));
  EXPECT_TRUE(v.complete());
}

TEST(Utf8, RandomBytesAgreeWithReferenceWholeAndSplit) {
  std::mt19937 rng(1234);
  // Bytes drawn mostly from the interesting ranges around the class edges.
  const unsigned char alphabet[] = {'a',  0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
                                    0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED,
                                    0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
  for (int trial = 0; trial < 200000; ++trial) {
    std::string s;
    const std::size_t len = rng() % 12;
    for (std::size_t i = 0; i < len; ++i)
      s += static_cast<char>(alphabet[rng() % sizeof(alphabet)]);
    const bool expected = reference_valid(s);
    ASSERT_EQ(is_valid_utf8(s), expected) << trial;
    Utf8Validator v;
    const std::size_t cut = len ? rng() % (len + 1) : 0;
    const bool ok = v.feed(std::string_view(s).substr(0, cut)) &&
                    v.feed(std::string_view(s).substr(cut)) && v.complete();
    ASSERT_EQ(ok, expected) << trial;
  }
}

TEST(Utf8, LongAsciiRunsWithATrailingError) {
  // Exercises the 16- and 8-byte ASCII fast paths up to the failing byte.
  for (std::size_t n = 0; n < 70; ++n) {
    std::string s(n, 'q');
    s += '\xC0';
    EXPECT_EQ(first_failure(s), n);
    EXPECT_FALSE(is_valid_utf8(s));
    Utf8Validator v;
    EXPECT_FALSE(v.feed(s));
  }
}

}  // namespace
}  // namespace duplex::test
