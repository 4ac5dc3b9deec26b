#include "gateway/core/auth/jwt.hpp"

#include <cassert>
#include <charconv>
#include <cmath>
#include <string_view>
#include <utility>

#include "gateway/core/auth/base64.hpp"
#include "gateway/core/auth/json_object.hpp"

namespace gatelab::core::auth {

const char* toString(JwtReason r) noexcept {
  switch (r) {
    case JwtReason::kOk: return "ok";
    case JwtReason::kMissingToken: return "missing_token";
    case JwtReason::kMalformed: return "malformed";
    case JwtReason::kUnsupportedAlg: return "unsupported_alg";
    case JwtReason::kAlgMismatch: return "alg_mismatch";
    case JwtReason::kUnknownKid: return "unknown_kid";
    case JwtReason::kBadSignature: return "bad_signature";
    case JwtReason::kExpired: return "expired";
    case JwtReason::kNotYetValid: return "not_yet_valid";
    case JwtReason::kIssuerMismatch: return "issuer_mismatch";
    case JwtReason::kAudienceMismatch: return "audience_mismatch";
    case JwtReason::kLifetimeExceeded: return "lifetime_exceeded";
    case JwtReason::kMissingClaim: return "missing_claim";
  }
  return "unknown";
}

namespace {

using std::chrono::duration_cast;
using std::chrono::seconds;
using namespace std::string_view_literals;

/// NumericDates beyond this many seconds (about 285 million years) are refused, which keeps
/// every sum and difference below far from overflow.
constexpr std::int64_t kMaxNumericDate = std::int64_t{9'000'000'000'000'000};

const char* descriptionOf(JwtReason r) noexcept {
  switch (r) {
    case JwtReason::kOk: return "";
    case JwtReason::kMissingToken: return "No access token was provided";
    case JwtReason::kMalformed: return "The access token is malformed";
    case JwtReason::kUnsupportedAlg: return "The token signing algorithm is not accepted";
    case JwtReason::kAlgMismatch: return "The token signing algorithm does not match its key";
    case JwtReason::kUnknownKid: return "The token signing key is not known";
    case JwtReason::kBadSignature: return "The token signature is invalid";
    case JwtReason::kExpired: return "The access token expired";
    case JwtReason::kNotYetValid: return "The access token is not valid yet";
    case JwtReason::kIssuerMismatch: return "The token issuer is not accepted";
    case JwtReason::kAudienceMismatch: return "The token audience is not accepted";
    case JwtReason::kLifetimeExceeded: return "The token lifetime exceeds the allowed maximum";
    case JwtReason::kMissingClaim: return "The token lacks a required claim";
  }
  return "";
}

/// Token-supplied text for a log line: at most 64 characters of printable ASCII.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7F && c != '"' && c != '\\' ? c : '?');
  if (s.size() > 64) out += "...";
  return out;
}

std::int64_t floorSeconds(TimePoint t) noexcept {
  const std::int64_t ns = toNanos(t);
  std::int64_t s = ns / 1'000'000'000;
  if (ns % 1'000'000'000 < 0) --s;
  return s;
}

enum class Round : std::uint8_t { kDown, kUp };

/// A NumericDate (RFC 7519 §2: seconds, possibly fractional) from its JSON text, in whole
/// seconds rounded as `round` says; nullopt when out of range.
std::optional<std::int64_t> numericDate(std::string_view text, Round round) noexcept {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (text.find_first_of(".eE") == std::string_view::npos) {
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(first, last, v);
    if (ec != std::errc{} || p != last || v > kMaxNumericDate || v < -kMaxNumericDate) return std::nullopt;
    return v;
  }
  double d = 0;
  const auto [p, ec] = std::from_chars(first, last, d);
  if (ec != std::errc{} || p != last || !std::isfinite(d)) return std::nullopt;
  d = round == Round::kDown ? std::floor(d) : std::ceil(d);
  if (d > static_cast<double>(kMaxNumericDate) || d < -static_cast<double>(kMaxNumericDate)) return std::nullopt;
  return static_cast<std::int64_t>(d);
}

JwtResult failure(JwtReason reason, std::string detail) {
  JwtResult r;
  r.reason = reason;
  r.description = descriptionOf(reason);
  r.detail = std::move(detail);
  return r;
}

std::string secondsText(std::int64_t s) { return std::to_string(s) + "s"; }

/// The time checks (step 8), which also run on every cache hit. Strings are built only for a
/// refusal: a passing check allocates nothing.
std::optional<JwtResult> checkTimes(const VerifiedToken& t, const JwtConfig& config, std::int64_t leeway, std::int64_t now) {
  const auto at = [&] { return " (now " + std::to_string(now) + ", leeway " + secondsText(leeway) + ")"; };
  if (t.exp && now >= *t.exp + leeway) {
    return failure(JwtReason::kExpired, "exp " + std::to_string(*t.exp) + " has passed" + at());
  }
  if (t.nbf && now + leeway < *t.nbf) {
    return failure(JwtReason::kNotYetValid, "nbf " + std::to_string(*t.nbf) + " is in the future" + at());
  }
  if (t.iat && now + leeway < *t.iat) {
    return failure(JwtReason::kNotYetValid, "iat " + std::to_string(*t.iat) + " is in the future" + at());
  }
  if (config.maxExpiresIn) {
    const std::int64_t max = duration_cast<seconds>(*config.maxExpiresIn).count();
    if (*t.exp - now > max) {
      return failure(JwtReason::kLifetimeExceeded,
                     "exp " + std::to_string(*t.exp) + " is " + secondsText(*t.exp - now) + " after now " +
                         std::to_string(now) + "; at most " + secondsText(max) + " allowed");
    }
  }
  if (config.maxLifetime) {
    const std::int64_t max = duration_cast<seconds>(*config.maxLifetime).count();
    if (*t.exp - *t.iat > max) {
      return failure(JwtReason::kLifetimeExceeded, "exp - iat is " + secondsText(*t.exp - *t.iat) + "; at most " +
                                                       secondsText(max) + " allowed");
    }
  }
  return std::nullopt;
}

const JsonMember* findMember(const std::vector<JsonMember>& members, std::string_view name) noexcept {
  for (const JsonMember& m : members) {
    if (std::string_view(m.name) == name) return &m;
  }
  return nullptr;
}

/// The three bytes of a 3-letter name as one integer, so that names can be switched on.
constexpr std::uint32_t tag3(std::string_view s) noexcept {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(s[0])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[2])) << 16;
}

bool familyIsEcdsa(Algorithm a) noexcept { return a == Algorithm::kEs256 || a == Algorithm::kEs384; }

bool contains(const std::vector<std::string>& list, std::string_view value) noexcept {
  for (const std::string& s : list) {
    if (s == value) return true;
  }
  return false;
}

}  // namespace

