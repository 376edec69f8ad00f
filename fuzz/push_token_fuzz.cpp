// Fuzzes the push server's access token check with an HMAC secret, an RSA
// key and an EC P-256 key configured (the key pairs made once, at start).
//
// The first byte picks how the rest is used:
//   even: the rest is the token, as a client would send it;
//   odd:  the rest is "<header JSON>\n<payload JSON>", which this target
//         encodes and signs as the header's `alg` says (HS*, RS*, ES* with
//         the configured keys; anything else gets no signature), so that
//         fuzzed headers and claims get past the signature to the claim
//         checks.
// Bit 1 of the first byte moves `now` far ahead (exp/nbf on both sides).
//
// Checked: nothing crashes, a refusal says why, a token found valid has an
// object of claims, and (composed) its header names an accepted algorithm.
#include "push/token_verifier.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace duplex::push;

namespace {

constexpr std::int64_t now_base = 1'700'000'000;

void check(bool ok) {
  if (!ok) std::abort();  // OpenSSL failed on the target's own keys
}

EVP_PKEY* generate(int type) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(type, nullptr);
  check(ctx && EVP_PKEY_keygen_init(ctx) == 1);
  if (type == EVP_PKEY_RSA) {
    check(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) == 1);
  } else {
    check(EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) == 1);
  }
  EVP_PKEY* key = nullptr;
  check(EVP_PKEY_keygen(ctx, &key) == 1);
  EVP_PKEY_CTX_free(ctx);
  return key;
}

std::string public_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  check(bio && PEM_write_bio_PUBKEY(bio, key) == 1);
  std::string pem(BIO_ctrl_pending(bio), '\0');
  check(BIO_read(bio, pem.data(), static_cast<int>(pem.size())) == static_cast<int>(pem.size()));
  BIO_free(bio);
  return pem;
}

// Made once, kept for the whole run.
struct Fixture {
  EVP_PKEY* rsa = generate(EVP_PKEY_RSA);
  EVP_PKEY* ec = generate(EVP_PKEY_EC);
  TokenKeys keys;
  Fixture() {
    keys.hmac_secret = "fuzz-secret";
    keys.rsa_public_pem = public_pem(rsa);
    keys.ecdsa_public_pem = public_pem(ec);
  }
};
const Fixture& fixture() {
  static const Fixture f;
  return f;
}

std::string base64url(std::string_view bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : bytes) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

const EVP_MD* digest_of(std::string_view alg) {
  if (alg.size() != 5) return nullptr;
  const std::string_view bits = alg.substr(2);
  if (bits == "256") return EVP_sha256();
  if (bits == "384") return EVP_sha384();
  if (bits == "512") return EVP_sha512();
  return nullptr;
}

std::string sign_with(EVP_PKEY* key, const EVP_MD* md, std::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  check(ctx && EVP_DigestSignInit(ctx, nullptr, md, nullptr, key) == 1);
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  std::size_t size = 0;
  check(EVP_DigestSign(ctx, nullptr, &size, in, input.size()) == 1);
  std::string sig(size, '\0');
  check(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &size, in,
                       input.size()) == 1);
  sig.resize(size);
  EVP_MD_CTX_free(ctx);
  return sig;
}

// ECDSA's DER signature as JWS wants it: R||S, 32 bytes each for P-256.
std::string der_to_raw(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  check(sig != nullptr);
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  std::string raw(64, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  check(BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(s, out + 32, 32) == 32);
  ECDSA_SIG_free(sig);
  return raw;
}

// The header's `alg` as a JSON reader sees it, or empty.
std::string alg_of(std::string_view header_json) {
  const auto header = nlohmann::json::parse(header_json, nullptr, false);
  if (!header.is_object()) return {};
  const auto it = header.find("alg");
  return it != header.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string compose(std::string_view spec) {
  const auto newline = spec.find('\n');
  const std::string_view header = spec.substr(0, newline);
  const std::string_view payload =
      newline == std::string_view::npos ? std::string_view{} : spec.substr(newline + 1);
  const std::string input = base64url(header) + "." + base64url(payload);
  const std::string alg = alg_of(header);
  const EVP_MD* md = digest_of(alg);
  const Fixture& f = fixture();
  std::string sig;
  if (md && alg.starts_with("HS")) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    check(HMAC(md, f.keys.hmac_secret.data(), static_cast<int>(f.keys.hmac_secret.size()),
               reinterpret_cast<const unsigned char*>(input.data()), input.size(), out,
               &size) != nullptr);
    sig.assign(reinterpret_cast<const char*>(out), size);
  } else if (md && alg.starts_with("RS")) {
    sig = sign_with(f.rsa, md, input);
  } else if (md && alg.starts_with("ES")) {
    sig = der_to_raw(sign_with(f.ec, md, input));
  }
  return input + "." + base64url(sig);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Fixture& f = fixture();
  const std::uint8_t mode = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool composed = (mode & 1) != 0;
  const std::string token = composed ? compose(rest) : std::string(rest);
  const std::int64_t now = (mode & 2) ? now_base + 1'000'000'000 : now_base;

  const VerifiedToken v = verify_token(token, f.keys, now);
  if (v.status != TokenStatus::valid) {
    if (v.problem.empty()) std::abort();  // a refusal always says why
    return 0;
  }
  if (!v.claims.is_object()) std::abort();
  if (composed) {
    // Only the accepted algorithms pass ("none" and the rest never do).
    const std::string alg = alg_of(rest.substr(0, rest.find('\n')));
    static constexpr std::string_view accepted[] = {"HS256", "HS384", "HS512", "RS256", "RS384",
                                                    "RS512", "ES256", "ES384", "ES512"};
    bool known = false;
    for (std::string_view a : accepted) known = known || alg == a;
    if (!known) std::abort();
  }
  return 0;
}
