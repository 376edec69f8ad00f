// Access tokens: JWTs made here with OpenSSL (HMAC secrets, an RSA and an
// EC P-256 key generated for the run), then checked by verify_token. Good
// signatures of each family pass with their claims; everything an attacker
// can vary (the signature, the payload, the algorithm, the key it picks, the
// time claims, the token's shape) is refused.
#include "push/token_verifier.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace duplex::test {
namespace {

using push::TokenKeys;
using push::TokenStatus;
using push::verify_token;

constexpr std::int64_t now = 1'700'000'000;  // a fixed "now": no clock in these tests

struct PkeyFree {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const noexcept { BIO_free(p); }
};
struct SigFree {
  void operator()(ECDSA_SIG* p) const noexcept { ECDSA_SIG_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("OpenSSL failed: ") + what);
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

Pkey generate(int type, int rsa_bits, int curve) {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_id(type, nullptr));
  check(ctx && EVP_PKEY_keygen_init(ctx.get()) == 1, "keygen_init");
  if (type == EVP_PKEY_RSA) {
    check(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), rsa_bits) == 1, "rsa bits");
  } else {
    check(EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx.get(), curve) == 1, "curve");
  }
  EVP_PKEY* key = nullptr;
  check(EVP_PKEY_keygen(ctx.get(), &key) == 1, "keygen");
  return Pkey(key);
}

std::string public_pem(EVP_PKEY* key) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  check(bio && PEM_write_bio_PUBKEY(bio.get(), key) == 1, "PEM_write_bio_PUBKEY");
  std::string pem(BIO_ctrl_pending(bio.get()), '\0');
  check(
      BIO_read(bio.get(), pem.data(), static_cast<int>(pem.size())) == static_cast<int>(pem.size()),
      "BIO_read");
  return pem;
}

// A signature with an RSA or EC key over SHA-256 (DER for EC, as OpenSSL
// makes it).
std::string sign(EVP_PKEY* key, std::string_view input) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  check(ctx && EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1,
        "DigestSignInit");
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  std::size_t size = 0;
  check(EVP_DigestSign(ctx.get(), nullptr, &size, in, input.size()) == 1, "DigestSign size");
  std::string sig(size, '\0');
  check(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &size, in,
                       input.size()) == 1,
        "DigestSign");
  sig.resize(size);
  return sig;
}

// JWS ES256 signatures are R||S, 32 bytes each (RFC 7518 3.4), not DER.
std::string der_to_raw(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, SigFree> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  check(sig != nullptr, "d2i_ECDSA_SIG");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(64, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  check(BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(s, out + 32, 32) == 32, "bn2binpad");
  return raw;
}

std::string hmac(const EVP_MD* md, std::string_view secret, std::string_view input) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  check(HMAC(md, secret.data(), static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(input.data()), input.size(), out,
             &size) != nullptr,
        "HMAC");
  return std::string(reinterpret_cast<const char*>(out), size);
}

// The RSA and EC keys, made once (RSA generation is slow).
struct KeyPairs {
  Pkey rsa = generate(EVP_PKEY_RSA, 2048, 0);
  Pkey ec = generate(EVP_PKEY_EC, 0, NID_X9_62_prime256v1);
  std::string rsa_pem = public_pem(rsa.get());
  std::string ec_pem = public_pem(ec.get());
};
const KeyPairs& key_pairs() {
  static const KeyPairs pairs;
  return pairs;
}

const std::string secret = "a-secret-of-reasonable-length-for-hs256";

std::string signing_input(std::string_view header, std::string_view payload) {
  return base64url(header) + "." + base64url(payload);
}

