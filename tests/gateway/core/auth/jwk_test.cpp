// Keys: inline secrets and PEM keys checked against their algorithm, JWKS parsing (keys made by
// python3-cryptography / PyJWT), the messages for every kind of bad key, and KeySet's kid rules.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gateway/core/auth/base64.hpp"
#include "gateway/core/auth/jwk.hpp"
#include "gateway/core/auth/jwt.hpp"
#include "tests/gateway/core/auth/test_support.hpp"

namespace gatelab::core::auth {
namespace {

using test::fixtures;
using Json = nlohmann::json;

::testing::AssertionResult failsWith(const KeyResult& r, const std::string& part) {
  if (r.ok()) return ::testing::AssertionFailure() << "the key was accepted";
  if (r.error.find(part) == std::string::npos) return ::testing::AssertionFailure() << "message: " << r.error;
  return ::testing::AssertionSuccess();
}

TEST(AlgorithmNames, RoundTripAndRejectOthers) {
  for (Algorithm a : kAllAlgorithms) EXPECT_EQ(algorithmFromName(toString(a)), a);
  for (const char* other : {"none", "None", "hs256", "PS256", "ES512", "RS1", "", "HS256 ", "EDDSA"}) {
    EXPECT_EQ(algorithmFromName(other), std::nullopt) << other;
  }
}

TEST(HmacKeys, EncodingsAndMinimumLengths) {
  const std::string secret32(32, 'k');
  EXPECT_TRUE(makeHmacKey("a", Algorithm::kHs256, secret32, SecretEncoding::kRaw).ok());
  EXPECT_TRUE(failsWith(makeHmacKey("a", Algorithm::kHs256, secret32.substr(1), SecretEncoding::kRaw), "at least 32 bytes"));
  EXPECT_TRUE(failsWith(makeHmacKey("a", Algorithm::kHs384, secret32, SecretEncoding::kRaw), "at least 48 bytes"));
  EXPECT_TRUE(failsWith(makeHmacKey("a", Algorithm::kHs512, std::string(63, 'k'), SecretEncoding::kRaw), "at least 64 bytes"));
  EXPECT_TRUE(makeHmacKey("a", Algorithm::kHs256, encodeBase64(secret32), SecretEncoding::kBase64).ok());
  EXPECT_TRUE(makeHmacKey("a", Algorithm::kHs256, encodeBase64Url(secret32), SecretEncoding::kBase64Url).ok());
  EXPECT_TRUE(failsWith(makeHmacKey("a", Algorithm::kHs256, encodeBase64Url(secret32), SecretEncoding::kBase64), "not valid base64"))
      << "unpadded text is not standard base64";
  EXPECT_TRUE(failsWith(makeHmacKey("a", Algorithm::kHs256, "!!!!", SecretEncoding::kBase64Url), "not valid base64url"));
  EXPECT_TRUE(failsWith(makeHmacKey("a", Algorithm::kRs256, secret32, SecretEncoding::kRaw), "RSA public key"));
  const KeyResult k = makeHmacKey("a", Algorithm::kHs256, secret32, SecretEncoding::kRaw);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k.key->description(), "HMAC secret (32 bytes)");
  EXPECT_EQ(k.key->description().find(secret32), std::string::npos);
}

// The reused HMAC context (HmacScratch) must give exactly the answers a fresh copy gives: PyJWT's
// HS tokens accepted, a flipped signature byte or payload refused, and a refusal must not leave
// the context dirty for the next token. More keys than the scratch holds still verify.
TEST(HmacKeys, ReusedContextsGiveTheSameAnswers) {
  const auto& f = fixtures();
  struct Case {
    const char* token;
    Algorithm alg;
    const char* secret;
    SecretEncoding encoding;
  };
  const Case cases[] = {{"hs256", Algorithm::kHs256, "hs256_base64url", SecretEncoding::kBase64Url},
                        {"hs384", Algorithm::kHs384, "hs384_base64", SecretEncoding::kBase64},
                        {"hs512", Algorithm::kHs512, "hs512_raw", SecretEncoding::kRaw}};
  HmacScratch scratch;  // shared by the three keys, as a cache's scratch is
  for (const Case& c : cases) {
    SCOPED_TRACE(c.token);
    const KeyResult k = makeHmacKey(c.token, c.alg, f.secret(c.secret), c.encoding);
    ASSERT_TRUE(k.ok()) << k.error;
    const std::string token = f.token(c.token);
    const std::size_t dot = token.rfind('.');
    std::string signature;
    ASSERT_TRUE(decodeBase64Url(std::string_view(token).substr(dot + 1), signature));
    const std::string_view input = std::string_view(token).substr(0, dot);
    std::string flipped = signature;
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x01);
    std::string tamperedInput(input);
    tamperedInput[tamperedInput.size() - 1] = tamperedInput.back() == 'A' ? 'B' : 'A';
    for (int round = 0; round < 3; ++round) {
      EXPECT_TRUE(k.key->verify(input, signature, &scratch));
      EXPECT_FALSE(k.key->verify(input, flipped, &scratch));
      EXPECT_FALSE(k.key->verify(tamperedInput, signature, &scratch));
      EXPECT_FALSE(k.key->verify(input, signature.substr(1), &scratch));
      EXPECT_TRUE(k.key->verify(input, signature, &scratch)) << "a refusal left the reused context dirty";
      EXPECT_EQ(k.key->verify(input, signature), k.key->verify(input, signature, &scratch));
    }
  }
  // Keys beyond HmacScratch::kMaxKeys fall back to fresh copies: same answers. The same secret
  // under different kids (an HMAC tag does not depend on the kid) and a wrong secret in between.
  const std::string token = f.token("hs256");
  const std::size_t dot = token.rfind('.');
  std::string signature;
  ASSERT_TRUE(decodeBase64Url(std::string_view(token).substr(dot + 1), signature));
  for (std::size_t i = 0; i < HmacScratch::kMaxKeys + 4; ++i) {
    const KeyResult right = makeHmacKey("k" + std::to_string(i), Algorithm::kHs256, f.secret("hs256_base64url"), SecretEncoding::kBase64Url);
    const KeyResult wrong = makeHmacKey("w" + std::to_string(i), Algorithm::kHs256, std::string(32, static_cast<char>('a' + i)), SecretEncoding::kRaw);
    ASSERT_TRUE(right.ok() && wrong.ok());
    EXPECT_TRUE(right.key->verify(std::string_view(token).substr(0, dot), signature, &scratch)) << i;
    EXPECT_FALSE(wrong.key->verify(std::string_view(token).substr(0, dot), signature, &scratch)) << i;
  }
}

