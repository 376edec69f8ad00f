#include "deflate_codec.hpp"

#include <duplex/protocol/error.hpp>
#include <duplex/protocol/http.hpp>

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <vector>

namespace duplex::protocol {
namespace {

constexpr std::uint8_t sync_tail[4] = {0x00, 0x00, 0xff, 0xff};

// "8".."15" without leading zeros (RFC 7692 7.1.2).
std::optional<int> window_bits_value(const std::optional<std::string>& v) {
  if (!v || v->empty() || v->size() > 2 || (*v)[0] == '0') return std::nullopt;
  int n = 0;
  for (char c : *v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n < 8 || n > 15) return std::nullopt;
  return n;
}

// The parameters of one offer or response, checked for grammar: known names,
// each at most once, values where (and only where) they belong.
struct ParsedParams {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  std::optional<int> server_max_window_bits;
  bool client_max_window_bits = false;  // present (with or without a value)
  std::optional<int> client_max_window_bits_value;
};

bool parse_params(const Extension& e, ParsedParams& p, std::string& why) {
  std::vector<std::string_view> seen;
  for (const ExtensionParam& param : e.params) {
    for (std::string_view s : seen) {
      if (iequals(s, param.name)) {
        why = "parameter " + param.name + " appears twice";
        return false;
      }
    }
    seen.push_back(param.name);
    if (iequals(param.name, "server_no_context_takeover")) {
      if (param.value) return why = "server_no_context_takeover takes no value", false;
      p.server_no_context_takeover = true;
    } else if (iequals(param.name, "client_no_context_takeover")) {
      if (param.value) return why = "client_no_context_takeover takes no value", false;
      p.client_no_context_takeover = true;
    } else if (iequals(param.name, "server_max_window_bits")) {
      p.server_max_window_bits = window_bits_value(param.value);
      if (!p.server_max_window_bits)
        return why = "server_max_window_bits needs a value from 8 to 15", false;
    } else if (iequals(param.name, "client_max_window_bits")) {
      p.client_max_window_bits = true;
      if (param.value) {
        p.client_max_window_bits_value = window_bits_value(param.value);
        if (!p.client_max_window_bits_value) {
          return why = "client_max_window_bits must be from 8 to 15", false;
        }
      }
    } else {
      why = "unknown parameter " + param.name;
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<DeflateParams> negotiate_deflate(std::span<const Extension> offers,
                                               const DeflateOptions& ours, std::string& response,
                                               Extension* response_extension) {
  for (const Extension& offer : offers) {
    if (!iequals(offer.name, deflate_extension_name)) continue;
    ParsedParams p;
    std::string why;
    if (!parse_params(offer, p, why)) continue;  // a malformed offer is declined, the next tried
    DeflateParams agreed;
    Extension answer{std::string(deflate_extension_name), {}};

    // Our compressor's window: what the client allows, capped by ours. zlib
    // cannot compress with a 256-byte window, so an offer demanding one is
    // declined (RFC 7692 lets a server decline any offer).
    agreed.server_max_window_bits = ours.server_max_window_bits;
    if (p.server_max_window_bits) {
      if (*p.server_max_window_bits < 9) continue;
      agreed.server_max_window_bits =
          std::min(*p.server_max_window_bits, ours.server_max_window_bits);
    }
    if (p.server_max_window_bits || agreed.server_max_window_bits < 15) {
      answer.params.push_back(
          {"server_max_window_bits", std::to_string(agreed.server_max_window_bits)});
    }

    // The client's window: we may only limit it if the client offered to
    // be limited. Whatever it uses, our decompressor (window 15) reads it.
    agreed.client_max_window_bits = 15;
    if (p.client_max_window_bits) {
      const int limit =
          std::min(p.client_max_window_bits_value.value_or(15), ours.client_max_window_bits);
      if (limit < 15 || p.client_max_window_bits_value) {
        agreed.client_max_window_bits = limit;
        answer.params.push_back({"client_max_window_bits", std::to_string(limit)});
      }
    }

    // No context takeover when the client asks for it, or when we prefer it
    // (the server may add either parameter on its own).
    agreed.server_no_context_takeover =
        p.server_no_context_takeover || !ours.server_context_takeover;
    agreed.client_no_context_takeover =
        p.client_no_context_takeover || !ours.client_context_takeover;
    if (agreed.server_no_context_takeover)
      answer.params.push_back({"server_no_context_takeover", {}});
    if (agreed.client_no_context_takeover)
      answer.params.push_back({"client_no_context_takeover", {}});

    response = format_extension(answer);
    if (response_extension) *response_extension = std::move(answer);
    return agreed;
  }
  return std::nullopt;
}

namespace {

// One offer for `ours`. `flexible`: make no demand on the server's context,
// and name client_max_window_bits even without a value of ours.
Extension offer_for(const DeflateOptions& ours, bool flexible) {
  Extension offer{std::string(deflate_extension_name), {}};
  auto add = [&](const char* name, std::optional<int> value = std::nullopt) {
    offer.params.push_back(
        {name, value ? std::optional<std::string>(std::to_string(*value)) : std::nullopt});
  };
  if (!ours.server_context_takeover && !flexible) add("server_no_context_takeover");
  if (!ours.client_context_takeover) add("client_no_context_takeover");
  if (ours.server_max_window_bits < 15) add("server_max_window_bits", ours.server_max_window_bits);
  if (ours.client_max_window_bits < 15) {
    add("client_max_window_bits", ours.client_max_window_bits);
  } else if (flexible) {
    add("client_max_window_bits");
  }
  return offer;
}

}  // namespace

std::vector<Extension> deflate_offers(const DeflateOptions& ours) {
  // Without a value, client_max_window_bits lets the server pick any window
  // for our compressor, 8 included, which zlib cannot honour: the preferred
  // offer names it only with a value we chose.
  std::vector<Extension> offers{offer_for(ours, false)};
  // A second offer, the way browsers make theirs: servers that insist on
  // keeping their compression context, or on choosing our window, decline
  // the preferred offer (some answer 400 when nothing fits) and take this
  // one. It keeps our own word about our context and our windows.
  Extension fallback = offer_for(ours, true);
  if (format_extension(fallback) != format_extension(offers.front())) {
    offers.push_back(std::move(fallback));
  }
  return offers;
}

std::error_code accept_deflate_response(const Extension& response, const DeflateOptions& ours,
                                        DeflateParams& out, std::string* why) {
  std::string reason;
  ParsedParams p;
  auto refuse = [&](std::string text) {
    if (why) *why = std::move(text);
    return make_error_code(HandshakeError::invalid_extension_response);
  };
  if (!parse_params(response, p, reason)) return refuse(reason);
  out = DeflateParams{};
  out.server_no_context_takeover = p.server_no_context_takeover;
  // Our offer's client_no_context_takeover says we will not keep context
  // (RFC 7692 7.1.1.2): keep that word even if the server does not repeat it.
  out.client_no_context_takeover = p.client_no_context_takeover || !ours.client_context_takeover;

  if (p.server_max_window_bits) {
    if (ours.server_max_window_bits < 15 &&
        *p.server_max_window_bits > ours.server_max_window_bits) {
      return refuse("server_max_window_bits larger than offered");
    }
    out.server_max_window_bits = *p.server_max_window_bits;
  }
  if (p.client_max_window_bits) {
    // Every set of our offers names client_max_window_bits (see
    // deflate_offers): with our value, or without one when we set none.
    if (!p.client_max_window_bits_value) return refuse("client_max_window_bits needs a value");
    if (*p.client_max_window_bits_value > ours.client_max_window_bits) {
      return refuse("client_max_window_bits larger than offered");
    }
    if (*p.client_max_window_bits_value < 9) {
      return refuse("client_max_window_bits=8 cannot be honoured (zlib has no 256-byte window)");
    }
    out.client_max_window_bits = *p.client_max_window_bits_value;
  } else {
    out.client_max_window_bits = std::min(ours.client_max_window_bits, 15);
  }
  return {};
}

// ------------------------------------------------------------------ codec

struct DeflateCodec::Stream {
  z_stream z{};
  bool compress;

  Stream(bool compressor, int window_bits, int level, int mem_level) : compress(compressor) {
    const int rc =
        compress ? deflateInit2(&z, level, Z_DEFLATED, -window_bits, mem_level, Z_DEFAULT_STRATEGY)
                 : inflateInit2(&z, -window_bits);
    if (rc != Z_OK) throw std::bad_alloc();
  }
  ~Stream() {
    if (compress) {
      deflateEnd(&z);
    } else {
      inflateEnd(&z);
    }
  }
  void reset() {
    if (compress) {
      deflateReset(&z);
    } else {
      inflateReset(&z);
    }
  }
};

namespace {

// The streams a thread shares among its connections that keep no context.
struct SharedStreams {
  struct Key {
    int bits, level, mem_level;
    bool operator==(const Key&) const = default;
  };
  std::vector<std::pair<Key, std::unique_ptr<DeflateCodec::Stream>>> compressors;
  std::unique_ptr<DeflateCodec::Stream> decompressor;
};

SharedStreams& shared_streams() {
  thread_local SharedStreams streams;
  return streams;
}

DeflateCodec::Stream* shared_compressor(int bits, const DeflateOptions& o) {
  auto& list = shared_streams().compressors;
  const SharedStreams::Key key{bits, o.level, o.mem_level};
  for (auto& [k, s] : list) {
    if (k == key) return s.get();
  }
  list.emplace_back(key, std::make_unique<DeflateCodec::Stream>(true, bits, o.level, o.mem_level));
  return list.back().second.get();
}

// Compresses `in` with sync flush and strips the 00 00 ff ff tail.
void deflate_message(z_stream& z, std::span<const std::uint8_t> in, ByteBuffer& out) {
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  const std::size_t start = out.size();
  while (true) {
    const std::size_t room = deflateBound(&z, z.avail_in) + 16;
    std::uint8_t* dst = out.prepare(room);
    z.next_out = dst;
    z.avail_out = static_cast<uInt>(room);
    deflate(&z, Z_SYNC_FLUSH);
    out.commit(room - z.avail_out);
    if (z.avail_in == 0 && z.avail_out > 0) break;
  }
  const std::size_t size = out.size() - start;
  if (size >= 4 && std::memcmp(out.data() + out.size() - 4, sync_tail, 4) == 0)
    out.resize(out.size() - 4);
}

}  // namespace

DeflateCodec::DeflateCodec(Role role, const DeflateParams& params, const DeflateOptions& options)
    : options_(options) {
  const bool server = role == Role::server;
  compress_takeover_ =
      server ? !params.server_no_context_takeover : !params.client_no_context_takeover;
  decompress_takeover_ =
      server ? !params.client_no_context_takeover : !params.server_no_context_takeover;
  compress_bits_ = server ? params.server_max_window_bits : params.client_max_window_bits;
  if (compress_bits_ < 9) compress_bits_ = 9;  // never agreed to; see negotiate_deflate
}

DeflateCodec::~DeflateCodec() = default;

DeflateCodec::Stream* DeflateCodec::compressor() {
  if (!compress_takeover_) return shared_compressor(compress_bits_, options_);
  if (!own_compressor_) {
    own_compressor_ =
        std::make_unique<Stream>(true, compress_bits_, options_.level, options_.mem_level);
  }
  return own_compressor_.get();
}

DeflateCodec::Stream* DeflateCodec::decompressor(bool whole_message) {
  // A message that arrives whole is decoded in one go, so the thread's
  // shared decompressor can serve it. One that arrives in pieces needs a
  // decompressor of its own until it ends (other connections' messages
  // come in between), as does a peer that keeps its context.
  if (!decompress_takeover_ && whole_message) {
    auto& shared = shared_streams().decompressor;
    if (!shared) shared = std::make_unique<Stream>(false, 15, 0, 0);
    return shared.get();
  }
  if (!own_decompressor_) own_decompressor_ = std::make_unique<Stream>(false, 15, 0, 0);
  return own_decompressor_.get();
}

bool DeflateCodec::encode(std::span<const std::uint8_t> in, ByteBuffer& out) {
  if (in.size() < options_.threshold) return false;
  Stream* c = compressor();
  deflate_message(c->z, in, out);
  if (!compress_takeover_) {
    c->reset();
    // Without a context to keep in step, nothing forces compression when
    // it does not pay.
    if (out.size() >= in.size()) return false;
  }
  return true;
}

bool DeflateCodec::compress_once(std::span<const std::uint8_t> in, int window_bits,
                                 const DeflateOptions& options, ByteBuffer& out) {
  if (in.size() < options.threshold) return false;
  Stream* c = shared_compressor(window_bits < 9 ? 9 : window_bits, options);
  deflate_message(c->z, in, out);
  c->reset();
  return out.size() < in.size();
}

std::error_code DeflateCodec::decode(std::span<const std::uint8_t> in, bool last, ByteBuffer& out,
                                     std::size_t limit) {
  if (!current_decompressor_) current_decompressor_ = decompressor(last);
  z_stream& z = current_decompressor_->z;
  auto inflate_all = [&](std::span<const std::uint8_t> data) -> std::error_code {
    z.next_in = const_cast<Bytef*>(data.data());
    z.avail_in = static_cast<uInt>(data.size());
    while (true) {
      // Never let the output grow past the limit: a small compressed message
      // can claim gigabytes. One byte past the limit is enough to know.
      const std::size_t room = limit >= out.size() ? limit - out.size() + 1 : 1;
      const std::size_t want =
          std::min<std::size_t>(room, std::max<std::size_t>(data.size() * 4, 16 * 1024));
      std::uint8_t* dst = out.prepare(want);
      z.next_out = dst;
      z.avail_out = static_cast<uInt>(want);
      const int rc = inflate(&z, Z_SYNC_FLUSH);
      out.commit(want - z.avail_out);
      if (out.size() > limit) return ProtocolError::message_too_big;
      if (rc == Z_STREAM_END) {
        // The peer ended the stream with a final block: what follows in this
        // message (at most our sync tail) carries nothing.
        inflateReset(&z);
        z.avail_in = 0;
        return {};
      }
      if (rc == Z_BUF_ERROR) {
        if (z.avail_out > 0) return {};  // needs more input
        continue;                        // output was full
      }
      if (rc != Z_OK) return ProtocolError::invalid_compressed_data;
      if (z.avail_in == 0 && z.avail_out > 0) return {};
    }
  };
  std::error_code ec = inflate_all(in);
  if (!ec && last) ec = inflate_all(sync_tail);
  if (ec || last) {
    Stream* d = current_decompressor_;
    current_decompressor_ = nullptr;
    if (ec || !decompress_takeover_) d->reset();
    // A decompressor borrowed for one fragmented message goes back: 32 KiB
    // plus state is too much to keep on an idle connection.
    if (!decompress_takeover_ && d == own_decompressor_.get()) own_decompressor_.reset();
  }
  return ec;
}

}  // namespace duplex::protocol
