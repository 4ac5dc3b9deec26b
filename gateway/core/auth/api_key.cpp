#include "gateway/core/auth/api_key.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cassert>
#include <cstring>

#include "gateway/core/http_field.hpp"

namespace gatelab::core::auth {

namespace {

constexpr std::string_view kHashedPrefix = "sha256:";

int hexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isVchar(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7F;
}

std::string_view trimOws(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// Percent-decodes `in` into `out` (cleared first). False on an invalid escape.
bool percentDecode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hexValue(in[i + 1]);
    const int lo = hexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

/// The decoded form of `raw`: `raw` itself when it has no escape (no copy), else decoded into
/// `buffer`. nullopt on an invalid escape (such a parameter never matches a source).
std::optional<std::string_view> decodedView(std::string_view raw, std::string& buffer) {
  if (raw.find('%') == std::string_view::npos) return raw;
  if (!percentDecode(raw, buffer)) return std::nullopt;
  return std::string_view(buffer);
}

/// Calls fn(name, value) for each "name[=value]" parameter of `query` (raw text), in order.
template <typename Fn>
void forEachParameter(std::string_view query, Fn&& fn) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    if (!param.empty()) {
      const std::size_t eq = param.find('=');
      fn(param.substr(0, eq), eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1), param);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

/// Fetched once per process: EVP_Digest with a pre-fetched EVP_MD skips the per-call provider
/// lookup that EVP_sha256() implies in OpenSSL 3.
const EVP_MD* sha256() noexcept {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md != nullptr ? md : EVP_sha256();
}

}  // namespace

const char* toString(KeyLocation l) noexcept {
  switch (l) {
    case KeyLocation::kHeader: return "header";
    case KeyLocation::kQuery: return "query";
  }
  return "?";
}

const char* toString(ApiKeyReason r) noexcept {
  switch (r) {
    case ApiKeyReason::kOk: return "ok";
    case ApiKeyReason::kMissingKey: return "missing_key";
    case ApiKeyReason::kUnknownKey: return "unknown_key";
    case ApiKeyReason::kDuplicateKey: return "duplicate_key";
  }
  return "?";
}

KeyDigest digestApiKey(std::string_view key) noexcept {
  KeyDigest d{};
  unsigned int len = 0;
  const int ok = EVP_Digest(key.data(), key.size(), d.data(), &len, sha256(), nullptr);
  // SHA-256 over memory cannot fail short of memory exhaustion inside OpenSSL; a zero digest
  // would then match nothing real, so the request is refused, not admitted.
  assert(ok == 1 && len == d.size());
  (void)ok;
  return d;
}

bool digestEquals(const KeyDigest& a, const KeyDigest& b) noexcept {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string hashApiKey(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  const KeyDigest d = digestApiKey(key);
  std::string out(kHashedPrefix);
  for (unsigned char b : d) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

std::size_t ApiKeyAuth::DigestHash::operator()(const KeyDigest& d) const noexcept {
  std::size_t h = 0;
  std::memcpy(&h, d.data(), sizeof h);  // SHA-256 output bytes are uniformly distributed
  return h;
}

std::optional<ApiKeyAuth> ApiKeyAuth::create(ApiKeyAuthSpec spec, std::shared_ptr<const ConsumerRegistry> consumers,
                                             SpecErrors& errors) {
  assert(consumers != nullptr);
  const std::size_t before = errors.size();

  if (spec.sources.empty() || spec.sources.size() > kMaxKeySources) {
    errors.push_back({"sources", "between 1 and " + std::to_string(kMaxKeySources) + " key sources are allowed, got " +
                                     std::to_string(spec.sources.size())});
  }
  for (std::size_t i = 0; i < spec.sources.size(); ++i) {
    const KeySource& s = spec.sources[i];
    const std::string field = "sources[" + std::to_string(i) + "].name";
    if (s.location == KeyLocation::kHeader && !isToken(s.name)) {
      errors.push_back({field, "a header name must be a non-empty RFC 9110 token, got \"" + s.name + "\""});
    } else if (s.location == KeyLocation::kQuery &&
               (s.name.empty() || !std::all_of(s.name.begin(), s.name.end(), isVchar) ||
                s.name.find_first_of("&=#%") != std::string::npos)) {
      errors.push_back({field, "a query parameter name must be non-empty visible characters without & = # %, got \"" +
                                   s.name + "\""});
    }
    for (std::size_t j = 0; j < i; ++j) {
      const KeySource& o = spec.sources[j];
      const bool same = o.location == s.location &&
                        (s.location == KeyLocation::kHeader ? equalsIgnoreCase(o.name, s.name) : o.name == s.name);
      if (same) {
        errors.push_back({field, "duplicate source (also sources[" + std::to_string(j) + "])"});
        break;
      }
    }
  }

  ApiKeyAuth auth;
  auth.consumers_ = std::move(consumers);
  if (!spec.anonymous.empty()) {
    auth.anonymous_ = auth.consumers_->find(spec.anonymous);
    if (auth.anonymous_ == nullptr) {
      errors.push_back({"anonymous", "no consumer has the id \"" + spec.anonymous + "\""});
    }
  }

  std::vector<std::size_t> keyIndexOf;  // position in spec.keys of each table entry, for messages
  auth.table_.reserve(spec.keys.size());
  for (std::size_t i = 0; i < spec.keys.size(); ++i) {
    const ApiKeySpec& k = spec.keys[i];
    const std::string field = "keys[" + std::to_string(i) + "]";
    const Consumer* consumer = auth.consumers_->find(k.consumer);
    if (consumer == nullptr) {
      errors.push_back({field + ".consumer", "no consumer has the id \"" + k.consumer + "\""});
    }
    if (!k.id.empty() && !isSafeFieldValue(k.id)) {
      errors.push_back({field + ".id", "a credential id may not contain control characters"});
    }
    KeyDigest digest{};
    if (std::string_view(k.key).starts_with(kHashedPrefix)) {
      const std::string_view hex = std::string_view(k.key).substr(kHashedPrefix.size());
      bool ok = hex.size() == 2 * digest.size();
      for (std::size_t b = 0; ok && b < digest.size(); ++b) {
        const int hi = hexValue(hex[2 * b]);
        const int lo = hexValue(hex[2 * b + 1]);
        ok = hi >= 0 && lo >= 0;
        if (ok) digest[b] = static_cast<unsigned char>(hi * 16 + lo);
      }
      if (!ok) {
        errors.push_back({field + ".key", "a hashed key is \"sha256:\" followed by exactly 64 hex digits"});
        continue;
      }
    } else {
      if (k.key.empty()) {
        errors.push_back({field + ".key", "a key may not be empty"});
        continue;
      }
      if (k.key.size() > kMaxApiKeyBytes) {
        errors.push_back({field + ".key", "a key may be at most " + std::to_string(kMaxApiKeyBytes) + " bytes long"});
        continue;
      }
      if (!std::all_of(k.key.begin(), k.key.end(), isVchar)) {
        errors.push_back({field + ".key", "a key may hold visible ASCII characters only (no spaces or controls)"});
        continue;
      }
      digest = digestApiKey(k.key);
    }
    if (consumer == nullptr) continue;
    const auto [it, inserted] = auth.table_.try_emplace(digest, Credential{consumer, k.id});
    if (!inserted) {
      errors.push_back({field + ".key", "the same key as another entry (consumer \"" + it->second.consumer->id +
                                            "\"); a key must identify one credential"});
    }
  }
  if (errors.size() != before) return std::nullopt;

  for (ApiKeySpec& k : spec.keys) {
    // Drop the secrets: only digests are kept. (Best effort; std::string may have copied them.)
    std::fill(k.key.begin(), k.key.end(), '\0');
  }
  spec.keys.clear();
  auth.spec_ = std::move(spec);
  return auth;
}

const ApiKeyAuth::Credential* ApiKeyAuth::lookup(std::string_view key) const noexcept {
  if (key.empty() || key.size() > kMaxApiKeyBytes) return nullptr;
  const auto it = table_.find(digestApiKey(key));
  return it == table_.end() ? nullptr : &it->second;
}

ApiKeyResult ApiKeyAuth::authenticate(const RequestView& request) const {
  ApiKeyResult result;
  bool decided = false;
  std::string nameBuffer;
  std::string valueBuffer;
  std::string keyBuffer;  // owns a decoded query key until it is looked up

  for (const KeySource& source : spec_.sources) {
    std::size_t found = 0;  // non-empty values in this source
    bool present = false;   // any occurrence, empty ones included (for hiding)
    std::string_view key;
    if (source.location == KeyLocation::kHeader) {
      for (const Header& h : request.headers) {
        if (!equalsIgnoreCase(h.name, source.name)) continue;
        present = true;
        const std::string_view v = trimOws(h.value);
        if (v.empty()) continue;
        if (found++ == 0) key = v;
      }
    } else {
      forEachParameter(request.query, [&](std::string_view rawName, std::string_view rawValue, std::string_view) {
        const std::optional<std::string_view> name = decodedView(rawName, nameBuffer);
        if (!name || *name != source.name) return;
        present = true;
        const std::optional<std::string_view> value = decodedView(rawValue, valueBuffer);
        // An undecodable value is still a key the client sent: it can only be unknown.
        const std::string_view v = value ? *value : rawValue;
        if (v.empty()) return;
        if (found++ == 0) {
          keyBuffer.assign(v);
          key = keyBuffer;
        }
      });
    }
    if (present && spec_.hideCredentials) result.hide.push_back({source.location, source.name});
    if (!decided && found > 0) {
      decided = true;
      if (found > 1) {
        result.reason = ApiKeyReason::kDuplicateKey;
      } else if (const Credential* c = lookup(key)) {
        result.reason = ApiKeyReason::kOk;
        result.consumer = c->consumer;
        result.credential = c->id;
      } else {
        result.reason = ApiKeyReason::kUnknownKey;
      }
    }
    if (decided && !spec_.hideCredentials) break;
  }
  if (result.reason != ApiKeyReason::kOk && anonymous_ != nullptr) {
    result.consumer = anonymous_;
    result.anonymous = true;
  }
  return result;
}

std::string apiKeyChallenge(std::string_view realm) {
  std::string out = "Key realm=\"";
  for (char c : realm) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back((u < 0x20 || u >= 0x7F || c == '"' || c == '\\') ? '?' : c);
  }
  out.push_back('"');
  return out;
}

std::string removeQueryParameters(std::string_view query, std::span<const std::string_view> names) {
  std::string out;
  out.reserve(query.size());
  std::string buffer;
  forEachParameter(query, [&](std::string_view rawName, std::string_view, std::string_view param) {
    const std::optional<std::string_view> name = decodedView(rawName, buffer);
    if (name && std::find(names.begin(), names.end(), *name) != names.end()) return;
    if (!out.empty()) out.push_back('&');
    out.append(param);
  });
  return out;
}

}  // namespace gatelab::core::auth