std::string hs(std::string_view alg, std::string_view payload, std::string_view key = secret) {
  const std::string header = std::string(R"({"alg":")") + std::string(alg) + R"(","typ":"JWT"})";
  const EVP_MD* md = alg == "HS384" ? EVP_sha384() : alg == "HS512" ? EVP_sha512() : EVP_sha256();
  const std::string input = signing_input(header, payload);
  return input + "." + base64url(hmac(md, key, input));
}

std::string rs256(std::string_view payload) {
  const std::string input = signing_input(R"({"alg":"RS256","typ":"JWT"})", payload);
  return input + "." + base64url(sign(key_pairs().rsa.get(), input));
}

std::string es256(std::string_view payload) {
  const std::string input = signing_input(R"({"alg":"ES256","typ":"JWT"})", payload);
  return input + "." + base64url(der_to_raw(sign(key_pairs().ec.get(), input)));
}

TokenKeys all_keys() {
  TokenKeys keys;
  keys.hmac_secret = secret;
  keys.rsa_public_pem = key_pairs().rsa_pem;
  keys.ecdsa_public_pem = key_pairs().ec_pem;
  return keys;
}

const std::string claims = R"({"sub":"42","exp":1700003600,"info":{"name":"Ann"}})";

void expect_valid(const std::string& token, const TokenKeys& keys) {
  const auto v = verify_token(token, keys, now);
  EXPECT_EQ(v.status, TokenStatus::valid) << v.problem;
  ASSERT_TRUE(v.claims.is_object());
  EXPECT_EQ(v.claims.value("sub", ""), "42");
  EXPECT_EQ(v.claims["info"]["name"], "Ann");
}

void expect_invalid(const std::string& token, const TokenKeys& keys) {
  const auto v = verify_token(token, keys, now);
  EXPECT_EQ(v.status, TokenStatus::invalid) << token.substr(0, 200);
  EXPECT_FALSE(v.problem.empty());
}

// --- good signatures --------------------------------------------------------

TEST(PushTokenVerifier, HmacTokensOfEachSizeAreValid) {
  for (const char* alg : {"HS256", "HS384", "HS512"}) {
    SCOPED_TRACE(alg);
    expect_valid(hs(alg, claims), all_keys());
  }
}

TEST(PushTokenVerifier, Rs256IsValid) {
  expect_valid(rs256(claims), all_keys());
}

TEST(PushTokenVerifier, Es256IsValid) {
  expect_valid(es256(claims), all_keys());
}

TEST(PushTokenVerifier, OnlyTheKeyOfTheTokensFamilyIsNeeded) {
  TokenKeys only_rsa;
  only_rsa.rsa_public_pem = key_pairs().rsa_pem;
  expect_valid(rs256(claims), only_rsa);
  TokenKeys only_ec;
  only_ec.ecdsa_public_pem = key_pairs().ec_pem;
  expect_valid(es256(claims), only_ec);
}

TEST(PushTokenVerifier, ClaimsWithoutTimesAreValid) {
  const auto v = verify_token(hs("HS256", R"({"sub":"7"})"), all_keys(), now);
  EXPECT_EQ(v.status, TokenStatus::valid) << v.problem;
  EXPECT_EQ(v.claims, nlohmann::json::parse(R"({"sub":"7"})"));
}

// --- bad signatures ---------------------------------------------------------

TEST(PushTokenVerifier, AnotherSecretIsInvalid) {
  expect_invalid(hs("HS256", claims, "not-the-secret"), all_keys());
}

TEST(PushTokenVerifier, AnotherKeyPairIsInvalid) {
  TokenKeys other;
  other.rsa_public_pem = public_pem(generate(EVP_PKEY_RSA, 2048, 0).get());
  other.ecdsa_public_pem = public_pem(generate(EVP_PKEY_EC, 0, NID_X9_62_prime256v1).get());
  expect_invalid(rs256(claims), other);
  expect_invalid(es256(claims), other);
}

// The signature of one token on the payload of another.
std::string swap_payload(const std::string& token, std::string_view payload) {
  const auto first = token.find('.');
  const auto last = token.rfind('.');
  return token.substr(0, first + 1) + base64url(payload) + token.substr(last);
}

TEST(PushTokenVerifier, ATamperedPayloadIsInvalid) {
  const std::string admin = R"({"sub":"1","exp":1700003600,"info":{"name":"Ann"}})";
  expect_invalid(swap_payload(hs("HS256", claims), admin), all_keys());
  expect_invalid(swap_payload(rs256(claims), admin), all_keys());
  expect_invalid(swap_payload(es256(claims), admin), all_keys());
}

TEST(PushTokenVerifier, ATamperedSignatureIsInvalid) {
  for (std::string token : {hs("HS256", claims), rs256(claims), es256(claims)}) {
    // Flip a bit in the signature's first byte (its first character).
    const auto sig = token.rfind('.') + 1;
    token[sig] = token[sig] == 'A' ? 'B' : 'A';
    expect_invalid(token, all_keys());
    // No signature at all.
    expect_invalid(token.substr(0, sig), all_keys());
  }
}

TEST(PushTokenVerifier, ADerEncodedEs256SignatureIsInvalid) {
  // What OpenSSL produces by default; JWS wants R||S.
  const std::string input = signing_input(R"({"alg":"ES256"})", claims);
  expect_invalid(input + "." + base64url(sign(key_pairs().ec.get(), input)), all_keys());
}

// --- the algorithm ----------------------------------------------------------

TEST(PushTokenVerifier, AlgNoneIsInvalid) {
  for (const char* alg : {"none", "None", "NONE", ""}) {
    SCOPED_TRACE(alg);
    const std::string header = std::string(R"({"alg":")") + alg + R"(","typ":"JWT"})";
    const std::string input = signing_input(header, claims);
    expect_invalid(input + ".", all_keys());
    expect_invalid(input, all_keys());
    // Even with a signature made by the secret.
    expect_invalid(input + "." + base64url(hmac(EVP_sha256(), secret, input)), all_keys());
  }
}

TEST(PushTokenVerifier, UnknownAlgorithmsAreInvalid) {
  for (const char* alg : {"PS256", "EdDSA", "hs256", "HS1", "RS", "ES256K"}) {
    SCOPED_TRACE(alg);
    const std::string input = signing_input(std::string(R"({"alg":")") + alg + R"("})", claims);
    expect_invalid(input + "." + base64url(hmac(EVP_sha256(), secret, input)), all_keys());
  }
}

TEST(PushTokenVerifier, HmacWithTheRsaPublicKeyAsSecretIsInvalid) {
  // The classic confusion: the public PEM, which anyone may have, used as
  // an HMAC secret. Only the RSA key is configured.
  TokenKeys only_rsa;
  only_rsa.rsa_public_pem = key_pairs().rsa_pem;
  const std::string forged = hs("HS256", claims, key_pairs().rsa_pem);
  expect_invalid(forged, only_rsa);
  // With a (different) secret configured as well.
  expect_invalid(forged, all_keys());
  // Same with the EC key.
  TokenKeys only_ec;
  only_ec.ecdsa_public_pem = key_pairs().ec_pem;
  expect_invalid(hs("HS256", claims, key_pairs().ec_pem), only_ec);
}

TEST(PushTokenVerifier, TheHeaderCannotSteerAnHmacSignatureToTheRsaKey) {
  // An HMAC (with the PEM as secret) under a header claiming RS256.
  const std::string input = signing_input(R"({"alg":"RS256"})", claims);
  const std::string token = input + "." + base64url(hmac(EVP_sha256(), key_pairs().rsa_pem, input));
  expect_invalid(token, all_keys());
}

TEST(PushTokenVerifier, NoKeyForTheAlgorithmIsInvalid) {
  TokenKeys only_hmac;
  only_hmac.hmac_secret = secret;
  expect_invalid(rs256(claims), only_hmac);
  expect_invalid(es256(claims), only_hmac);
  TokenKeys only_rsa;
  only_rsa.rsa_public_pem = key_pairs().rsa_pem;
  expect_invalid(hs("HS256", claims), only_rsa);
  expect_invalid(es256(claims), only_rsa);
  expect_invalid(hs("HS256", claims), TokenKeys{});
}

TEST(PushTokenVerifier, KeysOfTheWrongTypeAreInvalid) {
  // The EC key configured as the RSA key and the other way round.
  TokenKeys swapped;
  swapped.rsa_public_pem = key_pairs().ec_pem;
  swapped.ecdsa_public_pem = key_pairs().rsa_pem;
  expect_invalid(rs256(claims), swapped);
  expect_invalid(es256(claims), swapped);
}

// --- time claims ------------------------------------------------------------

TEST(PushTokenVerifier, ExpInThePastIsExpired) {
  for (std::int64_t exp : {now - 3600, now - 1, now}) {  // `exp` itself is too late
    const auto v =
        verify_token(hs("HS256", R"({"exp":)" + std::to_string(exp) + "}"), all_keys(), now);
    EXPECT_EQ(v.status, TokenStatus::expired) << exp;
  }
  const auto v =
      verify_token(hs("HS256", R"({"exp":)" + std::to_string(now + 1) + "}"), all_keys(), now);
  EXPECT_EQ(v.status, TokenStatus::valid) << v.problem;
}

TEST(PushTokenVerifier, NbfInTheFutureIsExpired) {
  const auto early =
      verify_token(hs("HS256", R"({"nbf":)" + std::to_string(now + 1) + "}"), all_keys(), now);
  EXPECT_EQ(early.status, TokenStatus::expired);
  const auto on_time =
      verify_token(hs("HS256", R"({"nbf":)" + std::to_string(now) + "}"), all_keys(), now);
  EXPECT_EQ(on_time.status, TokenStatus::valid) << on_time.problem;
}

TEST(PushTokenVerifier, FractionalTimesCount) {
  const auto v = verify_token(hs("HS256", R"({"exp":1700000000.5})"), all_keys(), now);
  EXPECT_EQ(v.status, TokenStatus::valid) << v.problem;
  const auto late = verify_token(hs("HS256", R"({"exp":1699999999.5})"), all_keys(), now);
  EXPECT_EQ(late.status, TokenStatus::expired);
}

TEST(PushTokenVerifier, TimeClaimsThatAreNotNumbersAreInvalid) {
  for (const char* payload : {R"({"exp":"1800000000"})", R"({"exp":null})", R"({"exp":true})",
                              R"({"exp":[1800000000]})", R"({"nbf":"0"})", R"({"nbf":{}})"}) {
    SCOPED_TRACE(payload);
    expect_invalid(hs("HS256", payload), all_keys());
  }
}

TEST(PushTokenVerifier, ClaimsThatAreNotAnObjectAreInvalid) {
  for (const char* payload : {"[1,2]", "\"sub\"", "42", "null", "not json"}) {
    SCOPED_TRACE(payload);
    expect_invalid(hs("HS256", payload), all_keys());
  }
}

// --- malformed tokens -------------------------------------------------------

TEST(PushTokenVerifier, MalformedStringsAreInvalid) {
  const std::string header = base64url(R"({"alg":"HS256"})");
  for (const std::string& token :
       {std::string(), std::string("a"), std::string("a.b"), std::string("a.b.c"),
        std::string("!!!.x.y"), std::string("..."), std::string("."), std::string(".."),
        header + ".", header + "..", header + ".!!!.abc", std::string("a.b.c.d"),
        std::string("eyJ.eyJ.eyJ"), base64url("[]") + ".e30.", base64url("{}") + ".e30.",
        base64url(R"({"alg":256})") + ".e30.", std::string("\0.\0.\0", 5),
        base64url(R"({"alg":"HS256"})") + "=.e30.x", std::string(1, '\xff') + ".e30.x"}) {
    expect_invalid(token, all_keys());
  }
}

TEST(PushTokenVerifier, AHugeTokenIsInvalid) {
  expect_invalid(std::string(100 * 1024, 'a'), all_keys());
  expect_invalid(std::string(100 * 1024, '.'), all_keys());
  const std::string huge = base64url(R"({"alg":"HS256"})") + "." + std::string(100 * 1024, 'e') +
                           "." + std::string(100, 'x');
  expect_invalid(huge, all_keys());
}

}  // namespace
}  // namespace duplex::test
