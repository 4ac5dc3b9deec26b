// Key material and JWKS parsing. Everything here runs at config load except
// VerificationKey::verify, which is on the request path and must not throw or allocate beyond
// OpenSSL's per-call contexts.
#include "gateway/core/auth/jwk.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>
#include <nlohmann/json.hpp>
#include <utility>

#include "gateway/core/auth/base64.hpp"

namespace gatelab::core::auth {

// ---- OpenSSL ownership -------------------------------------------------------------------

namespace {

struct PkeyFree { void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); } };
struct PkeyCtxFree { void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); } };
struct MdCtxFree { void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); } };
struct MacFree { void operator()(EVP_MAC* p) const noexcept { EVP_MAC_free(p); } };
struct MacCtxFree { void operator()(EVP_MAC_CTX* p) const noexcept { EVP_MAC_CTX_free(p); } };
struct BioFree { void operator()(BIO* p) const noexcept { BIO_free(p); } };
struct X509Free { void operator()(X509* p) const noexcept { X509_free(p); } };
struct BnFree { void operator()(BIGNUM* p) const noexcept { BN_free(p); } };
struct ParamBldFree { void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); } };
struct ParamFree { void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); } };
struct EcdsaSigFree { void operator()(ECDSA_SIG* p) const noexcept { ECDSA_SIG_free(p); } };

using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using MacPtr = std::unique_ptr<EVP_MAC, MacFree>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamFree>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;

const unsigned char* bytes(std::string_view s) noexcept { return reinterpret_cast<const unsigned char*>(s.data()); }

enum class Family : std::uint8_t { kHmac, kRsa, kEc, kEd25519 };

Family familyOf(Algorithm a) noexcept {
  switch (a) {
    case Algorithm::kHs256:
    case Algorithm::kHs384:
    case Algorithm::kHs512: return Family::kHmac;
    case Algorithm::kRs256:
    case Algorithm::kRs384:
    case Algorithm::kRs512: return Family::kRsa;
    case Algorithm::kEs256:
    case Algorithm::kEs384: return Family::kEc;
    case Algorithm::kEdDsa: return Family::kEd25519;
  }
  return Family::kHmac;
}

/// OpenSSL digest name; nullptr for EdDSA (Ed25519 hashes internally).
const char* digestOf(Algorithm a) noexcept {
  switch (a) {
    case Algorithm::kHs256:
    case Algorithm::kRs256:
    case Algorithm::kEs256: return "SHA256";
    case Algorithm::kHs384:
    case Algorithm::kRs384:
    case Algorithm::kEs384: return "SHA384";
    case Algorithm::kHs512:
    case Algorithm::kRs512: return "SHA512";
    case Algorithm::kEdDsa: return nullptr;
  }
  return nullptr;
}

/// HMAC output size, which is also the minimum secret size (RFC 7518 §3.2).
std::size_t hmacBytes(Algorithm a) noexcept {
  switch (a) {
    case Algorithm::kHs384: return 48;
    case Algorithm::kHs512: return 64;
    default: return 32;
  }
}

/// ECDSA: the curve (OpenSSL NID) and coordinate size an ES algorithm requires.
int curveNidOf(Algorithm a) noexcept { return a == Algorithm::kEs384 ? NID_secp384r1 : NID_X9_62_prime256v1; }
std::size_t coordinateBytes(Algorithm a) noexcept { return a == Algorithm::kEs384 ? 48 : 32; }
const char* curveJwkName(Algorithm a) noexcept { return a == Algorithm::kEs384 ? "P-384" : "P-256"; }

constexpr int kMinRsaBits = 2048;

}  // namespace

struct KeyMaterial {
  Family family = Family::kHmac;
  const char* digest = nullptr;  ///< static string
  /// HMAC: a MAC context initialised with the secret; each verify() works on a copy of it (or on
  /// an HmacScratch's long-lived copy), so the key schedule is computed once and the template is
  /// only ever read.
  MacCtxPtr macTemplate;
  PkeyPtr pkey;               ///< RSA / EC / Ed25519 public key
  std::size_t signatureBytes = 0;  ///< the only accepted signature length
  Hash128 fingerprint;
  std::string description;
};

