#pragma once
// Verification keys for JWTs: each key is bound to exactly one JWS algorithm, and a token is only
// ever checked with a key bound to the algorithm its header names. That binding is what defeats
// algorithm confusion (an HS256 token "signed" with an RSA public key's PEM text as the HMAC
// secret finds no HS256 key) and "alg": "none" (not an algorithm here at all).
//
// Keys come from config values or from a JWKS document (RFC 7517), both at config load:
// - makeHmacKey: an HMAC secret, raw bytes or base64 / base64url text;
// - makePemKey: a PEM public key ("BEGIN PUBLIC KEY", SubjectPublicKeyInfo) or certificate
//   ("BEGIN CERTIFICATE"): RSA, EC P-256 / P-384 or Ed25519;
// - parseJwks: a JWKS text {"keys": [...]} (or a single JWK object); kty RSA (n, e), EC (crv
//   P-256 / P-384, x, y), OKP (crv Ed25519, x), oct (k); members kid, alg, use, key_ops.
// Every key is checked against its algorithm when it is made: RSA >= 2048 bits, the EC curve
// that the ES algorithm names, HMAC secrets at least as long as the hash output (RFC 7518 §3.2).
// Load-time functions never throw: they return the key or a message saying which key, which
// field, what was wrong and what is allowed. Semantics: docs/security.md, "JWT".
//
// All cryptography is OpenSSL 3 (EVP), private to jwk.cpp: no OpenSSL type appears here.
// Thread safety: a VerificationKey and a KeySet are immutable once built; verify() and find()
// may be called from any number of threads at once (each verify() works on its own OpenSSL
// contexts, or on those of the caller's HmacScratch, which is one thread's). Copies share the key
// material.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/hash.hpp"

namespace gatelab::core::auth {

/// The JWS algorithms gatelab verifies (RFC 7518 §3.1, RFC 8037 §3.1 for EdDSA with Ed25519).
enum class Algorithm : std::uint8_t {
  kHs256,
  kHs384,
  kHs512,
  kRs256,
  kRs384,
  kRs512,
  kEs256,
  kEs384,
  kEdDsa,
};

inline constexpr std::array<Algorithm, 9> kAllAlgorithms = {
    Algorithm::kHs256, Algorithm::kHs384, Algorithm::kHs512, Algorithm::kRs256, Algorithm::kRs384,
    Algorithm::kRs512, Algorithm::kEs256, Algorithm::kEs384, Algorithm::kEdDsa};

/// The JWA name: "HS256", ..., "ES384", "EdDSA".
const char* toString(Algorithm a) noexcept;

/// The algorithm with JWA name `name` (case-sensitive, as JWS header values are); nullopt for
/// anything else, "none" included.
std::optional<Algorithm> algorithmFromName(std::string_view name) noexcept;

/// True for HS256 / HS384 / HS512.
bool isHmac(Algorithm a) noexcept;

/// "HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, EdDSA", for messages.
std::string algorithmNames();

/// How an HMAC secret is written in config.
enum class SecretEncoding : std::uint8_t {
  kRaw,        ///< the bytes of the text as given
  kBase64,     ///< standard base64, padded (RFC 4648 §4; Kong's secret_is_base64)
  kBase64Url,  ///< unpadded base64url (RFC 4648 §5; as a JWK's "k")
};

const char* toString(SecretEncoding e) noexcept;

/// Key material behind a VerificationKey (OpenSSL objects); defined in jwk.cpp.
struct KeyMaterial;

/// Working state for HMAC checks, reused from one verify() to the next instead of copied each
/// time: per key, a MAC context that holds the secret's key schedule and is re-initialised for
/// each token (about 0.3 µs less per HS token than a fresh copy of the key's context; see
/// bench/jwt_bench.cpp). Mutable, so NOT thread-safe: one scratch per thread of use (the
/// verified-token cache carries one, and has the same rule). It keeps at most kMaxKeys keys'
/// contexts (first come); checks with further keys work as without a scratch.
class HmacScratch {
 public:
  static constexpr std::size_t kMaxKeys = 16;

