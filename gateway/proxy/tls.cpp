#include "gateway/proxy/tls.hpp"

#include <boost/asio/ssl/context.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace gatelab::proxy {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

namespace {

// TLS 1.2 suites: ECDHE (forward secrecy) with an AEAD cipher only; TLS 1.3 suites are OpenSSL's.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string opensslErrors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

/// Empty when `path` can be opened for reading, else why not.
std::string unreadable(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (in) return {};
  return std::strerror(errno);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

void harden(SSL_CTX* ctx, config::TlsVersion min) {
  SSL_CTX_set_min_proto_version(ctx, min == config::TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_cipher_list(ctx, kTls12Ciphers);
}

/// DNS subject alternative names of the context's certificate, else its common name.
std::vector<std::string> certificateNames(SSL_CTX* ctx) {
  std::vector<std::string> out;
  X509* cert = SSL_CTX_get0_certificate(ctx);
  if (cert == nullptr) return out;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
      if (n->type != GEN_DNS) continue;
      const auto* data = reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName));
      out.push_back(lower(std::string_view(data, static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName)))));
    }
    GENERAL_NAMES_free(sans);
  }
  if (out.empty()) {
    char cn[256];
    const int len = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    if (len > 0) out.push_back(lower(std::string_view(cn, static_cast<std::size_t>(len))));
  }
  return out;
}

}  // namespace

bool serverNameMatches(std::string_view pattern, std::string_view host) noexcept {
  if (pattern.starts_with("*.")) {
    const std::size_t dot = host.find('.');
    return dot != std::string_view::npos && dot > 0 && host.substr(dot) == pattern.substr(1);
  }
  return pattern == host;
}

ServerTls::~ServerTls() = default;

int ServerTls::onServerName(SSL* ssl, int* /*alert*/, void* arg) {
  const auto* self = static_cast<const ServerTls*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_OK;  // no SNI: the default certificate
  const std::size_t index = self->pick(lower(name));
  if (index != 0) SSL_set_SSL_CTX(ssl, self->contexts_[index]->native_handle());
  return SSL_TLSEXT_ERR_OK;
}

ssl::context& ServerTls::context() noexcept { return *contexts_.front(); }

std::size_t ServerTls::pick(std::string_view host) const noexcept {
  // Exact names first, then wildcards, each in config order.
  for (std::size_t i = 0; i < names_.size(); ++i) {
    for (const std::string& n : names_[i]) {
      if (!n.starts_with("*.") && n == host) return i;
    }
  }
  for (std::size_t i = 0; i < names_.size(); ++i) {
    for (const std::string& n : names_[i]) {
      if (n.starts_with("*.") && serverNameMatches(n, host)) return i;
    }
  }
  return 0;
}

std::shared_ptr<ServerTls> ServerTls::load(const config::TlsConfig& config, std::string& error) {
  std::shared_ptr<ServerTls> out(new ServerTls());
  std::string problems;
  for (std::size_t i = 0; i < config.certificates.size(); ++i) {
    const config::TlsCertificate& c = config.certificates[i];
    const std::string where = "tls.certificates[" + std::to_string(i) + "]";
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
    SSL_CTX* native = ctx->native_handle();
    harden(native, config.minVersion);
    ERR_clear_error();
    std::string problem;
    if (std::string why = unreadable(c.certFile); !why.empty()) {
      problem = where + ".cert: cannot read " + c.certFile + ": " + why;
    } else if (std::string whyKey = unreadable(c.keyFile); !whyKey.empty()) {
      problem = where + ".key: cannot read " + c.keyFile + ": " + whyKey;
    } else if (SSL_CTX_use_certificate_chain_file(native, c.certFile.c_str()) != 1) {
      problem = where + ".cert: " + c.certFile + " holds no usable PEM certificate (" + opensslErrors() + ")";
    } else if (SSL_CTX_use_PrivateKey_file(native, c.keyFile.c_str(), SSL_FILETYPE_PEM) != 1) {
      const std::string errors = opensslErrors();
      problem = errors.find("key values mismatch") != std::string::npos
                    ? where + ": the key in " + c.keyFile + " does not belong to the certificate in " + c.certFile
                    : where + ".key: " + c.keyFile + " holds no usable PEM private key (" + errors + ")";
    } else if (SSL_CTX_check_private_key(native) != 1) {
      problem = where + ": the key in " + c.keyFile + " does not belong to the certificate in " + c.certFile;
    }
    if (!problem.empty()) {
      problems += (problems.empty() ? "" : "\n") + problem;
      continue;
    }
    out->names_.push_back(c.serverNames.empty() ? certificateNames(native) : c.serverNames);
    out->contexts_.push_back(std::move(ctx));
  }
  if (!problems.empty() || out->contexts_.empty()) {
    error = problems.empty() ? "tls.certificates: none given" : problems;
    return nullptr;
  }
  // SNI: the handshake starts on the first context; the callback moves it to the matching one.
  SSL_CTX* first = out->contexts_.front()->native_handle();
  // (SSL_CTX_set_tlsext_servername_callback without the macro's C-style cast.)
  SSL_CTX_callback_ctrl(first, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB, reinterpret_cast<void (*)()>(&ServerTls::onServerName));
  SSL_CTX_set_tlsext_servername_arg(first, out.get());
  return out;
}

UpstreamTls::~UpstreamTls() = default;

std::shared_ptr<ssl::context> UpstreamTls::context(std::size_t service) const noexcept {
  return service < contexts_.size() ? contexts_[service] : nullptr;
}

std::shared_ptr<UpstreamTls> UpstreamTls::load(const config::GatewayConfig& config, std::string& error) {
  std::shared_ptr<UpstreamTls> out(new UpstreamTls());
  std::string problems;
  for (std::size_t s = 0; s < config.services.size(); ++s) {
    const config::ServiceConfig& service = config.services[s];
    const bool https = std::any_of(service.targets.begin(), service.targets.end(),
                                   [](const config::Target& t) { return t.url.scheme == "https"; });
    if (!https) {
      out->contexts_.push_back(nullptr);
      continue;
    }
    const config::UpstreamTlsConfig tls = service.tls.value_or(config::UpstreamTlsConfig{});
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    SSL_CTX* native = ctx->native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    ERR_clear_error();
    if (tls.verify) {
      SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
      const std::string where = "services[" + std::to_string(s) + "].tls.ca_file";
      if (!tls.caFile.empty()) {
        if (std::string why = unreadable(tls.caFile); !why.empty()) {
          problems += (problems.empty() ? "" : "\n") + where + ": cannot read " + tls.caFile + ": " + why;
        } else if (SSL_CTX_load_verify_locations(native, tls.caFile.c_str(), nullptr) != 1) {
          problems += (problems.empty() ? "" : "\n") + where + ": " + tls.caFile + " holds no usable PEM certificate (" +
                      opensslErrors() + ")";
        }
      } else if (SSL_CTX_set_default_verify_paths(native) != 1) {
        problems += std::string(problems.empty() ? "" : "\n") + "services[" + std::to_string(s) +
                    "].tls: the system's CA store cannot be loaded (" + opensslErrors() + ")";
      }
    } else {
      SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
    }
    out->contexts_.push_back(std::move(ctx));
  }
  if (!problems.empty()) {
    error = problems;
    return nullptr;
  }
  return out;
}

}  // namespace gatelab::proxy