// ---- names --------------------------------------------------------------------------------

const char* toString(Algorithm a) noexcept {
  switch (a) {
    case Algorithm::kHs256: return "HS256";
    case Algorithm::kHs384: return "HS384";
    case Algorithm::kHs512: return "HS512";
    case Algorithm::kRs256: return "RS256";
    case Algorithm::kRs384: return "RS384";
    case Algorithm::kRs512: return "RS512";
    case Algorithm::kEs256: return "ES256";
    case Algorithm::kEs384: return "ES384";
    case Algorithm::kEdDsa: return "EdDSA";
  }
  return "unknown";
}

std::optional<Algorithm> algorithmFromName(std::string_view name) noexcept {
  for (Algorithm a : kAllAlgorithms) {
    if (name == toString(a)) return a;
  }
  return std::nullopt;
}

bool isHmac(Algorithm a) noexcept { return familyOf(a) == Family::kHmac; }

std::string algorithmNames() {
  std::string out;
  for (Algorithm a : kAllAlgorithms) {
    if (!out.empty()) out += ", ";
    out += toString(a);
  }
  return out;
}

const char* toString(SecretEncoding e) noexcept {
  switch (e) {
    case SecretEncoding::kRaw: return "raw";
    case SecretEncoding::kBase64: return "base64";
    case SecretEncoding::kBase64Url: return "base64url";
  }
  return "unknown";
}

// ---- VerificationKey ---------------------------------------------------------------------------

VerificationKey::VerificationKey(std::string kid, Algorithm algorithm, std::shared_ptr<const KeyMaterial> material)
    : kid_(std::move(kid)), algorithm_(algorithm), material_(std::move(material)) {}

std::string VerificationKey::description() const { return material_->description; }

Hash128 VerificationKey::fingerprint() const noexcept { return material_->fingerprint; }

std::size_t VerificationKey::signatureSize() const noexcept { return material_->signatureBytes; }

namespace {

/// The tag of `input` under the key whose schedule `ctx` holds (freshly initialised), compared
/// with `signature` in constant time.
bool finishHmac(EVP_MAC_CTX* ctx, std::size_t signatureBytes, std::string_view input, std::string_view signature) noexcept {
  unsigned char tag[EVP_MAX_MD_SIZE];
  std::size_t tagLen = 0;
  if (EVP_MAC_update(ctx, bytes(input), input.size()) != 1 || EVP_MAC_final(ctx, tag, &tagLen, sizeof tag) != 1 ||
      tagLen != signatureBytes) {
    ERR_clear_error();
    return false;
  }
  return CRYPTO_memcmp(tag, signature.data(), tagLen) == 0;
}

bool verifyHmac(const KeyMaterial& m, std::string_view input, std::string_view signature, EVP_MAC_CTX* reusable) noexcept {
  if (signature.size() != m.signatureBytes) return false;
  // A reusable context already holds the key: init with no key restarts it from the stored
  // schedule (OpenSSL's HMAC keeps the key when none is given).
  if (reusable != nullptr && EVP_MAC_init(reusable, nullptr, 0, nullptr) == 1) {
    return finishHmac(reusable, m.signatureBytes, input, signature);
  }
  MacCtxPtr ctx(EVP_MAC_CTX_dup(m.macTemplate.get()));
  if (!ctx) {
    ERR_clear_error();
    return false;
  }
  return finishHmac(ctx.get(), m.signatureBytes, input, signature);
}

/// JWS ECDSA signatures are R || S, each left-padded to the coordinate size (RFC 7518 §3.4);
/// OpenSSL verifies the DER ECDSA-Sig-Value. Returns the DER length, 0 on failure.
int ecdsaRawToDer(std::string_view raw, unsigned char* der, std::size_t derCapacity) noexcept {
  const std::size_t half = raw.size() / 2;
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BnPtr r(BN_bin2bn(bytes(raw), static_cast<int>(half), nullptr));
  BnPtr s(BN_bin2bn(bytes(raw) + half, static_cast<int>(half), nullptr));
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return 0;
  (void)r.release();  // owned by sig now
  (void)s.release();
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0 || static_cast<std::size_t>(len) > derCapacity) return 0;
  unsigned char* p = der;
  return i2d_ECDSA_SIG(sig.get(), &p);
}

