// API keys and consumers: plain and sha256-hashed keys in one table, key sources in order,
// duplicates refused, hidden credentials, the anonymous consumer, config validation that names
// fields and never echoes secrets.

#include <gtest/gtest.h>

#include <cctype>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/auth/api_key.hpp"
#include "gateway/core/auth/consumer.hpp"
#include "gateway/core/request.hpp"

namespace gatelab::core::auth {
namespace {

std::shared_ptr<const ConsumerRegistry> registry() {
  SpecErrors errors;
  auto r = ConsumerRegistry::create({{"alice", {"admin", "staff"}}, {"bob", {"staff"}}, {"guest", {}}}, errors);
  EXPECT_TRUE(errors.empty());
  return r;
}

ApiKeyAuth makeAuth(ApiKeyAuthSpec spec) {
  SpecErrors errors;
  auto auth = ApiKeyAuth::create(std::move(spec), registry(), errors);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].field + ": " + errors[0].message);
  return std::move(*auth);
}

ApiKeyResult run(const ApiKeyAuth& auth, const std::vector<Header>& headers, std::string_view query = {}) {
  RequestView r;
  r.method = "GET";
  r.headers = headers;
  r.query = query;
  return auth.authenticate(r);
}

TEST(ApiKeyDigest, KnownVectorAndConfigForm) {
  // SHA-256("abc") from FIPS 180-2, appendix B.1.
  EXPECT_EQ(hashApiKey("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ApiKeyDigest, ConstantTimeEqualityIsExact) {
  // digestEquals (CRYPTO_memcmp, what the key table compares with) is plain equality in result:
  // a difference in the first or the last byte is found.
  const KeyDigest a = digestApiKey("key-one");
  KeyDigest first = a;
  first[0] ^= 1;
  KeyDigest last = a;
  last[31] ^= 0x80;
  EXPECT_TRUE(digestEquals(a, digestApiKey("key-one")));
  EXPECT_FALSE(digestEquals(a, first));
  EXPECT_FALSE(digestEquals(a, last));
  EXPECT_FALSE(digestEquals(a, digestApiKey("key-two")));
}

TEST(ApiKeyAuth, PlainAndHashedKeysResolveThroughOneTable) {
  // Table: config key (plain or hashed, either hex case) -> the presented key that matches it.
  std::string upperHash = hashApiKey("bob-secret-0002");
  for (std::size_t i = 7; i < upperHash.size(); ++i) upperHash[i] = static_cast<char>(std::toupper(upperHash[i]));
  const ApiKeyAuth auth = makeAuth({.keys = {{"alice", "alice-secret-0001", "alice-laptop"},
                                             {"bob", upperHash, "bob-ci"},
                                             {"guest", hashApiKey("guest-secret-0003"), ""}}});
  EXPECT_EQ(auth.keyCount(), 3u);
  struct Row {
    std::string presented;
    std::string consumer;
    std::string credential;
  };
  for (const Row& row : std::vector<Row>{{"alice-secret-0001", "alice", "alice-laptop"},
                                         {"bob-secret-0002", "bob", "bob-ci"},
                                         {"guest-secret-0003", "guest", ""}}) {
    const ApiKeyResult r = run(auth, {{"apikey", row.presented}});
    ASSERT_TRUE(r.authenticated()) << row.presented;
    EXPECT_EQ(r.consumer->id, row.consumer);
    EXPECT_EQ(r.credential, row.credential);
    EXPECT_FALSE(r.anonymous);
  }
  // The hashed form itself is not a key: presenting the digest text does not authenticate.
  EXPECT_EQ(run(auth, {{"apikey", hashApiKey("guest-secret-0003")}}).reason, ApiKeyReason::kUnknownKey);
  EXPECT_EQ(run(auth, {{"apikey", "alice-secret-000"}}).reason, ApiKeyReason::kUnknownKey);
  EXPECT_EQ(run(auth, {{"apikey", "alice-secret-00011"}}).reason, ApiKeyReason::kUnknownKey);
}

TEST(ApiKeyAuth, TenThousandKeysAllResolve) {
  // Every key of a large table resolves to its own consumer (the table is keyed by digest).
  std::vector<Consumer> consumers;
  ApiKeyAuthSpec spec;
  for (int i = 0; i < 10'000; ++i) {
    consumers.push_back({"c" + std::to_string(i), {}});
    const std::string key = "k-" + std::to_string(i * 7919) + "-secret";
    spec.keys.push_back({"c" + std::to_string(i), i % 2 == 0 ? key : hashApiKey(key), ""});
  }
  SpecErrors errors;
  auto reg = ConsumerRegistry::create(std::move(consumers), errors);
  auto auth = ApiKeyAuth::create(std::move(spec), reg, errors);
  ASSERT_TRUE(auth.has_value());
  for (int i = 0; i < 10'000; i += 37) {
    const auto* c = auth->lookup("k-" + std::to_string(i * 7919) + "-secret");
    ASSERT_NE(c, nullptr) << i;
    EXPECT_EQ(c->consumer->id, "c" + std::to_string(i));
  }
  EXPECT_EQ(auth->lookup("k-1-secret"), nullptr);
}

TEST(ApiKeyAuth, SourcesAndOutcomes) {
  const ApiKeyAuth auth = makeAuth({.sources = {{KeyLocation::kHeader, "X-API-Key"}, {KeyLocation::kQuery, "apikey"}},
                                    .keys = {{"alice", "alice-secret-0001", ""}, {"bob", "bob+secret/2=", ""}}});
  struct Row {
    const char* what;
    std::vector<Header> headers;
    std::string query;
    ApiKeyReason reason;
    std::string consumer;
  };
  const std::string tooLong(5000, 'a');  // outlives the rows' views
  const std::vector<Row> rows = {
      {"header, any case of the name", {{"x-api-key", "alice-secret-0001"}}, "", ApiKeyReason::kOk, "alice"},
      {"surrounding whitespace is not part of the key", {{"X-API-Key", "  alice-secret-0001 "}}, "", ApiKeyReason::kOk, "alice"},
      {"query parameter", {}, "a=1&apikey=alice-secret-0001&b=2", ApiKeyReason::kOk, "alice"},
      {"query value percent-decoded", {}, "apikey=bob%2Bsecret%2F2%3D", ApiKeyReason::kOk, "bob"},
      {"query name percent-decoded", {}, "api%6Bey=alice-secret-0001", ApiKeyReason::kOk, "alice"},
      {"'+' is not a space", {}, "apikey=bob+secret/2=", ApiKeyReason::kOk, "bob"},
      {"the first source decides", {{"X-API-Key", "wrong"}}, "apikey=alice-secret-0001", ApiKeyReason::kUnknownKey, ""},
      {"an empty first source is skipped", {{"X-API-Key", ""}}, "apikey=alice-secret-0001", ApiKeyReason::kOk, "alice"},
      {"nothing anywhere", {{"Authorization", "Bearer x"}}, "x=1", ApiKeyReason::kMissingKey, ""},
      {"query names are case-sensitive", {}, "APIKEY=alice-secret-0001", ApiKeyReason::kMissingKey, ""},
      {"two header fields", {{"X-API-Key", "alice-secret-0001"}, {"x-api-key", "bob+secret/2="}}, "",
       ApiKeyReason::kDuplicateKey, ""},
      {"two header fields, same key", {{"X-API-Key", "alice-secret-0001"}, {"x-api-key", "alice-secret-0001"}}, "",
       ApiKeyReason::kDuplicateKey, ""},
      {"two query parameters", {}, "apikey=alice-secret-0001&apikey=other", ApiKeyReason::kDuplicateKey, ""},
      {"bad escape: an unknown key", {}, "apikey=%zz", ApiKeyReason::kUnknownKey, ""},
      {"longer than any key", {{"X-API-Key", tooLong}}, "", ApiKeyReason::kUnknownKey, ""},
  };
  for (const Row& row : rows) {
    const ApiKeyResult r = run(auth, row.headers, row.query);
    EXPECT_EQ(r.reason, row.reason) << row.what;
    if (row.reason == ApiKeyReason::kOk) {
      ASSERT_NE(r.consumer, nullptr) << row.what;
      EXPECT_EQ(r.consumer->id, row.consumer) << row.what;
    } else {
      EXPECT_EQ(r.consumer, nullptr) << row.what << ": refused without an anonymous consumer";
    }
    EXPECT_TRUE(r.hide.empty()) << row.what << ": hideCredentials is off";
  }
}

TEST(ApiKeyAuth, HideCredentialsListsEveryPresentSource) {
  const ApiKeyAuth auth = makeAuth({.sources = {{KeyLocation::kHeader, "apikey"}, {KeyLocation::kQuery, "apikey"}},
                                    .keys = {{"alice", "alice-secret-0001", ""}},
                                    .hideCredentials = true});
  const std::vector<HiddenCredential> both = {{KeyLocation::kHeader, "apikey"}, {KeyLocation::kQuery, "apikey"}};
  const std::vector<HiddenCredential> header = {{KeyLocation::kHeader, "apikey"}};
  EXPECT_EQ(run(auth, {{"apikey", "alice-secret-0001"}}, "apikey=zzz").hide, both)
      << "a second copy in the query is stripped too, not only the deciding one";
  EXPECT_EQ(run(auth, {{"APIKEY", "alice-secret-0001"}}).hide, header);
  EXPECT_EQ(run(auth, {{"apikey", "nope"}}).hide, header) << "stripped whatever the outcome";
  EXPECT_EQ(run(auth, {{"apikey", ""}}).hide, header) << "an empty field is stripped as well";
  EXPECT_TRUE(run(auth, {{"other", "x"}}).hide.empty());
}

TEST(ApiKeyAuth, AnonymousConsumerOnFailure) {
  const ApiKeyAuth auth = makeAuth({.keys = {{"alice", "alice-secret-0001", ""}}, .anonymous = "guest"});
  for (const auto& headers : std::vector<std::vector<Header>>{{}, {{"apikey", "wrong"}}, {{"apikey", "a"}, {"apikey", "b"}}}) {
    const ApiKeyResult r = run(auth, headers);
    EXPECT_FALSE(r.authenticated());
    ASSERT_TRUE(r.admitted());
    EXPECT_EQ(r.consumer->id, "guest");
    EXPECT_TRUE(r.anonymous);
  }
  const ApiKeyResult ok = run(auth, {{"apikey", "alice-secret-0001"}});
  EXPECT_EQ(ok.consumer->id, "alice");
  EXPECT_FALSE(ok.anonymous);
}

TEST(ApiKeyAuth, ValidationCollectsEveryProblemWithoutSecrets) {
  SpecErrors errors;
  ApiKeyAuthSpec spec;
  spec.sources = {{KeyLocation::kHeader, "bad header"}, {KeyLocation::kQuery, "a=b"}, {KeyLocation::kHeader, "APIKEY"},
                  {KeyLocation::kHeader, "apikey"}};
  spec.keys = {{"alice", "topsecret-value-1", ""},
               {"nobody", "topsecret-value-2", ""},
               {"bob", "", ""},
               {"bob", "sha256:1234", ""},
               {"bob", "has space-secret", ""},
               {"bob", hashApiKey("topsecret-value-1"), ""},
               {"bob", "ok-secret\r\n", ""},
               {"bob", "fine-secret-9", "id\nwith newline"}};
  spec.anonymous = "ghost";
  EXPECT_FALSE(ApiKeyAuth::create(spec, registry(), errors).has_value());
  std::vector<std::string> fields;
  for (const SpecError& e : errors) {
    fields.push_back(e.field);
    EXPECT_EQ(e.message.find("topsecret"), std::string::npos) << e.field << ": " << e.message;
  }
  const std::vector<std::string> expected = {"sources[0].name", "sources[1].name", "sources[3].name", "anonymous",
                                             "keys[1].consumer", "keys[2].key", "keys[3].key", "keys[4].key",
                                             "keys[5].key", "keys[6].key", "keys[7].id"};
  EXPECT_EQ(fields, expected);
}

TEST(ConsumerRegistry, ValidationAndLookup) {
  SpecErrors errors;
  EXPECT_EQ(ConsumerRegistry::create({{"a", {"ok", "bad,group", ""}}, {"", {}}, {"a", {}}, {"sp ace", {"x y"}}}, errors), nullptr);
  std::vector<std::string> fields;
  for (const SpecError& e : errors) fields.push_back(e.field);
  const std::vector<std::string> expected = {"consumers[0].groups[1]", "consumers[0].groups[2]", "consumers[1].id",
                                             "consumers[3].id", "consumers[3].groups[0]", "consumers[2].id"};
  EXPECT_EQ(fields, expected);

  errors.clear();
  auto reg = ConsumerRegistry::create({{"zed", {"g", "g", "h"}}, {"amy", {}}}, errors);
  ASSERT_NE(reg, nullptr);
  ASSERT_NE(reg->find("zed"), nullptr);
  EXPECT_EQ(reg->find("zed")->groups, (std::vector<std::string>{"g", "h"})) << "duplicate groups dropped";
  EXPECT_EQ(reg->find("ZED"), nullptr) << "ids are case-sensitive";
  EXPECT_EQ(reg->consumers().front().id, "amy");
}

TEST(RemoveQueryParameters, KeepsEverythingElse) {
  // Table: query, names to drop -> result.
  const std::vector<std::string_view> names = {"apikey", "token"};
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"a=1&apikey=s&b=2", "a=1&b=2"},
      {"apikey=s", ""},
      {"apikey=s&apikey=t&x", "x"},
      {"api%6Bey=s&c=%20", "c=%20"},  // a percent-encoded name is matched (and kept spelled as sent)
      {"APIKEY=s&token", "APIKEY=s"},
      {"a=1&&b=2", "a=1&b=2"},
      {"", ""},
  };
  for (const auto& [query, expected] : rows) EXPECT_EQ(removeQueryParameters(query, names), expected) << query;
}

TEST(ApiKeyChallenge, QuotesSafely) {
  EXPECT_EQ(apiKeyChallenge("gatelab"), "Key realm=\"gatelab\"");
  EXPECT_EQ(apiKeyChallenge("a\"b\r\n"), "Key realm=\"a?b??\"");
}

}  // namespace
}  // namespace gatelab::core::auth
