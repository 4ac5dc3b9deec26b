#pragma once
// Shared fixtures for the JWT tests: tokens and keys made by make_tokens.py (PyJWT and
// python3-cryptography, not gatelab), read from data/fixtures.json and data/jwks.json.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "gateway/core/auth/jwk.hpp"
#include "gateway/core/auth/jwt.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core::auth::test {

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string dataPath(const std::string& name) {
  return std::string(GATELAB_SOURCE_DIR) + "/tests/gateway/core/auth/data/" + name;
}

struct Fixtures {
  nlohmann::json doc;
  std::string jwks;
  std::int64_t now = 0;

  [[nodiscard]] std::string token(const std::string& name) const {
    const auto& tokens = doc.at("tokens");
    EXPECT_TRUE(tokens.contains(name)) << "no fixture token " << name << " (rerun make_tokens.py?)";
    return tokens.contains(name) ? tokens.at(name).get<std::string>() : std::string();
  }
  [[nodiscard]] std::string pem(const std::string& name) const { return doc.at("pem").at(name).get<std::string>(); }
  [[nodiscard]] std::string secret(const std::string& name) const { return doc.at("secrets").at(name).get<std::string>(); }
  [[nodiscard]] std::string issuer() const { return doc.at("issuer").get<std::string>(); }
  [[nodiscard]] std::string audience() const { return doc.at("audience").get<std::string>(); }
};

inline const Fixtures& fixtures() {
  static const Fixtures f = [] {
    Fixtures x;
    x.doc = nlohmann::json::parse(readFile(dataPath("fixtures.json")));
    x.jwks = readFile(dataPath("jwks.json"));
    x.now = x.doc.at("now").get<std::int64_t>();
    return x;
  }();
  return f;
}

/// The fixtures' NOW plus `offset` seconds, on the core's timeline.
inline TimePoint at(std::int64_t offset = 0) {
  return TimePoint{std::chrono::duration_cast<Duration>(std::chrono::seconds{fixtures().now + offset})};
}

inline VerificationKey mustKey(KeyResult r) {
  EXPECT_TRUE(r.ok()) << r.error;
  if (!r.ok()) throw std::runtime_error(r.error);
  return std::move(*r.key);
}

/// Every fixture key: the JWKS (rs256, rs384, rs512, es256, es384, ed, hs-jwks) and the inline
/// ones (hs256 base64url, hs384 base64, hs512 raw, rsa-pem, es256-pem, ed-pem).
inline KeySet standardKeys() {
  const Fixtures& f = fixtures();
  KeySet keys;
  const JwksResult jwks = parseJwks(f.jwks);
  EXPECT_TRUE(jwks.ok()) << (jwks.errors.empty() ? "" : jwks.errors.front());
  for (const VerificationKey& k : jwks.keys) EXPECT_EQ(keys.add(k), std::nullopt);
  EXPECT_EQ(keys.add(mustKey(makeHmacKey("hs256", Algorithm::kHs256, f.secret("hs256_base64url"), SecretEncoding::kBase64Url))), std::nullopt);
  EXPECT_EQ(keys.add(mustKey(makeHmacKey("hs384", Algorithm::kHs384, f.secret("hs384_base64"), SecretEncoding::kBase64))), std::nullopt);
  EXPECT_EQ(keys.add(mustKey(makeHmacKey("hs512", Algorithm::kHs512, f.secret("hs512_raw"), SecretEncoding::kRaw))), std::nullopt);
  EXPECT_EQ(keys.add(mustKey(makePemKey("rsa-pem", Algorithm::kRs256, f.pem("rsa")))), std::nullopt);
  EXPECT_EQ(keys.add(mustKey(makePemKey("es256-pem", Algorithm::kEs256, f.pem("p256")))), std::nullopt);
  EXPECT_EQ(keys.add(mustKey(makePemKey("ed-pem", Algorithm::kEdDsa, f.pem("ed25519")))), std::nullopt);
  return keys;
}

/// Issuer and audience of the fixtures checked, exp required, no leeway.
inline JwtConfig standardConfig() {
  JwtConfig c;
  c.issuers = {fixtures().issuer()};
  c.audiences = {fixtures().audience()};
  return c;
}

}  // namespace gatelab::core::auth::test