bool verifyAsymmetric(const KeyMaterial& m, std::string_view input, std::string_view signature) noexcept {
  if (signature.size() != m.signatureBytes) return false;
  // ES384's DER signature is at most 2 * (2 + 1 + 48) + 3 bytes.
  unsigned char der[160];
  const unsigned char* sig = bytes(signature);
  std::size_t sigLen = signature.size();
  if (m.family == Family::kEc) {
    const int len = ecdsaRawToDer(signature, der, sizeof der);
    if (len <= 0) {
      ERR_clear_error();
      return false;
    }
    sig = der;
    sigLen = static_cast<std::size_t>(len);
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ok = ctx && EVP_DigestVerifyInit_ex(ctx.get(), nullptr, m.digest, nullptr, nullptr, m.pkey.get(), nullptr) == 1 &&
                  EVP_DigestVerify(ctx.get(), sig, sigLen, bytes(input), input.size()) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

}  // namespace

struct HmacScratch::Slot {
  std::shared_ptr<const KeyMaterial> material;  ///< keeps the pointer compared below valid
  MacCtxPtr ctx;
};

HmacScratch::HmacScratch() = default;
HmacScratch::~HmacScratch() = default;
HmacScratch::HmacScratch(HmacScratch&&) noexcept = default;
HmacScratch& HmacScratch::operator=(HmacScratch&&) noexcept = default;

HmacScratch::Slot* HmacScratch::slotFor(const std::shared_ptr<const KeyMaterial>& material) noexcept {
  for (const std::unique_ptr<Slot>& s : slots_) {
    if (s->material == material) return s.get();
  }
  if (slots_.size() >= kMaxKeys) return nullptr;
  try {
    auto slot = std::make_unique<Slot>();
    slot->ctx.reset(EVP_MAC_CTX_dup(material->macTemplate.get()));
    if (!slot->ctx) {
      ERR_clear_error();
      return nullptr;
    }
    slot->material = material;
    slots_.push_back(std::move(slot));
    return slots_.back().get();
  } catch (const std::bad_alloc&) {
    return nullptr;  // the check still runs, on a copy of the key's context
  }
}

bool VerificationKey::verify(std::string_view signingInput, std::string_view signature, HmacScratch* scratch) const noexcept {
  if (signingInput.size() > static_cast<std::size_t>(INT_MAX)) return false;
  if (material_->family != Family::kHmac) return verifyAsymmetric(*material_, signingInput, signature);
  HmacScratch::Slot* slot = scratch != nullptr ? scratch->slotFor(material_) : nullptr;
  return verifyHmac(*material_, signingInput, signature, slot != nullptr ? slot->ctx.get() : nullptr);
}

// ---- building keys ---------------------------------------------------------------------------

namespace {

Hash128 sha256Fingerprint(Algorithm alg, std::string_view kid, std::string_view keyBytes) {
  std::string buf;
  buf.reserve(16 + kid.size() + keyBytes.size());
  buf += toString(alg);
  buf.push_back('\0');
  buf += kid;
  buf.push_back('\0');
  buf += keyBytes;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdLen = 0;
  Hash128 h;
  if (EVP_Digest(buf.data(), buf.size(), md, &mdLen, EVP_sha256(), nullptr) == 1 && mdLen >= 16) {
    for (int i = 0; i < 8; ++i) {
      h.lo = (h.lo << 8) | md[i];
      h.hi = (h.hi << 8) | md[8 + i];
    }
  } else {
    ERR_clear_error();
    h = hash128(buf);  // still a content fingerprint; only the cache depends on it
  }
  OPENSSL_cleanse(buf.data(), buf.size());
  return h;
}

KeyResult fail(std::string message) {
  ERR_clear_error();
  return KeyResult{std::nullopt, std::move(message)};
}

std::string lastOpenSslError() {
  const unsigned long e = ERR_peek_last_error();
  if (e == 0) return {};
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

/// What `pkey` is, in words ("RSA 1024-bit public key", "EC secp521r1 public key").
std::string describePkey(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA")) return "RSA " + std::to_string(EVP_PKEY_get_bits(pkey)) + "-bit public key";
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[80] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(pkey, group, sizeof group, &len) != 1) return "EC public key (explicit curve parameters)";
    const int nid = OBJ_sn2nid(group);
    if (nid == NID_X9_62_prime256v1) return "EC P-256 public key";
    if (nid == NID_secp384r1) return "EC P-384 public key";
    return std::string("EC ") + group + " public key";
  }
  if (EVP_PKEY_is_a(pkey, "ED25519")) return "Ed25519 public key";
  if (EVP_PKEY_is_a(pkey, "ED448")) return "Ed448 public key";
  if (EVP_PKEY_is_a(pkey, "RSA-PSS")) return "RSA-PSS public key";
  const char* name = EVP_PKEY_get0_type_name(pkey);
  return std::string(name != nullptr ? name : "unknown") + " public key";
}

/// What `alg` needs, in words.
std::string requirementOf(Algorithm alg) {
  switch (familyOf(alg)) {
    case Family::kHmac: return "an HMAC secret";
    case Family::kRsa: return "an RSA public key of at least 2048 bits";
    case Family::kEc: return std::string("an EC ") + curveJwkName(alg) + " public key";
    case Family::kEd25519: return "an Ed25519 public key";
  }
  return {};
}

/// Checks that `pkey` fits `alg`, validates it, and wraps it. `what` names the key in messages.
KeyResult finishPublicKey(std::string kid, Algorithm alg, PkeyPtr pkey) {
  const Family family = familyOf(alg);
  bool fits = false;
  switch (family) {
    case Family::kHmac: break;
    case Family::kRsa: fits = EVP_PKEY_is_a(pkey.get(), "RSA") && EVP_PKEY_get_bits(pkey.get()) >= kMinRsaBits; break;
    case Family::kEc: {
      char group[80] = {};
      std::size_t len = 0;
      fits = EVP_PKEY_is_a(pkey.get(), "EC") && EVP_PKEY_get_group_name(pkey.get(), group, sizeof group, &len) == 1 &&
             OBJ_sn2nid(group) == curveNidOf(alg);
      break;
    }
    case Family::kEd25519: fits = EVP_PKEY_is_a(pkey.get(), "ED25519"); break;
  }
  if (!fits) {
    return fail(std::string("algorithm ") + toString(alg) + " needs " + requirementOf(alg) + "; got " + describePkey(pkey.get()));
  }
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  const int valid = check ? EVP_PKEY_public_check(check.get()) : 0;
  if (valid != 1 && valid != -2) {  // -2: no check for this key type
    return fail("invalid " + describePkey(pkey.get()) + " (" + lastOpenSslError() + ")");
  }
  unsigned char* der = nullptr;
  const int derLen = i2d_PUBKEY(pkey.get(), &der);
  if (derLen <= 0) return fail("cannot encode the public key (" + lastOpenSslError() + ")");
  const std::string_view derView(reinterpret_cast<const char*>(der), static_cast<std::size_t>(derLen));
  auto m = std::make_shared<KeyMaterial>();
  m->family = family;
  m->digest = digestOf(alg);
  m->fingerprint = sha256Fingerprint(alg, kid, derView);
  OPENSSL_free(der);
  m->description = describePkey(pkey.get());
  switch (family) {
    case Family::kRsa: m->signatureBytes = static_cast<std::size_t>(EVP_PKEY_get_size(pkey.get())); break;
    case Family::kEc: m->signatureBytes = 2 * coordinateBytes(alg); break;
    case Family::kEd25519: m->signatureBytes = 64; break;
    case Family::kHmac: break;
  }
  m->pkey = std::move(pkey);
  return KeyResult{VerificationKey(std::move(kid), alg, std::move(m)), {}};
}

KeyResult makeHmacFromBytes(std::string kid, Algorithm alg, std::string_view secret) {
  if (!isHmac(alg)) return fail(std::string("algorithm ") + toString(alg) + " needs " + requirementOf(alg) + ", not an HMAC secret");
  const std::size_t need = hmacBytes(alg);
  if (secret.size() < need) {
    return fail(std::string("an ") + toString(alg) + " secret must be at least " + std::to_string(need) +
                " bytes (RFC 7518 section 3.2); this one has " + std::to_string(secret.size()));
  }
  MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  MacCtxPtr ctx(mac ? EVP_MAC_CTX_new(mac.get()) : nullptr);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digestOf(alg)), 0),
      OSSL_PARAM_construct_end()};
  if (!ctx || EVP_MAC_init(ctx.get(), bytes(secret), secret.size(), params) != 1) {
    return fail("OpenSSL cannot set up HMAC (" + lastOpenSslError() + ")");
  }
  auto m = std::make_shared<KeyMaterial>();
  m->family = Family::kHmac;
  m->digest = digestOf(alg);
  m->macTemplate = std::move(ctx);
  m->signatureBytes = hmacBytes(alg);
  m->fingerprint = sha256Fingerprint(alg, kid, secret);
  m->description = "HMAC secret (" + std::to_string(secret.size()) + " bytes)";
  return KeyResult{VerificationKey(std::move(kid), alg, std::move(m)), {}};
}

}  // namespace

