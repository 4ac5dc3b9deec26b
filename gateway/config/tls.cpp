// `tls:` (the TLS listener) and a service's `tls:` (TLS to its https:// targets). File paths are
// kept as written (relative to the working directory of the process, as Envoy does); whether the
// files exist and hold a usable certificate and key is checked by the proxy when it loads them,
// so the simulator and `gatelab check` work with a config whose certificates live elsewhere.

#include <algorithm>
#include <array>

#include "gateway/config/detail/sections.hpp"
#include "gateway/config/detail/text_checks.hpp"

namespace gatelab::config::detail {
namespace {

constexpr std::array<std::string_view, 4> kTlsKeys{"listen", "certificates", "min_version", "redirect_http"};
constexpr std::array<std::string_view, 3> kCertificateKeys{"cert", "key", "server_names"};
constexpr std::array<std::string_view, 3> kUpstreamTlsKeys{"verify", "ca_file", "server_name"};
constexpr std::string_view kFileAllowed = "a file path (absolute, or relative to the working directory)";
constexpr std::string_view kServerNameAllowed =
    "a DNS name such as api.example.com, or a wildcard of one label such as *.example.com";

std::optional<std::string> readFilePath(Sink& sink, const Node& node) {
  auto text = readString(sink, node, kFileAllowed);
  if (!text) return std::nullopt;
  if (text->empty() || text->find('\0') != std::string::npos) {
    sink.error(node.mark, node.path, "empty file path", std::string(kFileAllowed));
    return std::nullopt;
  }
  return text;
}

// A server name: a DNS name, or "*." followed by one (wildcard of the leftmost label only).
std::optional<std::string> readServerName(Sink& sink, const Node& node, bool wildcardAllowed) {
  auto text = readString(sink, node, kServerNameAllowed);
  if (!text) return std::nullopt;
  std::string name = toLowerAscii(*text);
  std::string_view rest = name;
  if (wildcardAllowed && rest.starts_with("*.")) rest.remove_prefix(2);
  const bool numeric = !rest.empty() && std::all_of(rest.begin(), rest.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  if (rest.empty() || numeric || !isValidHostName(rest)) {
    sink.error(node.mark, node.path, "invalid server name " + inQuotes(*text), std::string(kServerNameAllowed));
    return std::nullopt;
  }
  return name;
}

}  // namespace

void readTls(Sink& sink, const Mapping& top, GatewayConfig& config) {
  auto n = top.get("tls");
  if (!n) return;
  auto m = Mapping::open(sink, *n, kTlsKeys, "the TLS listener settings");
  if (!m) return;
  const std::size_t before = sink.count();
  TlsConfig tls;
  if (auto l = m->get("listen")) {
    if (auto text = readString(sink, *l, kHostPortAllowed)) {
      auto parsed = parseHostPort(*text);
      if (!parsed) {
        sink.error(l->mark, l->path, parsed.error().message, parsed.error().allowed);
      } else {
        tls.listen = parsed.value();
      }
    }
  }
  constexpr std::string_view kCertsAllowed = "a list of {cert: FILE, key: FILE, server_names: [NAME, ...]}";
  if (auto c = m->require(sink, "certificates", std::string(kCertsAllowed))) {
    if (auto items = readList(sink, *c, kCertsAllowed)) {
      std::vector<std::pair<std::string, Located>> seen;  // server name -> where
      for (const Node& item : *items) {
        auto cm = Mapping::open(sink, item, kCertificateKeys, "a certificate");
        if (!cm) continue;
        TlsCertificate cert;
        if (auto f = cm->require(sink, "cert", std::string(kFileAllowed))) {
          if (auto p = readFilePath(sink, *f)) cert.certFile = *p;
        }
        if (auto f = cm->require(sink, "key", std::string(kFileAllowed))) {
          if (auto p = readFilePath(sink, *f)) cert.keyFile = *p;
        }
        if (auto names = cm->get("server_names")) {
          if (auto list = readList(sink, *names, kServerNameAllowed)) {
            for (const Node& nameNode : *list) {
              auto name = readServerName(sink, nameNode, true);
              if (!name) continue;
              const auto dup = std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first == *name; });
              if (dup != seen.end()) {
                sink.error(nameNode.mark, nameNode.path,
                           "server name " + inQuotes(*name) + " is already served by " + dup->second.path + " (at " +
                               sink.file() + ":" + at(dup->second.mark) + ")",
                           "each server name on one certificate");
                continue;
              }
              seen.emplace_back(*name, Located{*name, nameNode.mark, nameNode.path});
              cert.serverNames.push_back(std::move(*name));
            }
          }
        }
        tls.certificates.push_back(std::move(cert));
      }
    }
  }
  if (auto v = m->get("min_version")) {
    constexpr std::string_view kVersions = "\"1.2\" or \"1.3\" (older versions are not offered)";
    if (auto text = readString(sink, *v, kVersions)) {
      if (*text == "1.2") {
        tls.minVersion = TlsVersion::kTls12;
      } else if (*text == "1.3") {
        tls.minVersion = TlsVersion::kTls13;
      } else {
        sink.error(v->mark, v->path, "unsupported TLS version " + inQuotes(*text), std::string(kVersions));
      }
    }
  }
  if (auto r = m->get("redirect_http")) tls.redirectHttp = readBool(sink, *r).value_or(false);
  const bool onPlain = tls.listen == config.listen ||
                      std::find(config.alsoListen.begin(), config.alsoListen.end(), tls.listen) != config.alsoListen.end();
  if (sink.count() == before && onPlain && tls.listen.port != 0) {
    sink.error(m->keyMark("listen"), "tls.listen", "tls.listen and listen are the same address " + tls.listen.toString(),
               "two different addresses (e.g. listen :8080, tls.listen :8443)");
  }
  if (sink.count() == before && tls.listen == config.admin && tls.listen.port != 0) {
    sink.error(m->keyMark("listen"), "tls.listen", "tls.listen and admin are the same address " + tls.listen.toString(),
               "two different addresses");
  }
  if (sink.count() == before) config.tls = std::move(tls);
}

std::optional<UpstreamTlsConfig> readUpstreamTls(Sink& sink, const Node& node) {
  auto m = Mapping::open(sink, node, kUpstreamTlsKeys, "the upstream TLS settings");
  if (!m) return std::nullopt;
  const std::size_t before = sink.count();
  UpstreamTlsConfig tls;
  if (auto v = m->get("verify")) tls.verify = readBool(sink, *v).value_or(true);
  if (auto f = m->get("ca_file")) {
    if (auto p = readFilePath(sink, *f)) tls.caFile = *p;
  }
  if (auto s = m->get("server_name")) {
    if (auto name = readServerName(sink, *s, false)) tls.serverName = *name;
  }
  if (sink.count() != before) return std::nullopt;
  return tls;
}

}  // namespace gatelab::config::detail