JwtResult jwtFailure(JwtReason reason, std::string detail) { return failure(reason, std::move(detail)); }

std::optional<std::string> validateJwtConfig(const JwtConfig& c) {
  if (c.leeway < Duration{0} || c.leeway > kMaxLeeway) return "leeway must be between 0s and 24h";
  for (const auto& [name, value] : {std::pair{"max_expires_in", c.maxExpiresIn}, std::pair{"max_lifetime", c.maxLifetime}}) {
    if (value && (*value < seconds{1} || *value > kMaxLifetimeBound)) {
      return std::string(name) + " must be between 1s and 365 days";
    }
  }
  if (c.maxTokenBytes < 64 || c.maxTokenBytes > (std::size_t{1} << 20)) return "max_token_bytes must be between 64 and 1048576";
  for (const std::string& s : c.issuers) {
    if (s.empty()) return "issuers must not contain an empty string";
  }
  for (const std::string& s : c.audiences) {
    if (s.empty()) return "audiences must not contain an empty string";
  }
  for (const std::string& s : c.requiredClaims) {
    if (s.empty()) return "required_claims must not contain an empty name";
  }
  return std::nullopt;
}

JwtVerifier::JwtVerifier(KeySet keys, JwtConfig config)
    : keys_(std::move(keys)), config_(std::move(config)), leewaySeconds_(duration_cast<seconds>(config_.leeway).count()) {
  assert(!validateJwtConfig(config_).has_value());
  assert(!keys_.empty());
  // Everything that can change an outcome, in one string; hashed once.
  std::string id;
  const auto field = [&id](std::string_view s) {
    id += std::to_string(s.size());
    id.push_back(':');
    id += s;
  };
  for (const VerificationKey& k : keys_.keys()) {
    const Hash128 f = k.fingerprint();
    field(std::to_string(f.lo) + "/" + std::to_string(f.hi));
  }
  field(std::to_string(leewaySeconds_));
  for (const auto* list : {&config_.issuers, &config_.audiences, &config_.requiredClaims}) {
    field(std::to_string(list->size()));
    for (const std::string& s : *list) field(s);
  }
  field(config_.maxExpiresIn ? std::to_string(duration_cast<seconds>(*config_.maxExpiresIn).count()) : "-");
  field(config_.maxLifetime ? std::to_string(duration_cast<seconds>(*config_.maxLifetime).count()) : "-");
  fingerprint_ = hash128(id);
}