KeyResult makeHmacKey(std::string kid, Algorithm algorithm, std::string_view secret, SecretEncoding encoding) {
  std::string decoded;
  switch (encoding) {
    case SecretEncoding::kRaw: decoded.assign(secret); break;
    case SecretEncoding::kBase64:
      if (!decodeBase64(secret, decoded)) {
        return fail("the secret is not valid base64 (standard alphabet A-Z a-z 0-9 + /, '=' padding to a multiple of 4)");
      }
      break;
    case SecretEncoding::kBase64Url:
      if (!decodeBase64Url(secret, decoded)) {
        return fail("the secret is not valid base64url (alphabet A-Z a-z 0-9 - _, no padding)");
      }
      break;
  }
  KeyResult r = makeHmacFromBytes(std::move(kid), algorithm, decoded);
  OPENSSL_cleanse(decoded.data(), decoded.size());
  return r;
}

KeyResult makePemKey(std::string kid, Algorithm algorithm, std::string_view pem) {
  if (isHmac(algorithm)) {
    return fail(std::string("algorithm ") + toString(algorithm) + " needs an HMAC secret, not a PEM key");
  }
  if (pem.find("PRIVATE KEY-----") != std::string_view::npos) {
    return fail("this is a private key; the gateway needs only the public key (openssl pkey -pubout)");
  }
  if (pem.size() > static_cast<std::size_t>(INT_MAX)) return fail("PEM text too large");
  ERR_clear_error();
  PkeyPtr pkey;
  {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (bio) pkey.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  }
  if (!pkey) {
    ERR_clear_error();
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (cert) pkey.reset(X509_get_pubkey(cert.get()));
  }
  if (!pkey) {
    return fail("expected a PEM public key (-----BEGIN PUBLIC KEY-----) or certificate (-----BEGIN CERTIFICATE-----)");
  }
  return finishPublicKey(std::move(kid), algorithm, std::move(pkey));
}

