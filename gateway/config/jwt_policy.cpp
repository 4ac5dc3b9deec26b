// The `jwt` policy: builds a JwtPolicyConfig (a core::auth::KeySet, a core::auth::JwtConfig and
// the host-side settings: token sources, realm, cache size, consumer claim). Semantics:
// docs/security.md, "JWT".
//
// Keys are made here, at load: inline secrets and PEM keys, PEM files and a JWKS file, each bound
// to one algorithm by the core (jwk.hpp). Files are read now (and again on every reload, which
// loads the config anew); their paths are relative to the working directory, like the TLS
// certificate paths. No message ever contains secret text: the core's key messages never do, and
// ours name the key's position and kid only.

#include <algorithm>
#include <array>
#include <chrono>

#include "gateway/config/detail/policy_support.hpp"
#include "gateway/config/detail/sections.hpp"
#include "gateway/config/detail/text_checks.hpp"
#include "gateway/core/auth/jwk.hpp"
#include "gateway/core/auth/jwt.hpp"
#include "gateway/core/auth/token_cache.hpp"
#include "gateway/core/auth/token_source.hpp"

namespace gatelab::config::detail {
namespace {

using core::auth::Algorithm;
using core::auth::SecretEncoding;
using core::auth::TokenSource;
using core::auth::TokenSourceKind;

// Allowed keys, in documentation order.
constexpr std::array<std::string_view, 14> kJwtKeys{
    "keys",         "jwks_file",      "jwks_default_alg", "issuers",         "audiences",
    "required_claims", "leeway",      "max_expires_in",   "max_lifetime",    "max_token_bytes",
    "token_sources", "realm",         "cache",            "consumer_claim"};
constexpr std::array<std::string_view, 6> kKeyKeys{"kid",        "alg",        "secret", "secret_encoding",
                                                   "public_key", "public_key_file"};
constexpr std::array<std::string_view, 1> kCacheKeys{"max_entries"};

constexpr std::array<EnumName<SecretEncoding>, 3> kEncodings{{{"raw", SecretEncoding::kRaw},
                                                               {"base64", SecretEncoding::kBase64},
                                                               {"base64url", SecretEncoding::kBase64Url}}};
// JWKs without "alg" need a default only for kty RSA and oct (EC and OKP keys take their curve's).
constexpr std::array<EnumName<Algorithm>, 6> kDefaultAlgs{{{"RS256", Algorithm::kRs256},
                                                            {"RS384", Algorithm::kRs384},
                                                            {"RS512", Algorithm::kRs512},
                                                            {"HS256", Algorithm::kHs256},
                                                            {"HS384", Algorithm::kHs384},
                                                            {"HS512", Algorithm::kHs512}}};

constexpr std::string_view kKeysAllowed =
    "a non-empty list of {kid, alg, secret [, secret_encoding]} (HS256/384/512) or {kid, alg, public_key | "
    "public_key_file} (RS256/384/512, ES256/384, EdDSA)";
constexpr std::string_view kNeedKeysAllowed = "keys: [...], jwks_file: FILE, or both";
constexpr std::string_view kFileAllowed = "a readable file (absolute, or relative to the working directory)";
constexpr std::string_view kClaimAllowed = "a claim name: visible characters, no spaces";
constexpr std::string_view kSourcesAllowed =
    "a non-empty list of header:NAME (a Bearer token in that field), cookie:NAME or query:NAME, tried in order";
constexpr std::string_view kStringsAllowed = "a non-empty list of strings, compared exactly";
constexpr std::int64_t kMaxCacheEntries = 10'000'000;

std::string algorithmsAllowed() { return core::auth::algorithmNames(); }

std::string checkClaimName(const std::string& name) {
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return "invalid claim name " + inQuotes(name) + ": no spaces or control characters";
  }
  return {};
}

std::optional<std::string> readClaimName(Sink& sink, const Node& node) {
  auto text = readString(sink, node, kClaimAllowed);
  if (!text) return std::nullopt;
  if (std::string reason = checkClaimName(*text); !reason.empty()) {
    sink.error(node.mark, node.path, reason, std::string(kClaimAllowed));
    return std::nullopt;
  }
  return text;
}

std::optional<Algorithm> readAlgorithm(Sink& sink, const Node& node) {
  const std::string allowed = algorithmsAllowed();
  auto text = readString(sink, node, allowed);
  if (!text) return std::nullopt;
  if (auto a = core::auth::algorithmFromName(*text)) return a;
  if (toLowerAscii(*text) == "none") {
    sink.error(node.mark, node.path,
               "algorithm " + inQuotes(*text) + " is never accepted: an unsecured token proves nothing", allowed);
    return std::nullopt;
  }
  // Real JWA names gatelab does not verify get no did-you-mean ("PS256" is not a typo of "HS256").
  constexpr std::array<std::string_view, 6> kUnsupported{"PS256", "PS384", "PS512", "ES512", "ES256K", "Ed448"};
  std::vector<std::string> names;
  for (Algorithm a : core::auth::kAllAlgorithms) names.emplace_back(core::auth::toString(a));
  const bool known = std::find(kUnsupported.begin(), kUnsupported.end(), std::string_view{*text}) != kUnsupported.end();
  sink.error(node.mark, node.path,
             "algorithm " + inQuotes(*text) + " is not verified by gatelab" + (known ? std::string{} : didYouMean(*text, names)),
             allowed);
  return std::nullopt;
}

// `what` of a key for messages: `key "hs-1"` or `the key`.
std::string keyLabel(const std::string& kid) { return kid.empty() ? "the key" : "key " + inQuotes(kid); }

// One item of `keys`.
void readInlineKey(Sink& sink, const Node& item, core::auth::KeySet& keys, std::vector<Located>& kidsAt) {
  auto m = Mapping::open(sink, item, kKeyKeys, "a JWT key");
  if (!m) return;
  const std::size_t before = sink.count();
  std::string kid;
  std::optional<Node> kidNode = m->get("kid");
  if (kidNode) {
    constexpr std::string_view kKidAllowed = "a non-empty key id without control characters (omit kid for a key without one)";
    if (auto text = readString(sink, *kidNode, kKidAllowed)) {
      if (std::any_of(text->begin(), text->end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
        sink.error(kidNode->mark, kidNode->path, "invalid kid " + inQuotes(*text) + ": control characters",
                   std::string(kKidAllowed));
      } else {
        kid = *text;
      }
    }
  }
  std::optional<Algorithm> alg;
  if (auto n = m->require(sink, "alg", algorithmsAllowed())) alg = readAlgorithm(sink, *n);

  const std::optional<Node> secret = m->get("secret");
  const std::optional<Node> pem = m->get("public_key");
  const std::optional<Node> file = m->get("public_key_file");
  const std::optional<Node> encoding = m->get("secret_encoding");
  if (encoding && !secret) {
    sink.error(m->keyMark("secret_encoding"), encoding->path, "secret_encoding applies only to a secret",
               "secret_encoding together with secret (HS256/384/512 keys)");
  }
  if (pem && file) {
    sink.error(m->keyMark("public_key_file"), file->path, "public_key and public_key_file cannot be combined",
               "one of public_key (PEM text) or public_key_file");
  }
  if (!alg) return;
  const std::string algName = core::auth::toString(*alg);
  if (core::auth::isHmac(*alg)) {
    for (const auto& [key, node] : {std::pair{"public_key", pem}, std::pair{"public_key_file", file}}) {
      if (node) {
        sink.error(m->keyMark(key), node->path,
                   "an " + algName + " key is an HMAC secret, not a public key",
                   "secret (with secret_encoding raw, base64 or base64url) for HS256/384/512");
      }
    }
    if (!secret) {
      if (!m->misspelled("secret")) {
        sink.error(item.mark, childPath(item.path, "secret"), "missing required key \"secret\": an " + algName +
                                                                  " key is an HMAC secret",
                   "secret: TEXT, with secret_encoding raw (default), base64 or base64url");
      }
      return;
    }
  } else {
    if (secret) {
      sink.error(m->keyMark("secret"), secret->path,
                 "an " + algName + " key is a public key, not a secret (verifying " + algName +
                     " with an HMAC secret is the algorithm-confusion attack)",
                 "public_key (PEM text) or public_key_file for RS256/384/512, ES256/384, EdDSA; secret only for "
                 "HS256/384/512");
      return;
    }
    if (!pem && !file) {
      sink.error(item.mark, childPath(item.path, "public_key"),
                 "missing public_key or public_key_file: an " + algName + " key is a public key",
                 "public_key: PEM text (BEGIN PUBLIC KEY or BEGIN CERTIFICATE), or public_key_file: FILE");
      return;
    }
  }
  if (sink.count() != before) return;

  core::auth::KeyResult made;
  if (secret) {
    auto text = readString(sink, *secret, "the HMAC secret");
    SecretEncoding enc = SecretEncoding::kRaw;
    if (encoding) {
      auto e = readEnum(sink, *encoding, kEncodings);
      if (!e) return;
      enc = *e;
    }
    if (!text) return;
    made = core::auth::makeHmacKey(kid, *alg, *text, enc);
    if (!made.ok()) {
      sink.error(secret->mark, secret->path, keyLabel(kid) + ": " + made.error,
                 "an HMAC secret at least as long as the hash output (HS256: 32 bytes, HS384: 48, HS512: 64), "
                 "written as secret_encoding says (raw, base64 or base64url)");
      return;
    }
  } else if (pem) {
    auto text = readString(sink, *pem, "PEM text of a public key or certificate");
    if (!text) return;
    made = core::auth::makePemKey(kid, *alg, *text);
    if (!made.ok()) {
      sink.error(pem->mark, pem->path, keyLabel(kid) + ": " + made.error,
                 "a PEM public key (BEGIN PUBLIC KEY) or certificate that fits " + algName);
      return;
    }
  } else {
    auto path = readString(sink, *file, kFileAllowed);
    if (!path) return;
    const FileText read = readConfigFile(*path, kMaxKeyFileBytes);
    if (!read.text) {
      sink.error(file->mark, file->path, "cannot read public_key_file " + inQuotes(*path) + ": " + read.error,
                 std::string(kFileAllowed));
      return;
    }
    made = core::auth::makePemKey(kid, *alg, *read.text);
    if (!made.ok()) {
      sink.error(file->mark, file->path, "public_key_file " + inQuotes(*path) + ", " + keyLabel(kid) + ": " + made.error,
                 "a PEM public key (BEGIN PUBLIC KEY) or certificate that fits " + algName);
      return;
    }
  }
  const Node& kidAt = kidNode ? *kidNode : item;
  if (auto why = keys.add(std::move(*made.key))) {
    std::string first;
    for (const Located& k : kidsAt) {
      if (k.value == kid + "\n" + algName) first = "; first at " + at(k.mark);
    }
    sink.error(kidAt.mark, kidAt.path, *why + first, "one key per kid and algorithm; at most one key without a kid per algorithm");
    return;
  }
  kidsAt.push_back(Located{kid + "\n" + algName, kidAt.mark, kidAt.path});
}

// `token_sources`: header:NAME, cookie:NAME, query:NAME.
std::optional<std::vector<TokenSource>> readTokenSources(Sink& sink, const Node& node) {
  auto items = readList(sink, node, kSourcesAllowed);
  if (!items) return std::nullopt;
  const std::size_t before = sink.count();
  std::vector<TokenSource> out;
  std::vector<const Node*> where;
  for (const Node& item : *items) {
    auto text = readString(sink, item, kSourcesAllowed);
    if (!text) continue;
    const std::size_t colon = text->find(':');
    const std::string kind = text->substr(0, colon);
    const std::string name = colon == std::string::npos ? std::string{} : text->substr(colon + 1);
    TokenSource s;
    if (kind == "header") {
      s.kind = TokenSourceKind::kHeader;
    } else if (kind == "cookie") {
      s.kind = TokenSourceKind::kCookie;
    } else if (kind == "query") {
      s.kind = TokenSourceKind::kQuery;
    } else {
      constexpr std::array<std::string_view, 3> kKinds{"header", "cookie", "query"};
      sink.error(item.mark, item.path, "unknown token source " + inQuotes(*text) + didYouMean(kind, kKinds),
                 std::string(kSourcesAllowed));
      continue;
    }
    s.name = name;
    if (name.empty()) {
      sink.error(item.mark, item.path, kind + " needs a name, e.g. " + kind + ":" +
                                           (s.kind == TokenSourceKind::kHeader ? "Authorization" : "access_token"),
                 std::string(kSourcesAllowed));
      continue;
    }
    if (auto why = core::auth::validateTokenSources(std::span<const TokenSource>(&s, 1))) {
      sink.error(item.mark, item.path, *why, std::string(kSourcesAllowed));
      continue;
    }
    bool duplicate = false;
    for (std::size_t i = 0; i < out.size(); ++i) {
      const bool same = out[i].kind == s.kind &&
                        (s.kind == TokenSourceKind::kHeader ? toLowerAscii(out[i].name) == toLowerAscii(s.name)
                                                            : out[i].name == s.name);
      if (!same) continue;
      sink.error(item.mark, item.path, "duplicate token source " + inQuotes(*text) + "; first at " + at(where[i]->mark),
                 "each source once");
      duplicate = true;
      break;
    }
    if (duplicate) continue;
    out.push_back(std::move(s));
    where.push_back(&item);
  }
  if (sink.count() != before) return std::nullopt;
  return out;
}

// A duration in whole seconds within [min, max].
std::optional<core::Duration> readSeconds(Sink& sink, const Node& node, core::Duration min, core::Duration max) {
  const std::string allowed = "a duration from " + core::formatDuration(min) + " to " + core::formatDuration(max) +
                              " in whole seconds, e.g. 30s, 5m, 1h";
  auto d = readDuration(sink, node);
  if (!d) return std::nullopt;
  if (*d < min || *d > max) {
    sink.error(node.mark, node.path, core::formatDuration(*d) + " is out of range", allowed);
    return std::nullopt;
  }
  if (*d % std::chrono::seconds(1) != core::Duration::zero()) {
    sink.error(node.mark, node.path,
               core::formatDuration(*d) + " is not a whole number of seconds (JWT times are in seconds)", allowed);
    return std::nullopt;
  }
  return d;
}

}  // namespace

BuiltPolicy buildJwtPolicy(Sink& sink, const Node& body, const PolicyContext& /*context*/) {
  BuiltPolicy built;
  auto m = Mapping::open(sink, body, kJwtKeys, "a jwt policy");
  if (!m) return built;
  const std::size_t before = sink.count();
  JwtPolicyConfig spec;

  // keys, then jwks_file: inline keys come first in the set.
  std::vector<Located> kidsAt;
  const std::optional<Node> keysNode = m->get("keys");
  const std::optional<Node> jwksNode = m->get("jwks_file");
  if (keysNode) {
    if (auto items = readList(sink, *keysNode, kKeysAllowed)) {
      for (const Node& item : *items) readInlineKey(sink, item, spec.keys, kidsAt);
    }
  }
  std::optional<Algorithm> defaultAlg;
  if (auto n = m->get("jwks_default_alg")) {
    if (!jwksNode) {
      sink.error(m->keyMark("jwks_default_alg"), n->path, "jwks_default_alg applies only with jwks_file",
                 "jwks_default_alg together with jwks_file");
    } else {
      defaultAlg = readEnum(sink, *n, kDefaultAlgs);
    }
  }
  if (jwksNode) {
    if (auto path = readString(sink, *jwksNode, kFileAllowed)) {
      spec.jwksFile = *path;
      const FileText read = readConfigFile(*path, kMaxKeyFileBytes);
      if (!read.text) {
        sink.error(jwksNode->mark, jwksNode->path, "cannot read jwks_file " + inQuotes(*path) + ": " + read.error,
                   std::string(kFileAllowed));
      } else {
        const std::string in = "jwks_file " + inQuotes(*path) + ": ";
        const std::string jwksAllowed =
            "a JWK Set {\"keys\": [...]} of public keys (RSA, EC P-256/P-384, OKP Ed25519) or oct secrets, "
            "docs/security.md#keys-one-key-one-algorithm";
        core::auth::JwksResult jwks = core::auth::parseJwks(*read.text, core::auth::JwksOptions{defaultAlg});
        for (const std::string& e : jwks.errors) sink.error(jwksNode->mark, jwksNode->path, in + e, jwksAllowed);
        const std::size_t added = spec.keys.size();
        for (core::auth::VerificationKey& k : jwks.keys) {
          const std::string kid = k.kid();
          if (auto why = spec.keys.add(std::move(k))) {
            sink.error(jwksNode->mark, jwksNode->path, in + keyLabel(kid) + ": " + *why,
                       "one key per kid and algorithm across keys and jwks_file");
          }
        }
        if (jwks.ok() && spec.keys.size() == added) {
          sink.error(jwksNode->mark, jwksNode->path,
                     in + "no usable key" +
                         (jwks.skipped.empty() ? std::string{}
                                               : " (" + std::to_string(jwks.skipped.size()) + " skipped; the first: " +
                                                     jwks.skipped.front() + ")"),
                     jwksAllowed);
        }
        // Skipped keys (use "enc", unsupported algorithms...) are not errors: identity providers
        // publish them beside their signing keys. The diagnostics have no warning level, so they
        // are kept with the policy for the host to log.
        spec.skippedJwks = std::move(jwks.skipped);
      }
    }
  }
  if (!keysNode && !jwksNode && !m->misspelled("keys") && !m->misspelled("jwks_file")) {
    sink.error(body.mark, childPath(body.path, "keys"), "a jwt policy needs keys to verify with",
               std::string(kNeedKeysAllowed));
  }

  // Claim rules.
  if (auto n = m->get("issuers")) {
    if (auto list = readStringList(sink, *n, "issuer", kStringsAllowed, false)) spec.rules.issuers = valuesOf(*list);
  }
  if (auto n = m->get("audiences")) {
    if (auto list = readStringList(sink, *n, "audience", kStringsAllowed, false)) spec.rules.audiences = valuesOf(*list);
  }
  if (auto n = m->get("required_claims")) {
    if (auto list = readStringList(sink, *n, "claim", "a list of claim names (may be empty: no claim required; "
                                                      "without exp a token never expires)",
                                   true, checkClaimName)) {
      spec.rules.requiredClaims = valuesOf(*list);
    }
  }
  if (auto n = m->get("leeway")) {
    if (auto d = readSeconds(sink, *n, core::Duration::zero(), core::auth::kMaxLeeway)) spec.rules.leeway = *d;
  }
  if (auto n = m->get("max_expires_in")) {
    if (auto d = readSeconds(sink, *n, std::chrono::seconds(1), core::auth::kMaxLifetimeBound)) spec.rules.maxExpiresIn = d;
  }
  if (auto n = m->get("max_lifetime")) {
    if (auto d = readSeconds(sink, *n, std::chrono::seconds(1), core::auth::kMaxLifetimeBound)) spec.rules.maxLifetime = d;
  }
  // The lifetime bounds need exp (and max_lifetime iat) on every token: without them in
  // required_claims a token lacking the claim is refused anyway (missing_claim), which is what a
  // bound means, so that is not an error.
  if (auto n = m->get("max_token_bytes")) {
    if (auto i = readInt(sink, *n, 64, std::int64_t{1} << 20)) spec.rules.maxTokenBytes = static_cast<std::size_t>(*i);
  }

  // Host-side settings.
  if (auto n = m->get("token_sources")) {
    if (auto sources = readTokenSources(sink, *n)) spec.tokenSources = std::move(*sources);
  }
  if (auto n = m->get("realm")) {
    if (auto realm = readRealm(sink, *n)) spec.realm = std::move(*realm);
  }
  if (auto n = m->get("cache")) {
    if (auto c = Mapping::open(sink, *n, kCacheKeys, "the verified-token cache settings")) {
      spec.cacheEntries = core::auth::VerifiedTokenCache::kDefaultCapacity;
      if (auto e = c->get("max_entries")) {
        if (auto i = readInt(sink, *e, 1, kMaxCacheEntries)) spec.cacheEntries = static_cast<std::size_t>(*i);
      }
    }
  }
  if (auto n = m->get("consumer_claim")) {
    if (auto claim = readClaimName(sink, *n)) spec.consumerClaim = *claim;
  }

  if (sink.count() == before) {
    // The core's own check, last, so a config that loads always builds.
    if (auto why = core::auth::validateJwtConfig(spec.rules)) {
      sink.error(body.mark, body.path, *why, "settings the JWT verifier accepts (docs/security.md#jwt)");
    }
  }
  if (sink.count() == before) built.spec = PolicySpec{std::move(spec)};
  return built;
}

}  // namespace gatelab::config::detail