  HmacScratch();
  ~HmacScratch();
  HmacScratch(HmacScratch&&) noexcept;
  HmacScratch& operator=(HmacScratch&&) noexcept;
  HmacScratch(const HmacScratch&) = delete;
  HmacScratch& operator=(const HmacScratch&) = delete;

  struct Slot;  ///< defined in jwk.cpp

 private:
  friend class VerificationKey;
  /// The working context for `material`, made on first use; null when full or on failure.
  Slot* slotFor(const std::shared_ptr<const KeyMaterial>& material) noexcept;
  std::vector<std::unique_ptr<Slot>> slots_;
};

/// One verification key bound to one algorithm. Immutable; cheap to copy (shares the material).
class VerificationKey {
 public:
  /// Made by makeHmacKey / makePemKey / parseJwks; `material` is theirs to build.
  VerificationKey(std::string kid, Algorithm algorithm, std::shared_ptr<const KeyMaterial> material);

  /// The key id ("" when the key has none).
  [[nodiscard]] const std::string& kid() const noexcept { return kid_; }
  /// The one algorithm this key verifies.
  [[nodiscard]] Algorithm algorithm() const noexcept { return algorithm_; }
  /// "HMAC secret (32 bytes)", "RSA 2048-bit public key", "EC P-256 public key", "Ed25519 public
  /// key": for messages and listings; never contains secret bytes.
  [[nodiscard]] std::string description() const;
  /// SHA-256 (truncated) of the algorithm, kid and key bytes: equal fingerprints mean the same
  /// key. Used to tell verifiers apart (the verified-token cache); not secret-revealing.
  [[nodiscard]] Hash128 fingerprint() const noexcept;

  /// The length every valid signature has, in bytes: the HMAC output, the RSA modulus size,
  /// 64 / 96 for ES256 / ES384 (R || S), 64 for Ed25519.
  [[nodiscard]] std::size_t signatureSize() const noexcept;

  /// Whether `signature` (the raw bytes of the JWS signature, already base64url-decoded) is a
  /// valid signature of `signingInput` (the ASCII "header.payload") under algorithm(). ECDSA
  /// signatures are JWS's fixed-size R || S (64 bytes for ES256, 96 for ES384); any other length
  /// is invalid, as is an RSA signature not exactly the modulus size. HMAC tags are compared in
  /// constant time. False on any failure, OpenSSL allocation failures included.
  /// Cost: HS256 about 0.4-0.7 µs, RS256 (2048 bits) about 20 µs; see bench/jwt_bench.cpp.
  /// `scratch` (optional, HMAC keys only) saves the per-call copy of the key's MAC context; the
  /// result is the same with or without it.
  [[nodiscard]] bool verify(std::string_view signingInput, std::string_view signature,
                            HmacScratch* scratch = nullptr) const noexcept;