// ---- JWKS ------------------------------------------------------------------------------------

namespace {

using Json = nlohmann::json;

/// Collects one JWK's problems under its position and kid.
class JwkReader {
 public:
  JwkReader(const Json& jwk, std::string where, const JwksOptions& options) : jwk_(jwk), where_(std::move(where)), options_(options) {}

  /// Appends the key, an error, or a skip note to `out`.
  void read(JwksResult& out) {
    if (!jwk_.is_object()) {
      out.errors.push_back(where_ + ": a JWK must be a JSON object");
      return;
    }
    std::string kid;
    if (const Json* k = member("kid")) {
      if (!k->is_string()) return error(out, "\"kid\" must be a string");
      kid = k->get<std::string>();
      where_ += " (kid \"" + printable(kid) + "\")";
    }
    const Json* kty = member("kty");
    if (kty == nullptr) return error(out, "\"kty\" is missing; allowed: RSA, EC, OKP, oct");
    if (!kty->is_string()) return error(out, "\"kty\" must be a string; allowed: RSA, EC, OKP, oct");
    const std::string type = kty->get<std::string>();

    if (const Json* use = member("use")) {
      if (!use->is_string()) return error(out, "\"use\" must be a string (\"sig\" or \"enc\")");
      if (use->get<std::string>() != "sig") return skip(out, "\"use\" is \"" + printable(use->get<std::string>()) + "\", not \"sig\"");
    }
    if (const Json* ops = member("key_ops")) {
      if (!ops->is_array() || !std::all_of(ops->begin(), ops->end(), [](const Json& o) { return o.is_string(); })) {
        return error(out, "\"key_ops\" must be an array of strings");
      }
      if (std::none_of(ops->begin(), ops->end(), [](const Json& o) { return o.get<std::string>() == "verify"; })) {
        return skip(out, "\"key_ops\" does not include \"verify\"");
      }
    }
    std::optional<Algorithm> alg;
    if (const Json* a = member("alg")) {
      if (!a->is_string()) return error(out, "\"alg\" must be a string; allowed: " + algorithmNames());
      alg = algorithmFromName(a->get<std::string>());
      if (!alg) return skip(out, "\"alg\" " + printable(a->get<std::string>()) + " is not verified by gatelab (supported: " + algorithmNames() + ")");
    }
    if (type != "oct") {
      for (const char* priv : {"d", "p", "q", "dp", "dq", "qi", "oth"}) {
        if (member(priv) != nullptr) {
          return error(out, std::string("contains the private key member \"") + priv +
                                "\"; the gateway needs public keys only (publish the public JWKS)");
        }
      }
    }
    KeyResult key;
    if (type == "RSA") {
      key = rsa(std::move(kid), alg);
    } else if (type == "EC") {
      key = ec(std::move(kid), alg, out);
    } else if (type == "OKP") {
      key = okp(std::move(kid), alg, out);
    } else if (type == "oct") {
      key = oct(std::move(kid), alg);
    } else {
      return skip(out, "kty \"" + printable(type) + "\" is not supported (supported: RSA, EC, OKP, oct)");
    }
    if (skipped_) return;
    if (!key.ok()) return error(out, key.error);
    out.keys.push_back(std::move(*key.key));
  }