JwtResult JwtVerifier::verify(std::string_view token, TimePoint now) const { return run(token, now, nullptr); }

JwtResult JwtVerifier::verify(std::string_view token, TimePoint now, VerifiedTokenCache& cache) const {
  return run(token, now, &cache);
}

JwtResult JwtVerifier::run(std::string_view token, TimePoint nowPoint, VerifiedTokenCache* cache) const {
  const std::int64_t now = floorSeconds(nowPoint);

  // 1. Size and shape.
  if (token.empty()) return failure(JwtReason::kMalformed, "empty token");
  if (token.size() > config_.maxTokenBytes) {
    return failure(JwtReason::kMalformed,
                   "token is " + std::to_string(token.size()) + " bytes; at most " + std::to_string(config_.maxTokenBytes) + " allowed");
  }
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    std::size_t dots = 0;
    for (char c : token) dots += c == '.' ? 1 : 0;
    return failure(JwtReason::kMalformed, dots == 4 ? "5 segments: an encrypted token (JWE), not supported"
                                                    : std::to_string(dots + 1) + " segment(s); a JWS has 3");
  }
  const std::string_view headerText = token.substr(0, dot1);
  const std::string_view payloadText = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signatureText = token.substr(dot2 + 1);
  if (headerText.empty() || payloadText.empty()) return failure(JwtReason::kMalformed, "empty header or payload segment");

  if (cache != nullptr) {
    if (std::shared_ptr<const VerifiedToken> known = cache->find(token, signatureText, fingerprint_)) {
      if (auto refused = checkTimes(*known, config_, leewaySeconds_, now)) {
        refused->cacheHit = true;
        return std::move(*refused);
      }
      JwtResult r;
      r.token = std::move(known);
      r.cacheHit = true;
      return r;
    }
  }

  // 2. Header. With a cache, its scratch buffers are reused (no allocation once warm).
  std::optional<VerifiedTokenCache::Scratch> own;
  VerifiedTokenCache::Scratch& work = cache != nullptr ? cache->scratch() : own.emplace();
  std::string& decoded = work.header;
  decoded.clear();
  if (!decodeBase64Url(headerText, decoded)) return failure(JwtReason::kMalformed, "header is not base64url");
  std::vector<JsonMember>& members = work.members;
  std::string error;
  if (!parseJsonObject(decoded, members, error)) return failure(JwtReason::kMalformed, "header JSON: " + error);
  const JsonMember* algMember = nullptr;
  const JsonMember* kidMember = nullptr;
  for (const JsonMember& m : members) {
    if (m.name.size() == 3) {
      switch (tag3(m.name)) {
        case tag3("alg"): algMember = &m; break;
        case tag3("kid"): kidMember = &m; break;
        default: break;
      }
    } else if (std::string_view(m.name) == "crit"sv) {
      // RFC 7515 §4.1.11: extensions listed in crit must be understood; gatelab implements none.
      return failure(JwtReason::kMalformed, "header has crit; no critical extension is supported");
    }
  }
  if (algMember == nullptr) return failure(JwtReason::kMalformed, "header has no alg");
  if (algMember->type != JsonType::kString) return failure(JwtReason::kMalformed, "header alg is not a string");
  if (kidMember != nullptr && kidMember->type != JsonType::kString) {
    return failure(JwtReason::kMalformed, "header kid is not a string");
  }

  // 3. Algorithm.
  const std::optional<Algorithm> alg = algorithmFromName(algMember->text);
  if (!alg) {
    std::string lower;
    for (char c : algMember->text) lower.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    if (lower == "none") return failure(JwtReason::kUnsupportedAlg, "alg none (an unsecured token) is never accepted");
    return failure(JwtReason::kUnsupportedAlg, "alg \"" + printable(algMember->text) + "\" is not one of " + algorithmNames());
  }

  // 4. Key.
  std::optional<std::string_view> kid;
  if (kidMember != nullptr) kid = kidMember->text;
  const KeyMatch match = keys_.find(kid, *alg);
  switch (match.lookup) {
    case KeyLookup::kFound: break;
    case KeyLookup::kUnknownKid:
      return failure(JwtReason::kUnknownKid, "kid \"" + printable(*kid) + "\" names no key");
    case KeyLookup::kAlgorithmMismatch:
      return failure(JwtReason::kAlgMismatch, "kid \"" + printable(*kid) + "\" names a key bound to " +
                                                  toString(match.key->algorithm()) + ", the token says " + toString(*alg));
    case KeyLookup::kNoKeyForAlgorithm:
      return failure(JwtReason::kAlgMismatch, std::string("no key is bound to ") + toString(*alg));
    case KeyLookup::kAmbiguous:
      return failure(JwtReason::kUnknownKid, "the token has no kid and " + std::to_string(match.candidates) + " keys are bound to " +
                                                 toString(*alg));
  }
  const VerificationKey& key = *match.key;

  // 5. Signature. The payload is only parsed once the signature holds.
  std::string& payload = work.payload;
  payload.clear();
  if (!decodeBase64Url(payloadText, payload)) return failure(JwtReason::kMalformed, "payload is not base64url");
  decoded.clear();
  if (!decodeBase64Url(signatureText, decoded)) return failure(JwtReason::kMalformed, "signature is not base64url");
  if (decoded.size() != key.signatureSize()) {
    return failure(JwtReason::kBadSignature, std::string(toString(*alg)) + " signature is " + std::to_string(decoded.size()) +
                                                 " bytes; key \"" + printable(key.kid()) + "\" makes " +
                                                 std::to_string(key.signatureSize()) +
                                                 (familyIsEcdsa(*alg) ? " (JWS ECDSA signatures are R || S, not DER)" : ""));
  }
  if (!key.verify(token.substr(0, dot2), decoded, cache != nullptr ? &work.hmac : nullptr)) {
    return failure(JwtReason::kBadSignature,
                   std::string(toString(*alg)) + " signature does not verify with key \"" + printable(key.kid()) + "\"");
  }

  // 6. Claims.
  if (!parseJsonObject(payload, members, error)) return failure(JwtReason::kMalformed, "claims JSON: " + error);
  auto verified = std::make_shared<VerifiedToken>();
  verified->algorithm = *alg;
  verified->kid = key.kid();
  const JsonMember* iss = nullptr;
  const JsonMember* aud = nullptr;
  for (const JsonMember& m : members) {
    if (m.name.size() != 3) continue;  // every registered claim looked at here has a 3-letter name
    std::optional<std::int64_t>* date = nullptr;
    switch (tag3(m.name)) {
      case tag3("exp"): date = &verified->exp; break;
      case tag3("nbf"): date = &verified->nbf; break;
      case tag3("iat"): date = &verified->iat; break;
      case tag3("iss"): iss = &m; break;
      case tag3("aud"): aud = &m; break;
      default: break;
    }
    if (date == nullptr) continue;
    if (m.type != JsonType::kNumber) return failure(JwtReason::kMalformed, m.name + " is not a number (NumericDate)");
    *date = numericDate(m.text, date == &verified->nbf ? Round::kUp : Round::kDown);
    if (!*date) return failure(JwtReason::kMalformed, m.name + " is out of range");
  }
  if (!config_.issuers.empty() && iss != nullptr && iss->type != JsonType::kString) {
    return failure(JwtReason::kMalformed, "iss is not a string");
  }
  if (!config_.audiences.empty() && aud != nullptr && aud->type != JsonType::kString && !(aud->type == JsonType::kArray && aud->stringArray)) {
    return failure(JwtReason::kMalformed, "aud is neither a string nor an array of strings");
  }

  // 7. Presence, issuer, audience.
  for (const std::string& name : config_.requiredClaims) {
    if (name == "exp"sv && verified->exp) continue;  // the usual one, already found
    const JsonMember* m = findMember(members, name);
    if (m == nullptr || m->type == JsonType::kNull) {
      JwtResult r = failure(JwtReason::kMissingClaim, "required claim " + printable(name) + " is missing");
      r.description += " (" + printable(name) + ")";
      return r;
    }
  }
  const auto missing = [](std::string_view name, std::string_view why) {
    JwtResult r = failure(JwtReason::kMissingClaim, std::string(name) + " is missing; " + std::string(why));
    r.description += " (" + std::string(name) + ")";
    return r;
  };
  if (!config_.issuers.empty()) {
    if (iss == nullptr) return missing("iss", "issuers are checked");
    if (!contains(config_.issuers, iss->text)) {
      return failure(JwtReason::kIssuerMismatch, "iss \"" + printable(iss->text) + "\" is not an accepted issuer");
    }
  }
  if (!config_.audiences.empty()) {
    if (aud == nullptr) return missing("aud", "audiences are checked");
    bool accepted = false;
    if (aud->type == JsonType::kString) {
      accepted = contains(config_.audiences, aud->text);
    } else {
      for (const std::string& a : aud->strings) accepted = accepted || contains(config_.audiences, a);
    }
    if (!accepted) return failure(JwtReason::kAudienceMismatch, "aud \"" + printable(aud->text) + "\" has no accepted audience");
  }
  if (config_.maxExpiresIn && !verified->exp) return missing("exp", "max_expires_in is set");
  if (config_.maxLifetime && !verified->exp) return missing("exp", "max_lifetime is set");
  if (config_.maxLifetime && !verified->iat) return missing("iat", "max_lifetime is set");

  // Claims as text (verified_token.hpp); the members are not needed after this.
  verified->claims.reserve(members.size());
  for (JsonMember& m : members) {
    switch (m.type) {
      case JsonType::kString:
      case JsonType::kNumber:
      case JsonType::kTrue:
      case JsonType::kFalse: break;
      case JsonType::kArray:
        if (m.stringArray) break;
        continue;
      case JsonType::kNull:
      case JsonType::kObject: continue;
    }
    verified->claims.push_back(Claim{std::move(m.name), std::move(m.text)});
  }

  // 8. Time.
  if (auto refused = checkTimes(*verified, config_, leewaySeconds_, now)) return std::move(*refused);
  if (cache != nullptr) {
    std::optional<std::int64_t> usableUntil;
    if (verified->exp) usableUntil = *verified->exp + leewaySeconds_;
    cache->insert(token, signatureText, fingerprint_, verified, usableUntil, now);
  }
  JwtResult r;
  r.token = std::move(verified);
  return r;
}

// ---- WWW-Authenticate -------------------------------------------------------------------

namespace {

/// Appends `s` as the inside of an RFC 6750 quoted string: %x20-21 / %x23-5B / %x5D-7E.
void appendQuotedSafe(std::string& out, std::string_view s) {
  for (char c : s) out.push_back(c >= 0x20 && c <= 0x7E && c != '"' && c != '\\' ? c : '?');
}

}  // namespace

std::string bearerChallenge(const JwtResult& result, std::string_view realm) {
  std::string out = "Bearer";
  bool first = true;
  const auto param = [&](std::string_view name, std::string_view value) {
    out += first ? " " : ", ";
    first = false;
    out += name;
    out += "=\"";
    appendQuotedSafe(out, value);
    out += '"';
  };
  if (!realm.empty()) param("realm", realm);
  if (result.reason != JwtReason::kMissingToken && result.reason != JwtReason::kOk) {
    param("error", "invalid_token");
    param("error_description", result.description);
  }
  return out;
}

}  // namespace gatelab::core::auth
