#pragma once
// TLS for the live proxy (OpenSSL through Asio): the listener's certificates with SNI, and the
// client side for https:// targets. Built per config generation, so a reload re-reads the
// certificate files (new connections use the new ones; open connections keep theirs) and a reload
// whose certificates do not load is refused with the reason.
//
// Listener: TLS 1.2 and 1.3 only (`min_version` can require 1.3); for TLS 1.2 only ECDHE key
// exchange with AES-GCM or ChaCha20-Poly1305 (forward secrecy, AEAD), server cipher order;
// compression and renegotiation off. SNI picks the certificate whose names (configured
// `server_names`, else the certificate's DNS subject alternative names, else its common name)
// match the requested name exactly or by a one-label wildcard; no SNI or no match: the first
// certificate. Each certificate's key must match it.
// Upstream: TLS 1.2+, SNI = the service's `server_name` or the target's host (not for IP
// addresses); with `verify` (default) the chain is checked against `ca_file` or the system's
// store, and the name against the certificate (RFC 6125 host name rules, via OpenSSL).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gateway/config/model.hpp"

namespace boost::asio::ssl {
class context;
}
struct ssl_st;

namespace gatelab::proxy {

/// The listener's contexts for one config generation.
class ServerTls {
 public:
  /// Loads every certificate of `config`; nullptr with every problem in `error` (file, what).
  static std::shared_ptr<ServerTls> load(const config::TlsConfig& config, std::string& error);
  ~ServerTls();
  /// The context new connections start with (its SNI callback switches to the matching one).
  [[nodiscard]] boost::asio::ssl::context& context() noexcept;
  /// The names each certificate serves, in config order (for messages and tests).
  [[nodiscard]] const std::vector<std::vector<std::string>>& names() const noexcept { return names_; }
  /// Index of the certificate serving `host` (lower case), or 0 (the default).
  [[nodiscard]] std::size_t pick(std::string_view host) const noexcept;

 private:
  ServerTls() = default;
  static int onServerName(ssl_st* ssl, int* alert, void* arg);  // OpenSSL's SNI callback
  std::vector<std::unique_ptr<boost::asio::ssl::context>> contexts_;
  std::vector<std::vector<std::string>> names_;
};

/// Client contexts for https:// targets, one per service that has them (by service index).
class UpstreamTls {
 public:
  static std::shared_ptr<UpstreamTls> load(const config::GatewayConfig& config, std::string& error);
  ~UpstreamTls();
  /// The context for service `service`, or nullptr when it has no https:// target.
  [[nodiscard]] std::shared_ptr<boost::asio::ssl::context> context(std::size_t service) const noexcept;

 private:
  UpstreamTls() = default;
  std::vector<std::shared_ptr<boost::asio::ssl::context>> contexts_;
};

/// True when `pattern` (lower case; "*.example.com" or a name) matches `host` (lower case).
[[nodiscard]] bool serverNameMatches(std::string_view pattern, std::string_view host) noexcept;

}  // namespace gatelab::proxy
