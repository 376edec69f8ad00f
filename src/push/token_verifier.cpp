#include "token_verifier.hpp"

#include <jwt.h>
#include <openssl/evp.h>

#include <chrono>
#include <cstdlib>
#include <memory>

namespace duplex::push {
namespace {

// base64url (no padding) to bytes; empty optional-like result on bad input.
bool base64url_decode(std::string_view in, std::string& out) {
  std::string b64(in);
  for (char& c : b64) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
  }
  while (b64.size() % 4 != 0) b64.push_back('=');
  out.assign(b64.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()),
                                static_cast<int>(b64.size()));
  if (n < 0) return false;
  std::size_t size = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts the padding's zero bytes: take them off.
  for (std::size_t i = b64.size(); i > 0 && b64[i - 1] == '=' && size > 0; --i) --size;
  out.resize(size);
  return true;
}

VerifiedToken refuse(TokenStatus status, std::string problem) {
  VerifiedToken t;
  t.status = status;
  t.problem = std::move(problem);
  return t;
}

struct JwtFree {
  void operator()(jwt_t* j) const noexcept { jwt_free(j); }
};

}  // namespace

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

VerifiedToken verify_token(std::string_view token, const TokenKeys& keys, std::int64_t now) {
  const auto dot = token.find('.');
  if (dot == std::string_view::npos || token.size() > 64 * 1024) {
    return refuse(TokenStatus::invalid, "not a JWT");
  }
  std::string header_text;
  if (!base64url_decode(token.substr(0, dot), header_text)) {
    return refuse(TokenStatus::invalid, "header is not base64url");
  }
  const auto header = nlohmann::json::parse(header_text, nullptr, false);
  if (!header.is_object() || !header.contains("alg") || !header["alg"].is_string()) {
    return refuse(TokenStatus::invalid, "header has no algorithm");
  }
  const std::string alg = header["alg"].get<std::string>();
  const std::string* key = nullptr;
  if (alg == "HS256" || alg == "HS384" || alg == "HS512") key = &keys.hmac_secret;
  if (alg == "RS256" || alg == "RS384" || alg == "RS512") key = &keys.rsa_public_pem;
  if (alg == "ES256" || alg == "ES384" || alg == "ES512") key = &keys.ecdsa_public_pem;
  if (!key) return refuse(TokenStatus::invalid, "algorithm not accepted: " + alg);
  if (key->empty()) return refuse(TokenStatus::invalid, "no key configured for " + alg);

  jwt_t* raw = nullptr;
  const std::string text(token);
  if (jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(key->data()),
                 static_cast<int>(key->size())) != 0 ||
      !raw) {
    return refuse(TokenStatus::invalid, "signature check failed");
  }
  std::unique_ptr<jwt_t, JwtFree> jwt(raw);
  if (jwt_get_alg(jwt.get()) != jwt_str_alg(alg.c_str())) {
    return refuse(TokenStatus::invalid, "algorithm mismatch");
  }
  char* grants = jwt_get_grants_json(jwt.get(), nullptr);
  if (!grants) return refuse(TokenStatus::invalid, "no claims");
  VerifiedToken result;
  result.claims = nlohmann::json::parse(grants, nullptr, false);
  std::free(grants);
  if (!result.claims.is_object()) return refuse(TokenStatus::invalid, "claims are not an object");
  const auto& c = result.claims;
  for (const char* name : {"exp", "nbf"}) {
    if (c.contains(name) && !c[name].is_number()) {
      return refuse(TokenStatus::invalid, std::string(name) + " is not a number");
    }
  }
  if (c.contains("exp") && c["exp"].get<double>() <= static_cast<double>(now)) {
    return refuse(TokenStatus::expired, "expired");
  }
  if (c.contains("nbf") && c["nbf"].get<double>() > static_cast<double>(now)) {
    return refuse(TokenStatus::expired, "not valid yet");
  }
  result.status = TokenStatus::valid;
  return result;
}

}  // namespace duplex::push
