// Access tokens (JWT, RFC 7519): the signature checked by libjwt with the
// key of the token's algorithm family, then the time claims.
//
// The algorithm picks the key (HS* the secret, RS* the RSA key, ES* the
// ECDSA key), never the other way round: a token signed with HS256 using
// the RSA public key as its secret is refused, as is "none".
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace duplex::push {

struct TokenKeys {
  std::string hmac_secret;
  std::string rsa_public_pem;
  std::string ecdsa_public_pem;
  bool any() const noexcept {
    return !hmac_secret.empty() || !rsa_public_pem.empty() || !ecdsa_public_pem.empty();
  }
};

enum class TokenStatus {
  valid,
  invalid,  // malformed, unknown algorithm, no key for it, bad signature, bad claims
  expired,  // signed correctly, but `exp` has passed (or `nbf` has not come)
};

struct VerifiedToken {
  TokenStatus status = TokenStatus::invalid;
  nlohmann::json claims;  // the payload when the signature is good
  std::string problem;    // why it is not valid, for the log
};

// Thread-safe. `now` in seconds since the Unix epoch.
VerifiedToken verify_token(std::string_view token, const TokenKeys& keys, std::int64_t now);

// Seconds since the Unix epoch, now.
std::int64_t unix_now();

}  // namespace duplex::push
