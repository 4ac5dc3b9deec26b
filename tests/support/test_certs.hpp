#pragma once
// Certificates for TLS tests, made in-process with OpenSSL (no openssl CLI, no files checked in):
// a test CA, and leaf certificates it signs for given DNS names (or IP addresses), written as PEM
// files into a temporary directory that is removed with the object.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace gatelab::testing {

class TestCerts {
 public:
  struct Files {
    std::string cert;  ///< PEM certificate
    std::string key;   ///< PEM private key
  };

  TestCerts() {
    char pattern[] = "/tmp/gatelab-certs-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = made;
    caKey_ = makeKey();
    ca_ = makeCert(caKey_.get(), nullptr, nullptr, "gatelab test CA", {}, true);
    caFile_ = dir_ + "/ca.pem";
    writeCert(ca_.get(), caFile_);
  }
  ~TestCerts() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  TestCerts(const TestCerts&) = delete;
  TestCerts& operator=(const TestCerts&) = delete;

  [[nodiscard]] const std::string& caFile() const { return caFile_; }
  [[nodiscard]] const std::string& dir() const { return dir_; }

  /// A certificate for `names` ("DNS:x" or "IP:1.2.3.4" entries; the first also becomes the
  /// common name), signed by the test CA, or self-signed.
  Files issue(const std::string& file, const std::vector<std::string>& names, bool selfSigned = false) {
    auto key = makeKey();
    std::string cn = names.empty() ? "gatelab test" : names.front().substr(names.front().find(':') + 1);
    auto cert = selfSigned ? makeCert(key.get(), nullptr, nullptr, cn, names, false)
                           : makeCert(key.get(), ca_.get(), caKey_.get(), cn, names, false);
    Files f{dir_ + "/" + file + ".pem", dir_ + "/" + file + ".key"};
    writeCert(cert.get(), f.cert);
    FILE* out = std::fopen(f.key.c_str(), "w");
    if (out == nullptr || PEM_write_PrivateKey(out, key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
      throw std::runtime_error("cannot write " + f.key);
    std::fclose(out);
    return f;
  }

 private:
  struct KeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  };
  struct CertFree {
    void operator()(X509* c) const { X509_free(c); }
  };
  using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
  using Cert = std::unique_ptr<X509, CertFree>;

  static Key makeKey() {
    Key k(EVP_EC_gen("prime256v1"));
    if (!k) throw std::runtime_error("EC key generation failed");
    return k;
  }

  static Cert makeCert(EVP_PKEY* key, X509* issuer, EVP_PKEY* issuerKey, const std::string& cn,
                       const std::vector<std::string>& names, bool ca) {
    Cert c(X509_new());
    X509_set_version(c.get(), 2);
    static long serial = 1;
    ASN1_INTEGER_set(X509_get_serialNumber(c.get()), serial++);
    X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c.get()), 3600L * 24 * 30);
    X509_set_pubkey(c.get(), key);
    X509_NAME* name = X509_get_subject_name(c.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(c.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : c.get(), c.get(), nullptr, nullptr, 0);
    auto add = [&](int nid, const std::string& value) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
      if (ext == nullptr) throw std::runtime_error("bad extension " + value);
      X509_add_ext(c.get(), ext, -1);
      X509_EXTENSION_free(ext);
    };
    add(NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    if (ca) add(NID_key_usage, "critical,keyCertSign,cRLSign");
    if (!names.empty()) {
      std::string san;
      for (const std::string& n : names) san += (san.empty() ? "" : ",") + n;
      add(NID_subject_alt_name, san);
    }
    if (X509_sign(c.get(), issuerKey != nullptr ? issuerKey : key, EVP_sha256()) == 0)
      throw std::runtime_error("signing failed");
    return c;
  }

  static void writeCert(X509* cert, const std::string& path) {
    FILE* out = std::fopen(path.c_str(), "w");
    if (out == nullptr || PEM_write_X509(out, cert) != 1) throw std::runtime_error("cannot write " + path);
    std::fclose(out);
  }

  std::string dir_;
  Key caKey_;
  Cert ca_;
  std::string caFile_;
};

}  // namespace gatelab::testing