 private:
  std::string kid_;
  Algorithm algorithm_;
  std::shared_ptr<const KeyMaterial> material_;
};

/// A key, or why it could not be made.
struct KeyResult {
  std::optional<VerificationKey> key;
  std::string error;  ///< set iff !key: what was wrong and what is allowed (never secret bytes)
  [[nodiscard]] bool ok() const noexcept { return key.has_value(); }
};

/// An HMAC key for `algorithm` (must be HS256/384/512) from `secret` written as `encoding`.
/// The decoded secret must be at least 32 / 48 / 64 bytes (the hash output size, RFC 7518 §3.2).
KeyResult makeHmacKey(std::string kid, Algorithm algorithm, std::string_view secret, SecretEncoding encoding);

/// A public key for `algorithm` (RS*, ES*, EdDSA) from PEM text: "BEGIN PUBLIC KEY"
/// (SubjectPublicKeyInfo) or "BEGIN CERTIFICATE" (its subject key; the certificate itself is not
/// validated). The key type must fit the algorithm: RSA (>= 2048 bits) for RS*, EC P-256 for
/// ES256, EC P-384 for ES384, Ed25519 for EdDSA. Private keys are refused.
KeyResult makePemKey(std::string kid, Algorithm algorithm, std::string_view pem);

struct JwksOptions {
  /// The algorithm for JWKs without "alg" whose kty allows several: RSA (RS256/384/512) and oct
  /// (HS256/384/512). EC and OKP keys without "alg" take the one their curve allows.
  std::optional<Algorithm> defaultAlgorithm;
};

/// The keys of a JWKS document, with every problem found (not just the first).
struct JwksResult {
  std::vector<VerificationKey> keys;  ///< the usable keys, in document order
  /// "keys[2] (kid \"a1\"): \"crv\" P-521 is not supported for kty EC; allowed: P-256, P-384".
  std::vector<std::string> errors;
  /// Keys left out on purpose, one line each: "use" other than "sig", "key_ops" without
  /// "verify", an algorithm or curve gatelab does not verify (PS256, ES512, Ed448, RSA-OAEP...).
  /// Identity providers publish such keys beside the signing keys; the host may log these.
  std::vector<std::string> skipped;
  [[nodiscard]] bool ok() const noexcept { return errors.empty(); }
};

/// Parses a JWKS text (RFC 7517 §5: {"keys": [...]}) or a single JWK object. Errors: invalid
/// JSON (with the byte offset), a missing or ill-typed member, bad base64url, a key that does not
/// fit its algorithm, private key members ("d", "p", ...), a JWK "alg" that contradicts its kty
/// or curve. Duplicates (same kid and algorithm) are reported by KeySet::add, not here.
/// Complexity: O(size of the text) plus one public-key import per key.
JwksResult parseJwks(std::string_view json, const JwksOptions& options = {});

/// How KeySet::find went.
enum class KeyLookup : std::uint8_t {
  kFound,               ///< `key` is the key to verify with
  kUnknownKid,          ///< the token's kid names no key
  kAlgorithmMismatch,   ///< the kid names a key (`key`) bound to another algorithm
  kNoKeyForAlgorithm,   ///< no kid, and no key is bound to the token's algorithm
  kAmbiguous,           ///< no kid, and several keys are bound to the token's algorithm
};

struct KeyMatch {
  KeyLookup lookup = KeyLookup::kUnknownKid;
  const VerificationKey* key = nullptr;  ///< kFound: the key; kAlgorithmMismatch: the kid's key
  std::size_t candidates = 0;            ///< kAmbiguous: how many keys are bound to the algorithm
};

/// The keys one verifier trusts. Rules (docs/security.md):
/// - a token with a kid is checked with the key of that kid bound to the token's alg; a kid that
///   names no key is rejected, and so is a kid whose key(s) are bound to other algorithms;
/// - a token without a kid is checked with the one key bound to its alg; with none, or with
///   several (gatelab does not try keys one after another), it is rejected.
/// Not thread-safe while being built; immutable (and shareable) afterwards.
class KeySet {
 public:
  /// Adds `key`. Refused, with a message, when a key with the same kid and algorithm is already
  /// there, or when `key` and another key bound to the same algorithm both lack a kid (neither
  /// could ever be chosen). O(number of keys).
  std::optional<std::string> add(VerificationKey key);

  /// The key for a token whose header says `kid` (nullopt: no "kid" member) and `algorithm`.
  /// O(number of keys); sets hold a handful.
  [[nodiscard]] KeyMatch find(std::optional<std::string_view> kid, Algorithm algorithm) const noexcept;

  [[nodiscard]] const std::vector<VerificationKey>& keys() const noexcept { return keys_; }
  [[nodiscard]] std::size_t size() const noexcept { return keys_.size(); }
  [[nodiscard]] bool empty() const noexcept { return keys_.empty(); }

 private:
  std::vector<VerificationKey> keys_;
};

}  // namespace gatelab::core::auth