 private:
  const Json* member(const char* name) const {
    const auto it = jwk_.find(name);
    return it == jwk_.end() ? nullptr : &*it;
  }

  static std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7F && c != '"' && c != '\\' ? c : '?');
    if (s.size() > 64) out += "...";
    return out;
  }

  void error(JwksResult& out, const std::string& message) { out.errors.push_back(where_ + ": " + message); }
  void skip(JwksResult& out, const std::string& why) {
    skipped_ = true;
    out.skipped.push_back(where_ + ": skipped: " + why);
  }

  /// A required base64url member, decoded; on failure `problem_` says why.
  std::optional<std::string> octets(const char* name) {
    const Json* m = member(name);
    if (m == nullptr) {
      problem_ = std::string("\"") + name + "\" is missing";
      return std::nullopt;
    }
    if (!m->is_string()) {
      problem_ = std::string("\"") + name + "\" must be a base64url string";
      return std::nullopt;
    }
    std::string decoded;
    if (!decodeBase64Url(m->get_ref<const std::string&>(), decoded) || decoded.empty()) {
      problem_ = std::string("\"") + name + "\" is not valid base64url (alphabet A-Z a-z 0-9 - _, no padding)";
      return std::nullopt;
    }
    return decoded;
  }

  /// The algorithm for a kty whose JWKs may omit "alg" only with a default.
  std::optional<Algorithm> pick(std::optional<Algorithm> alg, Family family, const char* kty, const char* choices) {
    if (alg) {
      if (familyOf(*alg) != family) {
        problem_ = std::string("\"alg\" ") + toString(*alg) + " does not fit kty " + kty + " (allowed: " + choices + ")";
        return std::nullopt;
      }
      return alg;
    }
    if (options_.defaultAlgorithm && familyOf(*options_.defaultAlgorithm) == family) return options_.defaultAlgorithm;
    problem_ = std::string("\"alg\" is missing and kty ") + kty + " allows " + choices +
               "; set \"alg\" in the JWK or a default algorithm in the config";
    return std::nullopt;
  }

  KeyResult rsa(std::string kid, std::optional<Algorithm> alg) {
    const auto a = pick(alg, Family::kRsa, "RSA", "RS256, RS384, RS512");
    if (!a) return fail(problem_);
    const auto n = octets("n");
    if (!n) return fail(problem_);
    const auto e = octets("e");
    if (!e) return fail(problem_);
    BnPtr bn(BN_bin2bn(bytes(*n), static_cast<int>(n->size()), nullptr));
    BnPtr be(BN_bin2bn(bytes(*e), static_cast<int>(e->size()), nullptr));
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bn || !be || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, be.get()) != 1) {
      return fail("cannot build the RSA key (" + lastOpenSslError() + ")");
    }
    return fromData(std::move(kid), *a, "RSA", bld.get());
  }

  KeyResult ec(std::string kid, std::optional<Algorithm> alg, JwksResult& out) {
    const Json* crv = member("crv");
    if (crv == nullptr || !crv->is_string()) return fail("\"crv\" must be a string; allowed for kty EC: P-256, P-384");
    const std::string curve = crv->get<std::string>();
    Algorithm curveAlg;
    if (curve == "P-256") {
      curveAlg = Algorithm::kEs256;
    } else if (curve == "P-384") {
      curveAlg = Algorithm::kEs384;
    } else {
      skip(out, "crv \"" + printable(curve) + "\" is not supported for kty EC (supported: P-256, P-384)");
      return fail("");
    }
    if (alg && *alg != curveAlg) {
      return fail(std::string("\"alg\" ") + toString(*alg) + " does not fit crv " + curve + " (allowed: " + toString(curveAlg) + ")");
    }
    const auto x = octets("x");
    if (!x) return fail(problem_);
    const auto y = octets("y");
    if (!y) return fail(problem_);
    const std::size_t size = coordinateBytes(curveAlg);
    if (x->size() != size || y->size() != size) {
      return fail("\"x\" and \"y\" of a " + curve + " key must be " + std::to_string(size) + " bytes each (RFC 7518 section 6.2.1.2); got " +
                  std::to_string(x->size()) + " and " + std::to_string(y->size()));
    }
    std::string point(1, '\x04');  // uncompressed SEC1 point
    point += *x;
    point += *y;
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    const char* group = curveAlg == Algorithm::kEs384 ? SN_secp384r1 : SN_X9_62_prime256v1;
    if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
      return fail("cannot build the EC key (" + lastOpenSslError() + ")");
    }
    return fromData(std::move(kid), curveAlg, "EC", bld.get());
  }

  KeyResult okp(std::string kid, std::optional<Algorithm> alg, JwksResult& out) {
    const Json* crv = member("crv");
    if (crv == nullptr || !crv->is_string()) return fail("\"crv\" must be a string; allowed for kty OKP: Ed25519");
    const std::string curve = crv->get<std::string>();
    if (curve != "Ed25519") {
      skip(out, "crv \"" + printable(curve) + "\" is not supported for kty OKP (supported: Ed25519)");
      return fail("");
    }
    if (alg && *alg != Algorithm::kEdDsa) return fail(std::string("\"alg\" ") + toString(*alg) + " does not fit crv Ed25519 (allowed: EdDSA)");
    const auto x = octets("x");
    if (!x) return fail(problem_);
    if (x->size() != 32) return fail("\"x\" of an Ed25519 key must be 32 bytes; got " + std::to_string(x->size()));
    PkeyPtr pkey(EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, bytes(*x), x->size()));
    if (!pkey) return fail("invalid Ed25519 key (" + lastOpenSslError() + ")");
    return finishPublicKey(std::move(kid), Algorithm::kEdDsa, std::move(pkey));
  }

  KeyResult oct(std::string kid, std::optional<Algorithm> alg) {
    const auto a = pick(alg, Family::kHmac, "oct", "HS256, HS384, HS512");
    if (!a) return fail(problem_);
    auto k = octets("k");
    if (!k) return fail(problem_);
    KeyResult r = makeHmacFromBytes(std::move(kid), *a, *k);
    OPENSSL_cleanse(k->data(), k->size());
    return r;
  }

  static KeyResult fromData(std::string kid, Algorithm alg, const char* type, OSSL_PARAM_BLD* bld) {
    ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 || raw == nullptr) {
      return fail(std::string("invalid ") + type + " public key (" + lastOpenSslError() + ")");
    }
    return finishPublicKey(std::move(kid), alg, PkeyPtr(raw));
  }

  const Json& jwk_;
  std::string where_;
  const JwksOptions& options_;
  std::string problem_;
  bool skipped_ = false;
};

}  // namespace