TEST(PemKeys, EachTypeFitsOnlyItsAlgorithm) {
  const auto& f = fixtures();
  // Table: (pem, algorithm) -> accepted, or the words the refusal must contain.
  struct Row {
    const char* pem;
    Algorithm alg;
    const char* error;  // nullptr: accepted
  };
  const std::vector<Row> rows = {
      {"rsa", Algorithm::kRs256, nullptr},
      {"rsa", Algorithm::kRs512, nullptr},
      {"rsa_1024", Algorithm::kRs256, "at least 2048 bits; got RSA 1024-bit public key"},
      {"rsa", Algorithm::kEs256, "needs an EC P-256 public key; got RSA 2048-bit public key"},
      {"p256", Algorithm::kEs256, nullptr},
      {"p256", Algorithm::kEs384, "needs an EC P-384 public key; got EC P-256 public key"},
      {"p384", Algorithm::kEs384, nullptr},
      {"p521", Algorithm::kEs384, "got EC secp521r1 public key"},
      {"ed25519", Algorithm::kEdDsa, nullptr},
      {"ed448", Algorithm::kEdDsa, "needs an Ed25519 public key; got Ed448 public key"},
      {"ed25519", Algorithm::kRs256, "got Ed25519 public key"},
      {"rsa", Algorithm::kHs256, "needs an HMAC secret, not a PEM key"},
  };
  for (const Row& r : rows) {
    const KeyResult k = makePemKey("k", r.alg, f.pem(r.pem));
    if (r.error == nullptr) {
      EXPECT_TRUE(k.ok()) << r.pem << " as " << toString(r.alg) << ": " << k.error;
    } else {
      EXPECT_TRUE(failsWith(k, r.error)) << r.pem << " as " << toString(r.alg);
    }
  }
  EXPECT_TRUE(failsWith(makePemKey("k", Algorithm::kRs256, "not a key"), "BEGIN PUBLIC KEY"));
  EXPECT_TRUE(failsWith(makePemKey("k", Algorithm::kRs256, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
                        "private key"));
  std::string broken = f.pem("rsa");
  broken[40] = broken[40] == 'A' ? 'B' : 'A';
  broken.erase(60, 8);
  EXPECT_FALSE(makePemKey("k", Algorithm::kRs256, broken).ok()) << "a damaged PEM body";
}

TEST(PemKeys, CertificateGivesItsPublicKey) {
  // The rs256 fixture token was signed by the key the certificate holds.
  KeySet keys;
  ASSERT_EQ(keys.add(test::mustKey(makePemKey("rs256", Algorithm::kRs256, fixtures().pem("rsa_certificate")))), std::nullopt);
  const JwtVerifier v(keys, test::standardConfig());
  const JwtResult r = v.verify(fixtures().token("rs256"), test::at());
  EXPECT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(keys.keys()[0].fingerprint(), test::mustKey(makePemKey("rs256", Algorithm::kRs256, fixtures().pem("rsa"))).fingerprint())
      << "the same key as its PEM public key";
}

TEST(PemKeys, FingerprintsTellKeysApart) {
  const auto& f = fixtures();
  const VerificationKey a = test::mustKey(makePemKey("k", Algorithm::kRs256, f.pem("rsa")));
  const VerificationKey a2 = test::mustKey(makePemKey("k", Algorithm::kRs256, f.pem("rsa")));
  const VerificationKey aOtherAlg = test::mustKey(makePemKey("k", Algorithm::kRs384, f.pem("rsa")));
  const VerificationKey aOtherKid = test::mustKey(makePemKey("j", Algorithm::kRs256, f.pem("rsa")));
  const VerificationKey b = test::mustKey(makePemKey("k", Algorithm::kRs256, f.pem("rsa_other")));
  EXPECT_EQ(a.fingerprint(), a2.fingerprint());
  EXPECT_NE(a.fingerprint(), aOtherAlg.fingerprint());
  EXPECT_NE(a.fingerprint(), aOtherKid.fingerprint());
  EXPECT_NE(a.fingerprint(), b.fingerprint());
}

TEST(Jwks, FixtureDocumentLoadsAndSkipsWhatItCannotUse) {
  const JwksResult r = parseJwks(fixtures().jwks);
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front());
  std::vector<std::string> kids;
  for (const VerificationKey& k : r.keys) kids.push_back(k.kid() + ":" + toString(k.algorithm()));
  EXPECT_EQ(kids, (std::vector<std::string>{"rs256:RS256", "rs384:RS384", "rs512:RS512", "es256:ES256", "es384:ES384",
                                            "ed:EdDSA", "hs-jwks:HS256"}))
      << "es384 has no alg: its curve decides";
  ASSERT_EQ(r.skipped.size(), 2u);
  EXPECT_NE(r.skipped[0].find("keys[7] (kid \"enc-1\"): skipped: \"use\" is \"enc\""), std::string::npos) << r.skipped[0];
  EXPECT_NE(r.skipped[1].find("keys[8] (kid \"p521\"): skipped: \"alg\" ES512 is not verified"), std::string::npos) << r.skipped[1];
}

