#!/usr/bin/python3
"""Makes the JWT test fixtures in data/ with implementations other than gatelab's.

Tokens are signed by PyJWT (Debian's python3-jwt) with keys made by python3-cryptography; the
tokens PyJWT refuses to make (alg "none", HMAC keyed with an RSA public key's PEM text, JSON
that is not an object, duplicate claims...) are assembled here from the standard library's
hmac/base64/json. Nothing here shares code with gateway/core/auth.

    /usr/bin/python3 tests/gateway/core/auth/make_tokens.py     # rewrites data/

Writes:
  data/fixtures.json  the fixed `now`, HMAC secrets, PEM public keys, tokens (name -> text)
  data/jwks.json      the JWKS the tests load (public keys and one oct key)
  tests/fuzz/corpus/jwt/*  seeds for tests/fuzz/fuzz_jwt.cpp (tokens under its fixed secret,
                      header and claims JSON texts, "header.payload" pairs, a JWKS)
Private keys live only in this process: each run makes new keys, so every token is rewritten.
All times are relative to NOW; the tests pass NOW (or NOW +/- a few seconds) as `now`.
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import sys

import datetime

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, utils
from jwt.algorithms import ECAlgorithm, HMACAlgorithm, OKPAlgorithm, RSAAlgorithm

NOW = 1_700_000_000
ISSUER = "https://issuer.example"
AUDIENCE = "api"

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(obj) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def hmac_token(header_text: str, payload_text: str, secret: bytes, digest=hashlib.sha256) -> str:
    """A compact JWS over raw header/payload JSON texts (which need not be valid JSON)."""
    signing_input = b64url(header_text.encode("utf-8", "surrogateescape")) + "." + b64url(
        payload_text.encode("utf-8", "surrogateescape"))
    mac = hmac.new(secret, signing_input.encode("ascii"), digest).digest()
    return signing_input + "." + b64url(mac)


def pem_public(private_key) -> str:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def self_signed_pem(private_key) -> str:
    """A certificate for the key (the verifier uses only its public key)."""
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "gatelab test issuer")])
    start = datetime.datetime(2023, 1, 1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private_key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=3650))
            .sign(private_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def jwk_of(algorithm_class, public_key, **members) -> dict:
    jwk = json.loads(algorithm_class.to_jwk(public_key))
    jwk.update(members)
    return jwk


def main() -> None:
    os.makedirs(DATA, exist_ok=True)

    # ---- keys ------------------------------------------------------------------------------
    hs256 = secrets.token_bytes(32)
    hs384 = secrets.token_bytes(48)
    hs512_text = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(64))
    hs512 = hs512_text.encode()
    oct_secret = secrets.token_bytes(32)
    other_secret = secrets.token_bytes(32)

    rsa_a = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_b = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    p256 = ec.generate_private_key(ec.SECP256R1())
    p384 = ec.generate_private_key(ec.SECP384R1())
    p521 = ec.generate_private_key(ec.SECP521R1())
    ed = ed25519.Ed25519PrivateKey.generate()
    ed_other = ed448.Ed448PrivateKey.generate()

    jwks = {"keys": [
        jwk_of(RSAAlgorithm, rsa_a.public_key(), kid="rs256", alg="RS256", use="sig"),
        jwk_of(RSAAlgorithm, rsa_a.public_key(), kid="rs384", alg="RS384", use="sig"),
        jwk_of(RSAAlgorithm, rsa_a.public_key(), kid="rs512", alg="RS512"),
        jwk_of(ECAlgorithm, p256.public_key(), kid="es256", alg="ES256", use="sig"),
        jwk_of(ECAlgorithm, p384.public_key(), kid="es384"),  # alg from the curve
        jwk_of(OKPAlgorithm, ed.public_key(), kid="ed", alg="EdDSA"),
        dict(json.loads(HMACAlgorithm.to_jwk(oct_secret)), kid="hs-jwks", alg="HS256"),
        # Published beside signing keys by real providers; gatelab skips them.
        jwk_of(RSAAlgorithm, rsa_b.public_key(), kid="enc-1", alg="RSA-OAEP", use="enc"),
        jwk_of(ECAlgorithm, p521.public_key(), kid="p521", alg="ES512"),
    ]}

    claims = {
        "iss": ISSUER, "sub": "user-42", "aud": AUDIENCE, "iat": NOW - 60, "nbf": NOW - 60, "exp": NOW + 3600,
        "scope": ["read", "write"], "admin": True, "ratio": 2.5, "profile": {"tier": "gold"}, "nothing": None,
        "groups": ["a", 1],
    }

    def with_claims(**changes):
        c = dict(claims)
        for k, v in changes.items():
            if v is _DROP:
                c.pop(k, None)
            else:
                c[k] = v
        return c

    def sign(alg, key, kid, payload=None, headers=None):
        h = {"kid": kid} if kid is not None else {}
        if headers:
            h.update(headers)
        return jwt.encode(payload if payload is not None else claims, key, algorithm=alg, headers=h or None)

    tokens = {}
    # One valid token per algorithm (and per key source: JWKS entry, inline secret, inline PEM).
    tokens["hs256"] = sign("HS256", hs256, "hs256")
    tokens["hs384"] = sign("HS384", hs384, "hs384")
    tokens["hs512"] = sign("HS512", hs512, "hs512")
    tokens["hs256_jwks"] = sign("HS256", oct_secret, "hs-jwks")
    tokens["rs256"] = sign("RS256", rsa_a, "rs256")
    tokens["rs384"] = sign("RS384", rsa_a, "rs384")
    tokens["rs512"] = sign("RS512", rsa_a, "rs512")
    tokens["rs256_pem"] = sign("RS256", rsa_a, "rsa-pem")
    tokens["es256"] = sign("ES256", p256, "es256")
    tokens["es384"] = sign("ES384", p384, "es384")
    tokens["es256_pem"] = sign("ES256", p256, "es256-pem")
    tokens["eddsa"] = sign("EdDSA", ed, "ed")
    tokens["eddsa_pem"] = sign("EdDSA", ed, "ed-pem")
    tokens["hs256_no_kid"] = sign("HS256", hs256, None)

    # Time.
    tokens["expired"] = sign("HS256", hs256, "hs256", with_claims(exp=NOW - 10))
    tokens["exp_at_now"] = sign("HS256", hs256, "hs256", with_claims(exp=NOW, nbf=_DROP, iat=_DROP))
    tokens["nbf_at_now"] = sign("HS256", hs256, "hs256", with_claims(nbf=NOW, iat=_DROP))
    tokens["nbf_future"] = sign("HS256", hs256, "hs256", with_claims(nbf=NOW + 100, iat=_DROP))
    tokens["iat_future"] = sign("HS256", hs256, "hs256", with_claims(iat=NOW + 100, nbf=_DROP))
    tokens["exp_fraction"] = sign("HS256", hs256, "hs256", with_claims(exp=NOW + 10.7, nbf=NOW + 0.2, iat=_DROP))
    tokens["long_lived"] = sign("HS256", hs256, "hs256", with_claims(iat=NOW, nbf=_DROP, exp=NOW + 2 * 86400))
    tokens["long_lived_no_iat"] = sign("HS256", hs256, "hs256", with_claims(iat=_DROP, nbf=_DROP, exp=NOW + 600))
    tokens["no_exp"] = sign("HS256", hs256, "hs256", with_claims(exp=_DROP))

    # Issuer and audience.
    tokens["wrong_issuer"] = sign("HS256", hs256, "hs256", with_claims(iss="https://evil.example"))
    tokens["no_issuer"] = sign("HS256", hs256, "hs256", with_claims(iss=_DROP))
    tokens["aud_array"] = sign("RS256", rsa_a, "rs256", with_claims(aud=["other", AUDIENCE]))
    tokens["aud_array_wrong"] = sign("HS256", hs256, "hs256", with_claims(aud=["other", "more"]))
    tokens["wrong_audience"] = sign("HS256", hs256, "hs256", with_claims(aud="billing"))
    tokens["no_audience"] = sign("HS256", hs256, "hs256", with_claims(aud=_DROP))
    tokens["aud_number"] = sign("HS256", hs256, "hs256", with_claims(aud=7))

    # Keys and signatures.
    tokens["wrong_secret"] = sign("HS256", other_secret, "hs256")
    tokens["wrong_rsa_key"] = sign("RS256", rsa_b, "rs256")
    tokens["unknown_kid"] = sign("HS256", hs256, "nope")
    tokens["kid_alg_mismatch"] = sign("RS384", rsa_a, "rs256")  # kid rs256 is bound to RS256
    tokens["unsupported_alg_ps256"] = sign("PS256", rsa_a, "rs256")
    tokens["es512"] = sign("ES512", p521, "p521")
    head, body, sig = tokens["hs256"].split(".")
    forged = b64url_json(with_claims(sub="admin"))
    tokens["tampered_payload_hs256"] = ".".join([head, forged, sig])
    rhead, rbody, rsig = tokens["rs256"].split(".")
    tokens["tampered_payload_rs256"] = ".".join([rhead, forged, rsig])
    flipped = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    flipped[5] ^= 0x01
    tokens["tampered_signature_hs256"] = ".".join([head, body, b64url(bytes(flipped))])
    rflipped = bytearray(base64.urlsafe_b64decode(rsig + "=" * (-len(rsig) % 4)))
    rflipped[-1] ^= 0x80
    tokens["tampered_signature_rs256"] = ".".join([rhead, rbody, b64url(bytes(rflipped))])
    ehead, ebody, esig = tokens["es256"].split(".")
    raw = base64.urlsafe_b64decode(esig + "=" * (-len(esig) % 4))
    der = utils.encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    tokens["es256_der_signature"] = ".".join([ehead, ebody, b64url(der)])
    tokens["es256_short_signature"] = ".".join([ehead, ebody, b64url(raw[:63])])
    tokens["es256_with_es384_key"] = sign("ES384", p384, "es256")  # kid bound to ES256

    # alg none and algorithm confusion (PyJWT refuses to make these: assembled by hand).
    payload_text = json.dumps(claims, separators=(",", ":"))
    tokens["alg_none"] = b64url_json({"alg": "none", "typ": "JWT"}) + "." + b64url(payload_text.encode()) + "."
    tokens["alg_none_upper"] = b64url_json({"alg": "NONE", "kid": "hs256"}) + "." + b64url(payload_text.encode()) + "."
    tokens["alg_none_signed"] = b64url_json({"alg": "none"}) + "." + b64url(payload_text.encode()) + "." + b64url(b"x" * 32)
    rsa_pem = pem_public(rsa_a)
    tokens["confusion_hs256_with_rsa_pem_kid"] = hmac_token(
        json.dumps({"alg": "HS256", "kid": "rsa-pem"}), payload_text, rsa_pem.encode())
    tokens["confusion_hs256_with_rsa_pem"] = hmac_token(json.dumps({"alg": "HS256"}), payload_text, rsa_pem.encode())

    # Well signed (HS256, kid hs256) but malformed inside: the verifier must reach the JSON.
    good_header = json.dumps({"alg": "HS256", "kid": "hs256"})
    malformed = {
        "payload_not_json": (good_header, "not json"),
        "payload_array": (good_header, "[1,2]"),
        "payload_string": (good_header, '"claims"'),
        "payload_trailing_text": (good_header, '{"exp":%d} x' % (NOW + 60)),
        "payload_duplicate_exp": (good_header, '{"exp":%d,"exp":%d}' % (NOW - 100, NOW + 60)),
        "payload_exp_string": (good_header, '{"exp":"%d"}' % (NOW + 60)),
        "payload_exp_bool": (good_header, '{"exp":true}'),
        "payload_exp_huge": (good_header, '{"exp":1e400}'),
        "payload_exp_leading_zero": (good_header, '{"exp":0%d}' % (NOW + 60)),
        "payload_nbf_null": (good_header, '{"exp":%d,"nbf":null}' % (NOW + 60)),
        "payload_bad_utf8": (good_header, '{"exp":%d,"sub":"\udcff"}' % (NOW + 60)),
        "payload_lone_surrogate": (good_header, '{"exp":%d,"sub":"\\ud800"}' % (NOW + 60)),
        "payload_control_char": (good_header, '{"exp":%d,"sub":"a\tb"}' % (NOW + 60)),
        "payload_too_deep": (good_header, '{"exp":%d,"x":%s%s}' % (NOW + 60, "[" * 40, "]" * 40)),
        "payload_trailing_comma": (good_header, '{"exp":%d,}' % (NOW + 60)),
        "header_not_json": ("{alg:HS256}", '{"exp":%d}' % (NOW + 60)),
        "header_duplicate_alg": ('{"alg":"none","alg":"HS256","kid":"hs256"}', '{"exp":%d}' % (NOW + 60)),
        "header_alg_number": ('{"alg":256,"kid":"hs256"}', '{"exp":%d}' % (NOW + 60)),
        "header_no_alg": ('{"kid":"hs256"}', '{"exp":%d}' % (NOW + 60)),
        "header_kid_number": ('{"alg":"HS256","kid":7}', '{"exp":%d}' % (NOW + 60)),
        "header_crit": ('{"alg":"HS256","kid":"hs256","crit":["exp"],"exp":1}', '{"exp":%d}' % (NOW + 60)),
        "header_array": ('["HS256"]', '{"exp":%d}' % (NOW + 60)),
    }
    for name, (h, p) in malformed.items():
        tokens["malformed_" + name] = hmac_token(h, p, hs256)
    valid = tokens["hs256"]
    vh, vp, vs = valid.split(".")
    tokens["malformed_two_segments"] = vh + "." + vp
    tokens["malformed_four_segments"] = valid + ".x"
    tokens["malformed_jwe_five_segments"] = valid + ".x.y"
    tokens["malformed_padding"] = vh + "." + vp + "." + vs + "="
    tokens["malformed_std_alphabet"] = vh + "." + vp + "." + vs.replace("-", "+").replace("_", "/") + (
        "" if ("-" in vs or "_" in vs) else "+")
    tokens["malformed_space"] = vh + ". " + vp + "." + vs
    tokens["malformed_empty_payload"] = vh + ".." + vs
    tokens["malformed_empty_header"] = "." + vp + "." + vs
    tokens["malformed_non_canonical"] = vh + "." + vp + "." + vs[:-1] + chr(ord(vs[-1]) + 1 if vs[-1] in "ABCDEFGHIJKLMNOPQRSTUVWXY" else ord("B"))

    fixtures = {
        "generator": "tests/gateway/core/auth/make_tokens.py (PyJWT %s)" % jwt.__version__,
        "now": NOW,
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "secrets": {
            "hs256_base64url": b64url(hs256),
            "hs384_base64": base64.b64encode(hs384).decode(),
            "hs512_raw": hs512_text,
            "oct_base64url": b64url(oct_secret),
        },
        "pem": {
            "rsa": rsa_pem,
            "rsa_certificate": self_signed_pem(rsa_a),
            "rsa_other": pem_public(rsa_b),
            "rsa_1024": pem_public(rsa_small),
            "p256": pem_public(p256),
            "p384": pem_public(p384),
            "p521": pem_public(p521),
            "ed25519": pem_public(ed),
            "ed448": pem_public(ed_other),
        },
        "tokens": tokens,
    }
    with open(os.path.join(DATA, "fixtures.json"), "w") as f:
        json.dump(fixtures, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(DATA, "jwks.json"), "w") as f:
        json.dump(jwks, f, indent=1)
        f.write("\n")
    write_fuzz_corpus(jwks, tokens)
    print("wrote %d tokens to %s" % (len(tokens), DATA), file=sys.stderr)


FUZZ_SECRET = b"gatelab-fuzz-secret-0123456789abcdef"  # tests/fuzz/fuzz_jwt.cpp kSecret


def write_fuzz_corpus(jwks, tokens) -> None:
    corpus = os.path.join(HERE, "..", "..", "..", "fuzz", "corpus", "jwt")
    os.makedirs(corpus, exist_ok=True)
    claims = {"iss": ISSUER, "sub": "u\u00e9\U0001F600", "aud": ["api", "x"], "iat": NOW - 5, "nbf": NOW - 5,
              "exp": NOW + 60, "scope": "read write", "n": -1.5e3, "ok": True, "obj": {"a": [1, {"b": None}]}}
    header = {"alg": "HS256", "typ": "JWT"}
    seeds = {
        "valid_hs256": jwt.encode(claims, FUZZ_SECRET, algorithm="HS256"),
        "expired_hs256": jwt.encode(dict(claims, exp=NOW - 1), FUZZ_SECRET, algorithm="HS256"),
        "fraction_hs256": jwt.encode(dict(claims, exp=NOW + 0.5, nbf=NOW - 0.5), FUZZ_SECRET, algorithm="HS256"),
        "unsigned_pair": b64url_json(header) + "." + b64url_json(claims),
        "unsigned_pair_kid": b64url_json(dict(header, kid="k")) + "." + b64url_json({"exp": NOW + 1}),
        "header_json": json.dumps(dict(header, kid="k\"1")),
        "claims_json": json.dumps(claims, ensure_ascii=False),
        "claims_escapes": '{"s":"\\u0041\\n\\t\\/\\\\ \\ud83d\\ude00","e":[],"a":[[[]]],"z":0.0e-0}',
        "alg_none": tokens["alg_none"],
        "rs256": tokens["rs256"],
        "es256": tokens["es256"],
        "jwks": json.dumps(jwks),
    }
    for name, text in seeds.items():
        with open(os.path.join(corpus, name), "w", encoding="utf-8") as f:
            f.write(text)


class _Drop:
    pass


_DROP = _Drop()

if __name__ == "__main__":
    main()
