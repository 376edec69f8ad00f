#include "token.hpp"

#include <duplex/protocol/error.hpp>
#include <duplex/protocol/extensions.hpp>
#include <duplex/protocol/http.hpp>

namespace duplex::protocol {
namespace {

using detail::is_token_char;

// A small cursor over the header value.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool done() const noexcept { return i_ >= s_.size(); }
  char peek() const noexcept { return done() ? '\0' : s_[i_]; }
  void skip_ows() noexcept {
    while (!done() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  bool eat(char c) noexcept {
    if (peek() != c || done()) return false;
    ++i_;
    return true;
  }
  std::string_view token() noexcept {
    const std::size_t start = i_;
    while (!done() && is_token_char(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }
  // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE, after the DQUOTE.
  bool quoted(std::string& out) {
    while (!done()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (c == '\\') {
        if (done()) return false;
        out.push_back(s_[i_++]);
      } else {
        out.push_back(c);
      }
    }
    return false;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

const ExtensionParam* Extension::find(std::string_view param_name) const noexcept {
  for (const ExtensionParam& p : params) {
    if (iequals(p.name, param_name)) return &p;
  }
  return nullptr;
}

std::error_code parse_extension_list(std::string_view value, std::vector<Extension>& out) {
  Scanner in(value);
  bool any = false;
  while (true) {
    in.skip_ows();
    if (in.done()) break;
    if (in.eat(',')) continue;  // empty list elements are allowed (RFC 9110 5.6.1)
    Extension ext;
    ext.name = std::string(in.token());
    if (ext.name.empty()) return HandshakeError::invalid_extension_header;
    in.skip_ows();
    while (in.eat(';')) {
      in.skip_ows();
      ExtensionParam param;
      param.name = std::string(in.token());
      if (param.name.empty()) return HandshakeError::invalid_extension_header;
      in.skip_ows();
      if (in.eat('=')) {
        in.skip_ows();
        std::string v;
        if (in.eat('"')) {
          if (!in.quoted(v)) return HandshakeError::invalid_extension_header;
        } else {
          v = std::string(in.token());
        }
        // RFC 6455 9.1: a quoted value must still be a token once unquoted.
        if (!detail::is_token(v)) return HandshakeError::invalid_extension_header;
        param.value = std::move(v);
        in.skip_ows();
      }
      ext.params.push_back(std::move(param));
    }
    out.push_back(std::move(ext));
    any = true;
    if (in.done()) break;
    if (!in.eat(',')) return HandshakeError::invalid_extension_header;
  }
  if (!any) return HandshakeError::invalid_extension_header;
  return {};
}

std::string format_extension(const Extension& extension) {
  std::string s = extension.name;
  for (const ExtensionParam& p : extension.params) {
    s += "; ";
    s += p.name;
    if (p.value) {
      s += '=';
      s += *p.value;
    }
  }
  return s;
}

}  // namespace duplex::protocol