TEST(Jwks, SingleJwkObjectAndDefaultAlgorithm) {
  const Json doc = Json::parse(fixtures().jwks);
  Json rsa = doc["keys"][0];
  rsa.erase("alg");
  const JwksResult noAlg = parseJwks(rsa.dump());
  ASSERT_EQ(noAlg.errors.size(), 1u);
  EXPECT_EQ(noAlg.errors[0],
            "JWK (kid \"rs256\"): \"alg\" is missing and kty RSA allows RS256, RS384, RS512; set \"alg\" in the JWK or a "
            "default algorithm in the config");
  const JwksResult withDefault = parseJwks(rsa.dump(), JwksOptions{Algorithm::kRs384});
  ASSERT_TRUE(withDefault.ok()) << withDefault.errors[0];
  ASSERT_EQ(withDefault.keys.size(), 1u);
  EXPECT_EQ(withDefault.keys[0].algorithm(), Algorithm::kRs384);
  const JwksResult defaultOfAnotherFamily = parseJwks(rsa.dump(), JwksOptions{Algorithm::kHs256});
  EXPECT_FALSE(defaultOfAnotherFamily.ok()) << "an HMAC default does not apply to an RSA key";
}

TEST(Jwks, ErrorsNameTheKeyTheFieldAndWhatIsAllowed) {
  const Json doc = Json::parse(fixtures().jwks);
  const Json rsa = doc["keys"][0];
  const Json ec = doc["keys"][3];
  const Json okp = doc["keys"][5];
  const auto with = [](Json k, const char* field, Json value) {
    if (value.is_null()) {
      k.erase(field);
    } else {
      k[field] = std::move(value);
    }
    return k;
  };
  // Table: one broken key in a JWKS -> the exact error line (the config layer prefixes the file).
  struct Row {
    Json key;
    std::string error;
  };
  const std::vector<Row> rows = {
      {with(rsa, "kty", nullptr), "keys[0] (kid \"rs256\"): \"kty\" is missing; allowed: RSA, EC, OKP, oct"},
      {with(rsa, "kty", 3), "keys[0] (kid \"rs256\"): \"kty\" must be a string; allowed: RSA, EC, OKP, oct"},
      {with(rsa, "kid", 3), "keys[0]: \"kid\" must be a string"},
      {with(rsa, "n", nullptr), "keys[0] (kid \"rs256\"): \"n\" is missing"},
      {with(rsa, "e", "AQAB="), "keys[0] (kid \"rs256\"): \"e\" is not valid base64url (alphabet A-Z a-z 0-9 - _, no padding)"},
      {with(rsa, "n", "AQAB"), "keys[0] (kid \"rs256\"): algorithm RS256 needs an RSA public key of at least 2048 bits; got RSA 17-bit public key"},
      {with(rsa, "alg", "ES256"), "keys[0] (kid \"rs256\"): \"alg\" ES256 does not fit kty RSA (allowed: RS256, RS384, RS512)"},
      {with(rsa, "alg", 256), "keys[0] (kid \"rs256\"): \"alg\" must be a string; allowed: HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, EdDSA"},
      {with(rsa, "d", "AQAB"), "keys[0] (kid \"rs256\"): contains the private key member \"d\"; the gateway needs public keys only (publish the public JWKS)"},
      {with(rsa, "use", 1), "keys[0] (kid \"rs256\"): \"use\" must be a string (\"sig\" or \"enc\")"},
      {with(rsa, "key_ops", "verify"), "keys[0] (kid \"rs256\"): \"key_ops\" must be an array of strings"},
      {with(ec, "crv", nullptr), "keys[0] (kid \"es256\"): \"crv\" must be a string; allowed for kty EC: P-256, P-384"},
      {with(ec, "alg", "ES384"), "keys[0] (kid \"es256\"): \"alg\" ES384 does not fit crv P-256 (allowed: ES256)"},
      {with(ec, "x", "AQAB"), "keys[0] (kid \"es256\"): \"x\" and \"y\" of a P-256 key must be 32 bytes each (RFC 7518 section 6.2.1.2); got 3 and 32"},
      {with(ec, "y", ec["x"]), "keys[0] (kid \"es256\"): invalid EC public key"},
      {with(okp, "x", "AQAB"), "keys[0] (kid \"ed\"): \"x\" of an Ed25519 key must be 32 bytes; got 3"},
      {with(okp, "crv", 25519), "keys[0] (kid \"ed\"): \"crv\" must be a string; allowed for kty OKP: Ed25519"},
      {Json::parse(R"({"kty":"oct","kid":"s","alg":"HS512","k":"c2hvcnQ"})"),
       "keys[0] (kid \"s\"): an HS512 secret must be at least 64 bytes (RFC 7518 section 3.2); this one has 5"},
      {Json::parse(R"({"kty":"oct","kid":"s","k":"c2hvcnQ"})"),
       "keys[0] (kid \"s\"): \"alg\" is missing and kty oct allows HS256, HS384, HS512; set \"alg\" in the JWK or a default algorithm in the config"},
      {Json("text"), "keys[0]: a JWK must be a JSON object"},
  };
  for (const Row& row : rows) {
    const JwksResult r = parseJwks(Json{{"keys", Json::array({row.key})}}.dump());
    ASSERT_EQ(r.errors.size(), 1u) << row.error;
    // The EC point error ends with OpenSSL's own words; compare the part gatelab writes.
    EXPECT_EQ(r.errors[0].substr(0, row.error.size()), row.error);
    EXPECT_TRUE(r.keys.empty()) << row.error;
  }
}

