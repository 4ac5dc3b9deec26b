#pragma once
// API-key authentication (Kong's key-auth): a request carries a secret key in a header or a query
// parameter; the key maps to a consumer. Semantics: docs/security.md, "API keys".
//
// Keys in config are either the secret itself or its digest "sha256:<64 hex digits>" (so the
// config file need not hold secrets). Both kinds go into ONE hash table keyed by the SHA-256 of
// the key: a request's key is hashed once (OpenSSL EVP) and looked up, O(1) on average whatever
// the number of keys. Digests are compared with CRYPTO_memcmp (constant time); the table's bucket
// hash reads digest bytes, which reveal nothing usable about a key (SHA-256 is preimage
// resistant). The digest is unsalted, so keys must be random and long (>= 128 bits of
// entropy), not passwords.
//
// Lookup order: sources in the configured order, the first source that holds a non-empty value
// decides (later sources are not consulted). A source that holds the key more than once (two
// `apikey` fields, or `?apikey=a&apikey=b`) is refused as duplicate_key: a gateway that checks
// the first copy while the upstream reads the second is a classic bypass. Query parameter names
// and values are percent-decoded ('+' is not a space).
//
// Thread safety: an ApiKeyAuth is immutable; authenticate() may run on any number of threads.
// Cost: one SHA-256 of the presented key (bench/shaping_bench.cpp) plus a scan of the headers or
// the query for each source until one matches; no allocation unless hideCredentials is on and a
// credential is present.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/core/auth/consumer.hpp"
#include "gateway/core/request.hpp"
#include "gateway/core/spec_error.hpp"

namespace gatelab::core::auth {

/// Most sources per policy, and longest key accepted (in bytes; longer keys are unknown_key).
inline constexpr std::size_t kMaxKeySources = 8;
inline constexpr std::size_t kMaxApiKeyBytes = 1024;

enum class KeyLocation : std::uint8_t {
  kHeader,  ///< a request header field (name case-insensitive)
  kQuery,   ///< a query parameter (name case-sensitive, compared after percent-decoding)
};

/// "header", "query".
const char* toString(KeyLocation l) noexcept;

struct KeySource {
  KeyLocation location = KeyLocation::kHeader;
  std::string name = "apikey";  ///< Kong's default key name; a header name must be a token
  friend bool operator==(const KeySource&, const KeySource&) = default;
};

/// One credential: a key of a consumer.
struct ApiKeySpec {
  std::string consumer{};  ///< id of a consumer in the registry
  /// The key itself (1..kMaxApiKeyBytes of VCHAR: it travels in a header or a URL), or
  /// "sha256:" and the 64 hex digits of its SHA-256 (either case). A plain key cannot start with
  /// "sha256:".
  std::string key{};
  /// Optional name of the credential for logs, events and X-Credential-Identifier. Never the key.
  std::string id{};
};

struct ApiKeyAuthSpec {
  /// Where to look, in order; 1..kMaxKeySources entries, no duplicates. Default: header apikey.
  std::vector<KeySource> sources{KeySource{}};
  std::vector<ApiKeySpec> keys{};
  /// Kong's hide_credentials: the host removes the key's header / query parameter before
  /// forwarding (ApiKeyResult::hide lists them).
  bool hideCredentials = false;
  /// Kong's `anonymous`: the id of a consumer admitted when no valid key is presented (the
  /// request then goes on as that consumer, flagged anonymous). Empty: such requests are refused.
  std::string anonymous{};
};

/// Why a request was not authenticated. Stable names (toString) for metrics and logs.
enum class ApiKeyReason : std::uint8_t {
  kOk,            ///< "ok": a configured key matched
  kMissingKey,    ///< "missing_key": no source holds a (non-empty) key
  kUnknownKey,    ///< "unknown_key": the key matches no configured key
  kDuplicateKey,  ///< "duplicate_key": the deciding source holds more than one key
};

inline constexpr std::size_t kApiKeyReasonCount = 4;

const char* toString(ApiKeyReason r) noexcept;

/// A credential location the host must strip before forwarding (hideCredentials).
struct HiddenCredential {
  KeyLocation location = KeyLocation::kHeader;
  std::string_view name{};  ///< the configured source name (points into the ApiKeyAuth)
  friend bool operator==(const HiddenCredential&, const HiddenCredential&) = default;
};

struct ApiKeyResult {
  ApiKeyReason reason = ApiKeyReason::kMissingKey;
  /// The key's consumer when ok; the anonymous consumer when not ok and one is configured;
  /// otherwise nullptr and the host answers 401 with apiKeyChallenge(). Points into the
  /// registry: valid while the ApiKeyAuth lives.
  const Consumer* consumer = nullptr;
  std::string_view credential{};  ///< ApiKeySpec::id of the matched key (may be empty)
  bool anonymous = false;       ///< admitted as the anonymous consumer
  /// With hideCredentials: every configured source present in the request (all of them, not
  /// only the deciding one), whatever the outcome. Empty otherwise.
  std::vector<HiddenCredential> hide{};

