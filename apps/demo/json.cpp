#include "json.hpp"

#include <duplex/protocol/utf8.hpp>

#include <charconv>
#include <cstdint>

namespace duplex::demo {
namespace {

class Reader {
 public:
  Reader(std::string_view s, int max_depth) : s_(s), max_depth_(max_depth) {}

  std::optional<Json> document() {
    skip_space();
    auto v = value(0);
    if (!v) return std::nullopt;
    skip_space();
    if (i_ != s_.size()) return std::nullopt;
    return v;
  }

 private:
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  std::optional<Json> value(int depth) {
    if (depth > max_depth_ || i_ >= s_.size()) return std::nullopt;
    const char c = s_[i_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') {
      auto str = string();
      if (!str) return std::nullopt;
      return Json{std::move(*str)};
    }
    if (literal("true")) return Json{true};
    if (literal("false")) return Json{false};
    if (literal("null")) return Json{nullptr};
    return number();
  }

  std::optional<Json> object(int depth) {
    ++i_;  // {
    JsonObject members;
    skip_space();
    if (eat('}')) return Json{std::move(members)};
    while (true) {
      skip_space();
      if (i_ >= s_.size() || s_[i_] != '"') return std::nullopt;
      auto key = string();
      if (!key) return std::nullopt;
      skip_space();
      if (!eat(':')) return std::nullopt;
      skip_space();
      auto v = value(depth + 1);
      if (!v) return std::nullopt;
      members.insert_or_assign(std::move(*key), std::move(*v));  // the last duplicate wins
      skip_space();
      if (eat('}')) return Json{std::move(members)};
      if (!eat(',')) return std::nullopt;
    }
  }

  std::optional<Json> array(int depth) {
    ++i_;  // [
    JsonArray items;
    skip_space();
    if (eat(']')) return Json{std::move(items)};
    while (true) {
      skip_space();
      auto v = value(depth + 1);
      if (!v) return std::nullopt;
      items.push_back(std::move(*v));
      skip_space();
      if (eat(']')) return Json{std::move(items)};
      if (!eat(',')) return std::nullopt;
    }
  }

  std::optional<Json> number() {
    // RFC 8259 grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    const std::size_t start = i_;
    eat('-');
    if (eat('0')) {
    } else if (i_ < s_.size() && s_[i_] >= '1' && s_[i_] <= '9') {
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    } else {
      return std::nullopt;
    }
    if (eat('.')) {
      if (!digits()) return std::nullopt;
    }
    if (eat('e') || eat('E')) {
      if (!eat('+')) eat('-');
      if (!digits()) return std::nullopt;
    }
    double d = 0;
    const auto r = std::from_chars(s_.data() + start, s_.data() + i_, d);
    if (r.ec != std::errc{} && r.ec != std::errc::result_out_of_range) return std::nullopt;
    return Json{d};
  }
  bool digits() {
    const std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > start;
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  std::optional<std::uint32_t> hex4() {
    if (s_.size() - i_ < 4) return std::nullopt;
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const int h = hex(s_[i_++]);
      if (h < 0) return std::nullopt;
      v = v * 16 + static_cast<std::uint32_t>(h);
    }
    return v;
  }
  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::optional<std::string> string() {
    ++i_;  // "
    std::string out;
    while (true) {
      if (i_ >= s_.size()) return std::nullopt;
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        break;
      }
      if (c < 0x20) return std::nullopt;  // control characters must be escaped
      if (c != '\\') {
        out += static_cast<char>(c);
        ++i_;
        continue;
      }
      ++i_;
      if (i_ >= s_.size()) return std::nullopt;
      const char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          auto cp = hex4();
          if (!cp) return std::nullopt;
          if (*cp >= 0xD800 && *cp <= 0xDBFF) {  // a surrogate pair's first half
            if (!literal("\\u")) return std::nullopt;
            auto low = hex4();
            if (!low || *low < 0xDC00 || *low > 0xDFFF) return std::nullopt;
            *cp = 0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00);
          } else if (*cp >= 0xDC00 && *cp <= 0xDFFF) {
            return std::nullopt;  // a lone second half
          }
          append_utf8(out, *cp);
          break;
        }
        default: return std::nullopt;
      }
    }
    if (!protocol::is_valid_utf8(out)) return std::nullopt;
    return out;
  }

  std::string_view s_;
  std::size_t i_ = 0;
  int max_depth_;
};

}  // namespace

const std::string* Json::string_member(std::string_view key) const {
  const JsonObject* o = object();
  if (!o) return nullptr;
  auto it = o->find(key);
  if (it == o->end()) return nullptr;
  return std::get_if<std::string>(&it->second.value);
}

std::optional<Json> parse_json(std::string_view text, int max_depth) {
  return Reader(text, max_depth).document();
}

void append_json_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;  // UTF-8 passes through
        }
    }
  }
  out += '"';
}

}  // namespace duplex::demo