TEST(Jwks, EveryErrorIsCollectedAndGoodKeysKept) {
  const Json doc = Json::parse(fixtures().jwks);
  Json keys = Json::array({doc["keys"][0], Json::object(), doc["keys"][3], Json{{"kty", "RSA"}, {"alg", "RS256"}}});
  const JwksResult r = parseJwks(Json{{"keys", keys}}.dump());
  EXPECT_EQ(r.keys.size(), 2u);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0], "keys[1]: \"kty\" is missing; allowed: RSA, EC, OKP, oct");
  EXPECT_EQ(r.errors[1], "keys[3]: \"n\" is missing");
}

TEST(Jwks, DocumentLevelErrors) {
  // Table: document -> error prefix.
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"", "not valid JSON: "},
      {"{\"keys\": [", "not valid JSON: "},
      {"[]", "a JWKS must be a JSON object"},
      {"{\"keys\": {}}", "\"keys\" must be an array of JWK objects"},
      {"{\"keys\": []}", "\"keys\" is empty"},
      {"{\"keys\": [{\"kty\": \"XYZ\"}]}", ""},  // unknown kty: skipped, not an error
  };
  for (const auto& [text, error] : rows) {
    const JwksResult r = parseJwks(text);
    if (error.empty()) {
      EXPECT_TRUE(r.ok()) << text;
      ASSERT_EQ(r.skipped.size(), 1u) << text;
      EXPECT_EQ(r.skipped[0], "keys[0]: skipped: kty \"XYZ\" is not supported (supported: RSA, EC, OKP, oct)");
      continue;
    }
    ASSERT_EQ(r.errors.size(), 1u) << text;
    EXPECT_EQ(r.errors[0].substr(0, error.size()), error) << r.errors[0];
  }
  // nlohmann's message carries the position.
  EXPECT_NE(parseJwks("{\"keys\": [}").errors.at(0).find("line 1, column 11"), std::string::npos)
      << parseJwks("{\"keys\": [}").errors.at(0);
}

