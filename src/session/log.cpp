#include <duplex/log.hpp>
#include <duplex/protocol/utf8.hpp>

namespace duplex {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex(std::string& out, unsigned char c) {
  out += "\\x";
  out += hex_digits[c >> 4];
  out += hex_digits[c & 0xF];
}

// Length of the valid UTF-8 sequence at the start of `s`, or 0.
std::size_t utf8_sequence(std::string_view s) noexcept {
  const auto c = static_cast<unsigned char>(s[0]);
  const std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (n == 0 || n > s.size()) return 0;
  return protocol::is_valid_utf8(s.substr(0, n)) ? n : 0;
}

}  // namespace

std::string escape_for_log(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      if (c == '\\') out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c == '\n') {
      out += "\\n";
      ++i;
    } else if (c == '\r') {
      out += "\\r";
      ++i;
    } else if (c == '\t') {
      out += "\\t";
      ++i;
    } else if (c >= 0x80) {
      const std::size_t n = utf8_sequence(text.substr(i));
      // C1 controls (U+0080..U+009F) drive terminals too.
      const bool c1 = n == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
      if (n > 0 && !c1) {
        out.append(text.substr(i, n));
        i += n;
      } else {
        append_hex(out, c);
        ++i;
      }
    } else {
      append_hex(out, c);
      ++i;
    }
  }
  return out;
}

}  // namespace duplex
