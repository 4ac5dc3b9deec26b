// Fuzz target: JWT verification and the strict readers behind it. Never crashes on any bytes,
// and:
// - verify: a result carries a token exactly when it is ok, a refusal has a description, the
//   WWW-Authenticate value stays printable ASCII; a verified token is inside its exp / nbf; the
//   cache answers what a fresh verification answers (twice: miss, then hit);
// - the input as "header.payload", signed here with the target's HS256 secret (OpenSSL HMAC),
//   reaches the claims checks under the same invariants;
// - base64url: what decodes re-encodes to the same text (one encoding per byte string);
// - the token JSON reader against nlohmann-json: what it accepts, nlohmann accepts with the same
//   members and strings; what it refuses, nlohmann refuses too, except for its documented extra
//   rules (duplicate names, depth, member count, top level not an object, byte-order mark) and
//   nlohmann's own quirks (numbers beyond double's range refused, input cut at a NUL byte);
// - parseJwks and bearerToken take any text.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/auth/base64.hpp"
#include "gateway/core/auth/json_object.hpp"
#include "gateway/core/auth/jwk.hpp"
#include "gateway/core/auth/jwt.hpp"
#include "gateway/core/auth/token_cache.hpp"
#include "gateway/core/auth/token_source.hpp"

namespace {

using namespace gatelab::core;
using namespace gatelab::core::auth;

// The corpus tokens (tests/fuzz/corpus/jwt) are signed with this secret; NOW is their `now`.
constexpr std::string_view kSecret = "gatelab-fuzz-secret-0123456789abcdef";
constexpr std::int64_t kNow = 1'700'000'000;

const JwtVerifier& verifier() {
  static const JwtVerifier v = [] {
    KeySet keys;
    KeyResult k = makeHmacKey("", Algorithm::kHs256, kSecret, SecretEncoding::kRaw);
    if (!k.ok() || keys.add(std::move(*k.key))) std::abort();
    JwtConfig c;
    c.requiredClaims = {};
    return JwtVerifier(std::move(keys), c);
  }();
  return v;
}

void checkResult(const JwtResult& r) {
  if (r.ok() != (r.token != nullptr)) std::abort();
  if (!r.ok() && r.description.empty()) std::abort();
  for (char c : bearerChallenge(r, "fuzz")) {
    if (c < 0x20 || c > 0x7E) std::abort();
  }
  if (r.ok()) {
    const VerifiedToken& t = *r.token;
    if (t.exp && !(kNow < *t.exp)) std::abort();
    if (t.nbf && !(*t.nbf <= kNow)) std::abort();
    for (const Claim& c : t.claims) (void)t.claim(c.name);
  }
}

void checkVerify(std::string_view token) {
  const TimePoint now{std::chrono::seconds{kNow}};
  const JwtResult fresh = verifier().verify(token, now);
  checkResult(fresh);
  VerifiedTokenCache cache(4);
  for (int i = 0; i < 2; ++i) {
    const JwtResult cached = verifier().verify(token, now, cache);
    checkResult(cached);
    if (cached.reason != fresh.reason) std::abort();
    if (i == 1 && cached.ok() && !cached.cacheHit) std::abort();
  }
}

void checkSigned(std::string_view in) {
  if (in.find('.') == std::string_view::npos || in.find('.') != in.rfind('.')) return;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int macLen = 0;
  if (HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()), reinterpret_cast<const unsigned char*>(in.data()),
           in.size(), mac, &macLen) == nullptr) {
    std::abort();
  }
  std::string token(in);
  token += '.';
  token += encodeBase64Url(std::string_view(reinterpret_cast<const char*>(mac), macLen));
  checkVerify(token);
}

void checkBase64(std::string_view in) {
  std::string out;
  if (decodeBase64Url(in, out) && encodeBase64Url(out) != in) std::abort();
  out.clear();
  if (decodeBase64(in, out) && encodeBase64(out) != in) std::abort();
}

void checkJson(std::string_view in) {
  std::vector<JsonMember> members;
  std::string error;
  const bool ours = parseJsonObject(in, members, error);
  // nlohmann stops at a NUL byte as if the input ended there; a raw NUL is never valid JSON text
  // (outside strings it is not whitespace, inside it is a control character).
  if (in.find('\0') != std::string_view::npos) {
    if (ours) std::abort();
    return;
  }
  // nlohmann refuses numbers beyond double's range (out_of_range.406); RFC 8259 §9 lets a parser
  // limit ranges. The reader keeps numbers as text, and the verifier range-checks NumericDates.
  nlohmann::json j;
  bool theirs = true;
  bool rangeLimited = false;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::out_of_range&) {
    theirs = false;
    rangeLimited = true;
  } catch (const nlohmann::json::parse_error&) {
    theirs = false;
  }
  if (!ours) {
    if (error.empty()) std::abort();
    const bool stricter = error.starts_with("duplicate member name") || error.starts_with("nesting deeper") ||
                          error.starts_with("more than 256 members") || error.starts_with("expected a JSON object") ||
                          in.starts_with("\xef\xbb\xbf");
    if (theirs && !stricter) std::abort();
    return;
  }
  if (!theirs) {
    if (rangeLimited) return;
    std::abort();
  }
  if (!j.is_object() || j.size() != members.size()) std::abort();
  for (const JsonMember& m : members) {
    const auto it = j.find(m.name);
    if (it == j.end()) std::abort();
    switch (m.type) {
      case JsonType::kString:
        if (!it->is_string() || it->get<std::string>() != m.text) std::abort();
        break;
      case JsonType::kNumber:
        if (!it->is_number()) std::abort();
        break;
      case JsonType::kTrue:
      case JsonType::kFalse:
        if (!it->is_boolean() || it->get<bool>() != (m.type == JsonType::kTrue)) std::abort();
        break;
      case JsonType::kNull:
        if (!it->is_null()) std::abort();
        break;
      case JsonType::kObject:
        if (!it->is_object()) std::abort();
        break;
      case JsonType::kArray:
        if (!it->is_array()) std::abort();
        if (m.stringArray) {
          if (it->size() != m.strings.size()) std::abort();
          for (std::size_t i = 0; i < m.strings.size(); ++i) {
            if (!(*it)[i].is_string() || (*it)[i].get<std::string>() != m.strings[i]) std::abort();
          }
        }
        break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  checkVerify(in);
  checkSigned(in);
  checkBase64(in);
  checkJson(in);
  (void)parseJwks(in);
  (void)bearerToken(in);
  return 0;
}