JwksResult parseJwks(std::string_view text, const JwksOptions& options) {
  JwksResult out;
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::exception& e) {
    // nlohmann's message carries the line, column and what it expected.
    out.errors.push_back(std::string("not valid JSON: ") + e.what());
    return out;
  }
  try {
    if (!doc.is_object()) {
      out.errors.push_back("a JWKS must be a JSON object {\"keys\": [...]} (or a single JWK object)");
      return out;
    }
    if (!doc.contains("keys")) {
      JwkReader(doc, "JWK", options).read(out);
      return out;
    }
    const Json& keys = doc["keys"];
    if (!keys.is_array()) {
      out.errors.push_back("\"keys\" must be an array of JWK objects");
      return out;
    }
    if (keys.empty()) out.errors.push_back("\"keys\" is empty: a JWKS needs at least one key");
    for (std::size_t i = 0; i < keys.size(); ++i) JwkReader(keys[i], "keys[" + std::to_string(i) + "]", options).read(out);
  } catch (const Json::exception& e) {
    // The reader checks every type before reading it; this is a backstop, not a path.
    out.errors.push_back(std::string("unexpected JWKS content: ") + e.what());
  }
  return out;
}

// ---- KeySet ----------------------------------------------------------------------------------

std::optional<std::string> KeySet::add(VerificationKey key) {
  for (const VerificationKey& k : keys_) {
    if (k.algorithm() != key.algorithm()) continue;
    if (k.kid() == key.kid()) {
      if (key.kid().empty()) {
        return std::string("two ") + toString(key.algorithm()) +
               " keys without a kid: a token without a kid could not choose between them; give each key a kid";
      }
      return "two " + std::string(toString(key.algorithm())) + " keys with kid \"" + key.kid() + "\"; a kid must name one key per algorithm";
    }
  }
  keys_.push_back(std::move(key));
  return std::nullopt;
}

KeyMatch KeySet::find(std::optional<std::string_view> kid, Algorithm algorithm) const noexcept {
  KeyMatch m;
  if (kid) {
    for (const VerificationKey& k : keys_) {
      if (k.kid() != *kid) continue;
      if (k.algorithm() == algorithm) return KeyMatch{KeyLookup::kFound, &k, 1};
      if (m.key == nullptr) m.key = &k;
    }
    m.lookup = m.key != nullptr ? KeyLookup::kAlgorithmMismatch : KeyLookup::kUnknownKid;
    return m;
  }
  for (const VerificationKey& k : keys_) {
    if (k.algorithm() != algorithm) continue;
    if (m.candidates++ == 0) m.key = &k;
  }
  if (m.candidates == 1) {
    m.lookup = KeyLookup::kFound;
  } else {
    m.lookup = m.candidates == 0 ? KeyLookup::kNoKeyForAlgorithm : KeyLookup::kAmbiguous;
    m.key = nullptr;
  }
  return m;
}

}  // namespace gatelab::core::auth