  [[nodiscard]] bool authenticated() const noexcept { return reason == ApiKeyReason::kOk; }
  [[nodiscard]] bool admitted() const noexcept { return consumer != nullptr; }
};

/// SHA-256 of a key.
using KeyDigest = std::array<unsigned char, 32>;

/// SHA-256 of `key` (OpenSSL EVP).
[[nodiscard]] KeyDigest digestApiKey(std::string_view key) noexcept;

/// Constant-time equality of two digests (CRYPTO_memcmp): the time taken does not depend on
/// where they differ. The key table compares with this.
[[nodiscard]] bool digestEquals(const KeyDigest& a, const KeyDigest& b) noexcept;

/// The config form of a key's digest: "sha256:" + 64 lower-case hex digits.
[[nodiscard]] std::string hashApiKey(std::string_view key);

class ApiKeyAuth {
 public:
  /// Builds the policy, or returns nullopt after appending every problem to `errors` (fields
  /// "sources[i].name", "keys[i].key", "keys[i].consumer", "anonymous"): bad sources, empty or
  /// malformed keys, keys of unknown consumers, the same key twice (plain or hashed), an
  /// unknown anonymous consumer. Messages never contain key text.
  /// Precondition: `consumers` is not null.
  static std::optional<ApiKeyAuth> create(ApiKeyAuthSpec spec, std::shared_ptr<const ConsumerRegistry> consumers,
                                          SpecErrors& errors);

  /// Finds the key in `request` and resolves it. See the file comment for the rules.
  [[nodiscard]] ApiKeyResult authenticate(const RequestView& request) const;

  /// The credential of `key` (already extracted), or nullptr. O(|key|) for the digest + O(1).
  struct Credential {
    const Consumer* consumer = nullptr;
    std::string id{};
  };
  [[nodiscard]] const Credential* lookup(std::string_view key) const noexcept;

  [[nodiscard]] std::span<const KeySource> sources() const noexcept { return spec_.sources; }
  [[nodiscard]] std::size_t keyCount() const noexcept { return table_.size(); }
  [[nodiscard]] const ConsumerRegistry& consumers() const noexcept { return *consumers_; }

 private:
  struct DigestHash {
    std::size_t operator()(const KeyDigest& d) const noexcept;
  };
  struct DigestEqual {
    bool operator()(const KeyDigest& a, const KeyDigest& b) const noexcept { return digestEquals(a, b); }
  };

  ApiKeyAuth() = default;

  ApiKeyAuthSpec spec_;  // keys cleared after the table is built: secrets are kept only as digests
  std::shared_ptr<const ConsumerRegistry> consumers_;
  std::unordered_map<KeyDigest, Credential, DigestHash, DigestEqual> table_;
  const Consumer* anonymous_ = nullptr;
};

/// The WWW-Authenticate value for a 401 from key auth: `Key realm="<realm>"` (the scheme Kong
/// uses); realm characters outside VCHAR/SP and '"' '\\' become '?'.
[[nodiscard]] std::string apiKeyChallenge(std::string_view realm);

/// `query` (raw, without '?') without the parameters whose percent-decoded name is in `names`;
/// the other parameters keep their order and spelling. "a=1&apikey=s&b=2" -> "a=1&b=2".
[[nodiscard]] std::string removeQueryParameters(std::string_view query, std::span<const std::string_view> names);

}  // namespace gatelab::core::auth