TEST(KeySetRules, KidSelection) {
  const auto& f = fixtures();
  KeySet set;
  const auto hs = [&](const char* kid) {
    return test::mustKey(makeHmacKey(kid, Algorithm::kHs256, f.secret("hs256_base64url"), SecretEncoding::kBase64Url));
  };
  ASSERT_EQ(set.add(hs("a")), std::nullopt);
  ASSERT_EQ(set.add(test::mustKey(makePemKey("r", Algorithm::kRs256, f.pem("rsa")))), std::nullopt);
  ASSERT_EQ(set.add(test::mustKey(makePemKey("r", Algorithm::kRs512, f.pem("rsa")))), std::nullopt)
      << "one kid may name keys of different algorithms";

  EXPECT_EQ(set.find("a", Algorithm::kHs256).lookup, KeyLookup::kFound);
  EXPECT_EQ(set.find("r", Algorithm::kRs512).key->algorithm(), Algorithm::kRs512);
  EXPECT_EQ(set.find("zz", Algorithm::kHs256).lookup, KeyLookup::kUnknownKid);
  const KeyMatch mismatch = set.find("a", Algorithm::kRs256);
  EXPECT_EQ(mismatch.lookup, KeyLookup::kAlgorithmMismatch);
  EXPECT_EQ(mismatch.key->algorithm(), Algorithm::kHs256);
  EXPECT_EQ(set.find(std::nullopt, Algorithm::kHs256).lookup, KeyLookup::kFound) << "the only HS256 key";
  EXPECT_EQ(set.find(std::nullopt, Algorithm::kEs256).lookup, KeyLookup::kNoKeyForAlgorithm);
  ASSERT_EQ(set.add(hs("b")), std::nullopt);
  const KeyMatch ambiguous = set.find(std::nullopt, Algorithm::kHs256);
  EXPECT_EQ(ambiguous.lookup, KeyLookup::kAmbiguous);
  EXPECT_EQ(ambiguous.candidates, 2u);

  // Refusals at build time.
  EXPECT_EQ(set.add(hs("a")).value_or(""), "two HS256 keys with kid \"a\"; a kid must name one key per algorithm");
  ASSERT_EQ(set.add(hs("")), std::nullopt);
  EXPECT_EQ(set.add(hs("")).value_or(""),
            "two HS256 keys without a kid: a token without a kid could not choose between them; give each key a kid");
  EXPECT_EQ(set.size(), 5u);
}

}  // namespace
}  // namespace gatelab::core::auth
