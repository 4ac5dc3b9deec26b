// JwtVerifier against tokens made by PyJWT (make_tokens.py): every algorithm, the time checks at
// their boundaries, issuer and audience, key selection, forged and confused tokens, malformed
// input, and the WWW-Authenticate value.

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gateway/core/auth/jwt.hpp"
#include "gateway/core/request.hpp"
#include "tests/gateway/core/auth/test_support.hpp"

namespace gatelab::core::auth {
namespace {

using namespace std::chrono_literals;
using test::at;
using test::fixtures;

JwtVerifier standardVerifier(JwtConfig config = test::standardConfig()) { return JwtVerifier(test::standardKeys(), std::move(config)); }

struct Case {
  const char* token;
  JwtReason expected;
};

/// Whether the fixture token `name` gets `expected` at `now` (with the details when not).
::testing::AssertionResult hasReason(const JwtVerifier& v, const std::string& name, JwtReason expected, TimePoint now = at()) {
  const JwtResult r = v.verify(fixtures().token(name), now);
  if (r.ok() != (r.token != nullptr)) return ::testing::AssertionFailure() << name << ": a token must come exactly with ok";
  if (!r.ok() && (r.description.empty() || r.detail.empty())) return ::testing::AssertionFailure() << name << ": no messages";
  if (r.reason != expected) {
    return ::testing::AssertionFailure() << name << ": got " << toString(r.reason) << " (" << r.detail << "), expected "
                                         << toString(expected);
  }
  return ::testing::AssertionSuccess();
}

// --- every algorithm -------------------------------------------------------------------------

TEST(JwtVerify, EveryAlgorithmAndKeySourceVerifies) {
  // Property: a PyJWT token verifies with its key, whatever the algorithm and wherever the key
  // came from (JWKS, inline secret in each encoding, inline PEM).
  const JwtVerifier v = standardVerifier();
  const std::vector<std::pair<const char*, Algorithm>> cases = {
      {"hs256", Algorithm::kHs256},     {"hs384", Algorithm::kHs384},     {"hs512", Algorithm::kHs512},
      {"hs256_jwks", Algorithm::kHs256}, {"rs256", Algorithm::kRs256},     {"rs384", Algorithm::kRs384},
      {"rs512", Algorithm::kRs512},     {"rs256_pem", Algorithm::kRs256}, {"es256", Algorithm::kEs256},
      {"es384", Algorithm::kEs384},     {"es256_pem", Algorithm::kEs256}, {"eddsa", Algorithm::kEdDsa},
      {"eddsa_pem", Algorithm::kEdDsa}};
  for (const auto& [name, alg] : cases) {
    const JwtResult r = v.verify(fixtures().token(name), at());
    ASSERT_TRUE(r.ok()) << name << ": " << toString(r.reason) << " " << r.detail;
    EXPECT_EQ(r.token->algorithm, alg) << name;
    EXPECT_FALSE(r.cacheHit);
    EXPECT_EQ(r.token->claim("sub"), "user-42") << name;
  }
}

TEST(JwtVerify, ClaimsAreExposedAsText) {
  const JwtResult r = standardVerifier().verify(fixtures().token("rs256"), at());
  ASSERT_TRUE(r.ok()) << r.detail;
  const VerifiedToken& t = *r.token;
  EXPECT_EQ(t.kid, "rs256");
  EXPECT_EQ(t.exp, fixtures().now + 3600);
  EXPECT_EQ(t.nbf, fixtures().now - 60);
  EXPECT_EQ(t.iat, fixtures().now - 60);
  EXPECT_EQ(t.claim("iss"), fixtures().issuer());
  EXPECT_EQ(t.claim("aud"), "api");
  EXPECT_EQ(t.claim("exp"), std::to_string(fixtures().now + 3600)) << "numbers as written";
  EXPECT_EQ(t.claim("scope"), "read write") << "array of strings joined by spaces";
  EXPECT_EQ(t.claim("admin"), "true");
  EXPECT_EQ(t.claim("ratio"), "2.5");
  EXPECT_EQ(t.claim("profile"), std::nullopt) << "objects are not exposed";
  EXPECT_EQ(t.claim("nothing"), std::nullopt) << "null is not exposed";
  EXPECT_EQ(t.claim("groups"), std::nullopt) << "mixed arrays are not exposed";

  // The views plug into RequestView::claims.
  const std::vector<Header> views = t.claimViews();
  RequestView request;
  request.claims = views;
  EXPECT_EQ(request.claim("sub"), "user-42");
  EXPECT_EQ(request.claim("scope"), "read write");
  EXPECT_EQ(request.claim("Sub"), std::nullopt) << "claim names are case-sensitive";
}

// --- time ------------------------------------------------------------------------------------

TEST(JwtVerify, ExpiredAndNotYetValid) {
  const JwtVerifier v = standardVerifier();
  EXPECT_TRUE(hasReason(v, "expired", JwtReason::kExpired));
  EXPECT_TRUE(hasReason(v, "nbf_future", JwtReason::kNotYetValid));
  EXPECT_TRUE(hasReason(v, "iat_future", JwtReason::kNotYetValid));
  EXPECT_TRUE(hasReason(v, "hs256", JwtReason::kExpired, at(3600))) << "the valid token at its exp";
  EXPECT_TRUE(hasReason(v, "hs256", JwtReason::kNotYetValid, at(-61))) << "the valid token before its nbf";
}

TEST(JwtVerify, ExpBoundaryWithoutLeeway) {
  // exp = NOW: valid strictly before exp (RFC 7519 §4.1.4: "on or after" exp is refused).
  const JwtVerifier v = standardVerifier();
  EXPECT_TRUE(hasReason(v, "exp_at_now", JwtReason::kOk, at(-1)));
  EXPECT_TRUE(hasReason(v, "exp_at_now", JwtReason::kExpired, at(0)));
  EXPECT_TRUE(hasReason(v, "exp_at_now", JwtReason::kExpired, at(1)));
  // Sub-second `now` is floored: NOW - 1ns is still second NOW - 1.
  EXPECT_TRUE(v.verify(fixtures().token("exp_at_now"), at(0) - 1ns).ok());
}

TEST(JwtVerify, ExpBoundaryWithLeeway) {
  JwtConfig c = test::standardConfig();
  c.leeway = 30s;
  const JwtVerifier v = standardVerifier(c);
  EXPECT_TRUE(hasReason(v, "exp_at_now", JwtReason::kOk, at(29)));        // just before exp + leeway
  EXPECT_TRUE(hasReason(v, "exp_at_now", JwtReason::kExpired, at(30)));   // at
  EXPECT_TRUE(hasReason(v, "exp_at_now", JwtReason::kExpired, at(31)));   // just after
  EXPECT_TRUE(hasReason(v, "expired", JwtReason::kOk)) << "exp NOW-10 is inside a 30s leeway";
}

TEST(JwtVerify, NbfBoundaryWithLeeway) {
  // nbf = NOW: valid from nbf - leeway on.
  JwtConfig c = test::standardConfig();
  EXPECT_TRUE(hasReason(standardVerifier(c), "nbf_at_now", JwtReason::kNotYetValid, at(-1)));
  EXPECT_TRUE(hasReason(standardVerifier(c), "nbf_at_now", JwtReason::kOk, at(0)));
  c.leeway = 30s;
  const JwtVerifier v = standardVerifier(c);
  EXPECT_TRUE(hasReason(v, "nbf_at_now", JwtReason::kNotYetValid, at(-31)));  // just before nbf - leeway
  EXPECT_TRUE(hasReason(v, "nbf_at_now", JwtReason::kOk, at(-30)));           // at
  EXPECT_TRUE(hasReason(v, "nbf_at_now", JwtReason::kOk, at(-29)));           // just after
  EXPECT_TRUE(hasReason(v, "iat_future", JwtReason::kNotYetValid)) << "iat NOW+100 is beyond a 30s leeway";
  c.leeway = 100s;
  EXPECT_TRUE(hasReason(standardVerifier(c), "iat_future", JwtReason::kOk)) << "iat NOW+100 is inside a 100s leeway";
}

TEST(JwtVerify, FractionalDatesRoundTowardsRejection) {
  // exp NOW+10.7 counts as NOW+10, nbf NOW+0.2 as NOW+1.
  const JwtVerifier v = standardVerifier();
  EXPECT_TRUE(hasReason(v, "exp_fraction", JwtReason::kNotYetValid, at(0)));
  EXPECT_TRUE(hasReason(v, "exp_fraction", JwtReason::kOk, at(1)));
  EXPECT_TRUE(hasReason(v, "exp_fraction", JwtReason::kOk, at(9)));
  EXPECT_TRUE(hasReason(v, "exp_fraction", JwtReason::kExpired, at(10)));
}

TEST(JwtVerify, MaximumLifetime) {
  // long_lived: iat NOW, exp NOW + 2 days. long_lived_no_iat: exp NOW + 600, no iat.
  JwtConfig c = test::standardConfig();
  c.maxExpiresIn = 24h;  // Kong's maximum_expiration: exp - now
  JwtVerifier v = standardVerifier(c);
  EXPECT_TRUE(hasReason(v, "long_lived", JwtReason::kLifetimeExceeded, at(0)));
  EXPECT_TRUE(hasReason(v, "long_lived", JwtReason::kLifetimeExceeded, at(86400 - 1)));
  EXPECT_TRUE(hasReason(v, "long_lived", JwtReason::kOk, at(86400))) << "exp - now = 24h exactly is allowed";
  EXPECT_TRUE(hasReason(v, "long_lived_no_iat", JwtReason::kOk));

  c.maxExpiresIn.reset();
  c.maxLifetime = 24h;  // exp - iat, whatever now is
  v = standardVerifier(c);
  EXPECT_TRUE(hasReason(v, "long_lived", JwtReason::kLifetimeExceeded, at(0)));
  EXPECT_TRUE(hasReason(v, "long_lived", JwtReason::kLifetimeExceeded, at(86400 + 10)));
  EXPECT_TRUE(hasReason(v, "long_lived_no_iat", JwtReason::kMissingClaim)) << "max_lifetime needs iat";
  EXPECT_TRUE(hasReason(v, "hs256", JwtReason::kOk)) << "1h01m lifetime";
}

// --- claims ----------------------------------------------------------------------------------

TEST(JwtVerify, IssuerAndAudience) {
  const JwtVerifier v = standardVerifier();
  // Table: token -> reason, with issuers {https://issuer.example} and audiences {api}.
  const std::vector<Case> cases = {
      {"wrong_issuer", JwtReason::kIssuerMismatch},       // iss not in the list
      {"no_issuer", JwtReason::kMissingClaim},            // iss absent while issuers are checked
      {"aud_array", JwtReason::kOk},                      // one of ["other", "api"] is accepted
      {"aud_array_wrong", JwtReason::kAudienceMismatch},  // none of ["other", "more"]
      {"wrong_audience", JwtReason::kAudienceMismatch},   // "billing"
      {"no_audience", JwtReason::kMissingClaim},          // aud absent while audiences are checked
      {"aud_number", JwtReason::kMalformed},              // aud 7 is neither string nor array
  };
  for (const Case& c : cases) EXPECT_TRUE(hasReason(v, c.token, c.expected));

  // Unchecked when not configured.
  JwtConfig open;
  const JwtVerifier lax = standardVerifier(open);
  for (const char* name : {"wrong_issuer", "no_issuer", "aud_array_wrong", "no_audience", "aud_number"}) {
    EXPECT_TRUE(hasReason(lax, name, JwtReason::kOk));
  }
  JwtConfig several = test::standardConfig();
  several.issuers.push_back("https://evil.example");
  several.audiences = {"nobody", "billing"};
  EXPECT_TRUE(hasReason(standardVerifier(several), "wrong_issuer", JwtReason::kAudienceMismatch)) << "issuer now accepted";
  EXPECT_TRUE(hasReason(standardVerifier(several), "wrong_audience", JwtReason::kOk));
}

TEST(JwtVerify, RequiredClaims) {
  JwtConfig c = test::standardConfig();
  EXPECT_TRUE(hasReason(standardVerifier(c), "no_exp", JwtReason::kMissingClaim)) << "exp is required by default";
  c.requiredClaims = {};
  EXPECT_TRUE(hasReason(standardVerifier(c), "no_exp", JwtReason::kOk)) << "without exp the token never expires";
  c.requiredClaims = {"exp", "sub", "jti"};
  const JwtResult r = standardVerifier(c).verify(fixtures().token("hs256"), at());
  EXPECT_EQ(r.reason, JwtReason::kMissingClaim);
  EXPECT_EQ(r.description, "The token lacks a required claim (jti)");
  c.requiredClaims = {"nothing"};
  EXPECT_TRUE(hasReason(standardVerifier(c), "hs256", JwtReason::kMissingClaim)) << "a null claim counts as missing";
  c.requiredClaims = {"profile"};
  EXPECT_TRUE(hasReason(standardVerifier(c), "hs256", JwtReason::kOk)) << "an object claim is present";
}

// --- keys and signatures ---------------------------------------------------------------------

TEST(JwtVerify, ForgedAndMismatchedTokensAreRefused) {
  const JwtVerifier v = standardVerifier();
  // Table: token -> reason; each line names the attack or mistake.
  const std::vector<Case> cases = {
      {"wrong_secret", JwtReason::kBadSignature},               // HS256 with another secret
      {"wrong_rsa_key", JwtReason::kBadSignature},              // RS256 by another RSA key, same kid
      {"tampered_payload_hs256", JwtReason::kBadSignature},     // sub changed, signature kept
      {"tampered_payload_rs256", JwtReason::kBadSignature},
      {"tampered_signature_hs256", JwtReason::kBadSignature},   // one bit flipped
      {"tampered_signature_rs256", JwtReason::kBadSignature},
      {"es256_der_signature", JwtReason::kBadSignature},        // DER instead of R||S
      {"es256_short_signature", JwtReason::kBadSignature},      // 63 bytes
      {"es256_with_es384_key", JwtReason::kAlgMismatch},        // ES384 header, kid of an ES256 key
      {"unknown_kid", JwtReason::kUnknownKid},                  // kid "nope"
      {"kid_alg_mismatch", JwtReason::kAlgMismatch},            // RS384 header, kid of the RS256 key
      {"hs256_no_kid", JwtReason::kUnknownKid},                 // no kid, two HS256 keys
      {"unsupported_alg_ps256", JwtReason::kUnsupportedAlg},    // PS256 is not verified
      {"es512", JwtReason::kUnsupportedAlg},                    // ES512 is not verified
      {"alg_none", JwtReason::kUnsupportedAlg},                 // unsecured JWS
      {"alg_none_upper", JwtReason::kUnsupportedAlg},           // "NONE", with a real kid
      {"alg_none_signed", JwtReason::kUnsupportedAlg},          // "none" with a signature
      {"confusion_hs256_with_rsa_pem_kid", JwtReason::kAlgMismatch},  // HMAC keyed by the RSA PEM
      {"confusion_hs256_with_rsa_pem", JwtReason::kUnknownKid},       // same, no kid: 2 HS256 keys
  };
  for (const Case& c : cases) EXPECT_TRUE(hasReason(v, c.token, c.expected));
  // The log detail says what went wrong with a DER signature.
  const JwtResult der = v.verify(fixtures().token("es256_der_signature"), at());
  EXPECT_NE(der.detail.find("R || S, not DER"), std::string::npos) << der.detail;
}

TEST(JwtVerify, AlgorithmConfusionWithOnlyAnRsaKey) {
  // The classic setup: the gateway holds one RSA public key, the attacker HMACs a token with that
  // key's PEM text. No key is bound to HS256, so no HMAC is ever computed with the PEM bytes.
  KeySet keys;
  ASSERT_EQ(keys.add(test::mustKey(makePemKey("", Algorithm::kRs256, fixtures().pem("rsa")))), std::nullopt);
  const JwtVerifier v(keys, test::standardConfig());
  EXPECT_TRUE(hasReason(v, "confusion_hs256_with_rsa_pem", JwtReason::kAlgMismatch));
  EXPECT_TRUE(hasReason(v, "alg_none", JwtReason::kUnsupportedAlg));
  // A no-kid token of the right algorithm picks the only key (the fixture's kid is "rsa-pem",
  // which this key lacks, so make the point with kid-less selection on HS256 instead).
  KeySet one;
  ASSERT_EQ(one.add(test::mustKey(makeHmacKey("", Algorithm::kHs256, fixtures().secret("hs256_base64url"), SecretEncoding::kBase64Url))),
            std::nullopt);
  EXPECT_TRUE(hasReason(JwtVerifier(one, test::standardConfig()), "hs256_no_kid", JwtReason::kOk));
  EXPECT_TRUE(hasReason(JwtVerifier(one, test::standardConfig()), "hs256", JwtReason::kUnknownKid)) << "kid hs256 names no key here";
}

// --- malformed -------------------------------------------------------------------------------

TEST(JwtVerify, MalformedTokensAreRefused) {
  // Property: every malformed_* fixture is refused as malformed; those with a payload problem
  // carry a valid HS256 signature, so the refusal comes from the JSON checks.
  const JwtVerifier v = standardVerifier();
  int count = 0;
  for (const auto& [name, token] : fixtures().doc.at("tokens").items()) {
    if (name.rfind("malformed_", 0) != 0) continue;
    ++count;
    const JwtResult r = v.verify(token.get<std::string>(), at());
    EXPECT_EQ(r.reason, JwtReason::kMalformed) << name << ": " << toString(r.reason) << " " << r.detail;
  }
  EXPECT_GE(count, 30);
}

TEST(JwtVerify, MalformedShapesAndSizes) {
  const JwtVerifier v = standardVerifier();
  const std::string good = fixtures().token("hs256");
  // Table: input -> malformed, with the property named.
  const std::vector<std::string> inputs = {
      "",                          // empty
      "abc",                       // one segment
      "a.b",                       // two
      ".a.b",                      // empty header
      "a..b",                      // empty payload
      good + ".",                  // four segments
      good.substr(0, good.size() - 1) + "*",  // character outside the alphabet
      good.substr(0, 4) + "=" + good.substr(5),  // '=' inside
      "\xff\xfe.\x01.x",          // binary
      "eyJhbGciOiJIUzI1NiJ9.e30.",  // last: well-shaped, {"alg":"HS256"} without kid (2 HS256 keys)
  };
  for (std::size_t i = 0; i + 1 < inputs.size(); ++i) {
    const JwtResult r = v.verify(inputs[i], at());
    EXPECT_EQ(r.reason, JwtReason::kMalformed) << "input " << i << ": " << toString(r.reason) << " " << r.detail;
  }
  EXPECT_EQ(v.verify(inputs.back(), at()).reason, JwtReason::kUnknownKid);

  // Size limit: the limit itself is allowed, one byte more is not, before any decoding.
  JwtConfig c = test::standardConfig();
  c.maxTokenBytes = good.size();
  EXPECT_TRUE(standardVerifier(c).verify(good, at()).ok());
  c.maxTokenBytes = good.size() - 1;
  const JwtResult big = standardVerifier(c).verify(good, at());
  EXPECT_EQ(big.reason, JwtReason::kMalformed);
  EXPECT_NE(big.detail.find("at most"), std::string::npos) << big.detail;
  const std::string huge(kDefaultMaxTokenBytes + 1, 'a');
  EXPECT_EQ(standardVerifier().verify(huge + "." + huge + ".x", at()).reason, JwtReason::kMalformed);
}

TEST(JwtVerify, DetailsNeverEchoRawTokenBytes) {
  const JwtVerifier v = standardVerifier();
  for (const auto& [name, token] : fixtures().doc.at("tokens").items()) {
    const JwtResult r = v.verify(token.get<std::string>(), at());
    for (char ch : r.detail) ASSERT_TRUE(ch >= 0x20 && ch < 0x7F) << name << ": " << r.detail;
    for (char ch : r.description) ASSERT_TRUE(ch >= 0x20 && ch < 0x7F && ch != '"' && ch != '\\') << name;
  }
}

TEST(JwtVerify, OneVerifierServesManyThreads) {
  // Property: verify() is const and thread-safe (each call works on its own OpenSSL contexts;
  // the HMAC template and the public keys are only read). Four threads verify every algorithm
  // and a forgery at once; every answer is the single-threaded one.
  const JwtVerifier v = standardVerifier();
  const std::vector<std::pair<std::string, JwtReason>> work = {
      {fixtures().token("hs256"), JwtReason::kOk},  {fixtures().token("hs512"), JwtReason::kOk},
      {fixtures().token("rs256"), JwtReason::kOk},  {fixtures().token("es256"), JwtReason::kOk},
      {fixtures().token("eddsa"), JwtReason::kOk},  {fixtures().token("tampered_payload_hs256"), JwtReason::kBadSignature},
      {fixtures().token("wrong_rsa_key"), JwtReason::kBadSignature}};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const auto& [token, expected] = work[static_cast<std::size_t>(i + t) % work.size()];
        if (v.verify(token, at()).reason != expected) ++wrong;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

// --- names, config and WWW-Authenticate --------------------------------------------------------

TEST(JwtReasonNames, AreStableSnakeCase) {
  const std::vector<std::string> expected = {"ok",           "missing_token",   "malformed",        "unsupported_alg",
                                             "alg_mismatch", "unknown_kid",     "bad_signature",    "expired",
                                             "not_yet_valid", "issuer_mismatch", "audience_mismatch", "lifetime_exceeded",
                                             "missing_claim"};
  ASSERT_EQ(expected.size(), kJwtReasonCount);
  for (std::size_t i = 0; i < kJwtReasonCount; ++i) EXPECT_EQ(toString(static_cast<JwtReason>(i)), expected[i]);
}

TEST(JwtConfigValidation, NamesTheFieldAndTheRange) {
  // Table: one bad field each -> message mentions it.
  struct Bad {
    JwtConfig config;
    const char* mentions;
  };
  std::vector<Bad> cases(6);
  cases[0].config.leeway = -1s;
  cases[0].mentions = "leeway";
  cases[1].config.leeway = 25h;
  cases[1].mentions = "leeway";
  cases[2].config.maxExpiresIn = 0s;
  cases[2].mentions = "max_expires_in";
  cases[3].config.maxLifetime = 366 * 24h;
  cases[3].mentions = "max_lifetime";
  cases[4].config.maxTokenBytes = 10;
  cases[4].mentions = "max_token_bytes";
  cases[5].config.issuers = {""};
  cases[5].mentions = "issuers";
  for (const Bad& b : cases) {
    const auto error = validateJwtConfig(b.config);
    ASSERT_TRUE(error.has_value()) << b.mentions;
    EXPECT_NE(error->find(b.mentions), std::string::npos) << *error;
  }
  EXPECT_EQ(validateJwtConfig(JwtConfig{}), std::nullopt);
  EXPECT_EQ(validateJwtConfig(test::standardConfig()), std::nullopt);
}

TEST(BearerChallenge, FollowsRfc6750) {
  EXPECT_EQ(bearerChallenge(jwtFailure(JwtReason::kMissingToken), "api"), "Bearer realm=\"api\"")
      << "no error code when no credentials were sent";
  EXPECT_EQ(bearerChallenge(jwtFailure(JwtReason::kMissingToken)), "Bearer");
  const JwtResult expired = standardVerifier().verify(fixtures().token("expired"), at());
  EXPECT_EQ(bearerChallenge(expired, "api"),
            "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"The access token expired\"");
  EXPECT_EQ(bearerChallenge(expired),
            "Bearer error=\"invalid_token\", error_description=\"The access token expired\"");
  EXPECT_EQ(bearerChallenge(jwtFailure(JwtReason::kBadSignature), "a\"b\\c\r\n"),
            "Bearer realm=\"a?b?c??\", error=\"invalid_token\", error_description=\"The token signature is invalid\"")
      << "quotes, backslashes and controls cannot break out of the quoted string";
  for (std::size_t i = 2; i < kJwtReasonCount; ++i) {
    const std::string h = bearerChallenge(jwtFailure(static_cast<JwtReason>(i)));
    EXPECT_NE(h.find("error=\"invalid_token\""), std::string::npos) << h;
  }
}

}  // namespace
}  // namespace gatelab::core::auth
