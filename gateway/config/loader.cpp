#include "gateway/config/loader.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <system_error>

#include <yaml-cpp/eventhandler.h>

#include "gateway/config/detail/sections.hpp"
#include "gateway/config/detail/text_checks.hpp"
#include "gateway/config/detail/yaml_reader.hpp"

namespace gatelab::config {
namespace {

using detail::Located;
using detail::Mapping;
using detail::Mark;
using detail::Node;
using detail::RouteDraft;
using detail::ServiceDraft;
using detail::Sink;
using detail::at;
using detail::inQuotes;

// Allowed top-level keys, in documentation order.
constexpr std::array<std::string_view, 11> kTopKeys{"version", "listen",    "admin",            "threads",
                                                    "tls",     "compression", "redis", "consumers",
                                                    "identity_headers", "services", "routes"};
constexpr std::array<std::string_view, 7> kRedisKeys{"address", "username", "password", "database",
                                                     "timeout", "connect_timeout", "key_prefix"};
constexpr std::array<std::string_view, 3> kCompressionKeys{"types", "min_size", "level"};

void readCompression(Sink& sink, const Mapping& top, GatewayConfig& config) {
  auto n = top.get("compression");
  if (!n) return;
  auto m = Mapping::open(sink, *n, kCompressionKeys, "the compression settings");
  if (!m) return;
  const std::size_t before = sink.count();
  CompressionConfig c;
  if (auto t = m->get("types")) {
    constexpr std::string_view kAllowed = "media types such as text/html or application/json (type/subtype, no parameters)";
    if (auto items = readList(sink, *t, kAllowed)) {
      c.types.clear();
      for (const Node& item : *items) {
        auto text = detail::readString(sink, item, kAllowed);
        if (!text) continue;
        const std::string lower = detail::toLowerAscii(*text);
        const std::size_t slash = lower.find('/');
        const bool ok = slash != std::string::npos && slash > 0 && slash + 1 < lower.size() &&
                        lower.find_first_of(" ;,\t", 0) == std::string::npos && lower.find('/', slash + 1) == std::string::npos;
        if (!ok) {
          sink.error(item.mark, item.path, "invalid media type " + inQuotes(*text), std::string(kAllowed));
          continue;
        }
        c.types.push_back(lower);
      }
    }
  }
  if (auto v = m->get("min_size")) {
    if (auto i = detail::readInt(sink, *v, 0, std::int64_t{1} << 40)) c.minSize = static_cast<std::uint64_t>(*i);
  }
  if (auto v = m->get("level")) {
    if (auto i = detail::readInt(sink, *v, 1, 9)) c.level = static_cast<int>(*i);
  }
  if (sink.count() == before) config.compression = std::move(c);
}

void readRedis(Sink& sink, const Mapping& top, GatewayConfig& config) {
  auto n = top.get("redis");
  if (!n) return;
  auto m = Mapping::open(sink, *n, kRedisKeys, "the redis settings");
  if (!m) return;
  const std::size_t before = sink.count();
  RedisConfig r;
  if (auto a = m->require(sink, "address", std::string(kHostPortAllowed))) {
    if (auto text = detail::readString(sink, *a, kHostPortAllowed)) {
      auto parsed = parseHostPort(*text);
      if (!parsed) {
        sink.error(a->mark, a->path, parsed.error().message, parsed.error().allowed);
      } else if (parsed.value().port == 0) {
        sink.error(a->mark, a->path, "port 0 is not a Redis server's port", "HOST:PORT with a port 1-65535, e.g. 127.0.0.1:6379");
      } else {
        r.address = parsed.value();
      }
    }
  }
  constexpr std::string_view kCredential = "a string without spaces or control characters";
  auto credential = [&](std::string_view key, std::string& out) {
    auto v = m->get(key);
    if (!v) return;
    auto text = detail::readString(sink, *v, kCredential);
    if (!text) return;
    const bool ok = !text->empty() && std::none_of(text->begin(), text->end(), [](char c) {
      return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
    });
    if (!ok) {
      sink.error(v->mark, v->path, "invalid " + std::string(key), std::string(kCredential));
      return;
    }
    out = *text;
  };
  credential("username", r.username);
  credential("password", r.password);
  if (!r.username.empty() && r.password.empty()) {
    const Node u = *m->get("username");
    sink.error(u.mark, u.path, "a username needs a password", "username and password together, or password alone");
  }
  if (auto v = m->get("database")) {
    if (auto i = detail::readInt(sink, *v, 0, 1'000'000)) r.database = static_cast<int>(*i);
  }
  auto duration = [&](std::string_view key, core::Duration max, core::Duration& out) {
    auto v = m->get(key);
    if (!v) return;
    auto d = detail::readPositiveDuration(sink, *v);
    if (!d) return;
    if (*d > max) {
      sink.error(v->mark, v->path, std::string(key) + " " + core::formatDuration(*d) + " is too long",
                 "a duration up to " + core::formatDuration(max));
      return;
    }
    out = *d;
  };
  duration("timeout", std::chrono::seconds(10), r.timeout);
  duration("connect_timeout", std::chrono::seconds(60), r.connectTimeout);
  if (auto v = m->get("key_prefix")) {
    constexpr std::string_view kPrefixAllowed = "1-64 characters of A-Z a-z 0-9 _ - . :";
    if (auto text = detail::readString(sink, *v, kPrefixAllowed)) {
      const bool ok = !text->empty() && text->size() <= 64 && std::all_of(text->begin(), text->end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '.' || c == ':';
      });
      if (ok) {
        r.keyPrefix = *text;
      } else {
        sink.error(v->mark, v->path, "invalid key_prefix " + inQuotes(*text), std::string(kPrefixAllowed));
      }
    }
  }
  if (sink.count() == before) config.redis = std::move(r);
}

void readVersion(Sink& sink, const Mapping& top, GatewayConfig& config) {
  const std::string allowed = "supported versions: " + std::to_string(kSupportedVersion);
  auto n = top.require(sink, "version", allowed);
  if (!n) return;
  if (n->yaml.IsScalar() && n->yaml.Scalar() == std::to_string(kSupportedVersion)) {
    config.version = kSupportedVersion;
    return;
  }
  const std::string got = n->yaml.IsScalar() ? n->yaml.Scalar() : detail::describe(n->yaml);
  sink.error(n->mark, n->path, "unsupported config version " + (n->yaml.IsScalar() ? inQuotes(got) : got), allowed);
}

std::optional<HostPort> readHostPortNode(Sink& sink, const Node& n) {
  auto text = detail::readString(sink, n, kHostPortAllowed);
  if (!text) return std::nullopt;
  auto parsed = parseHostPort(*text);
  if (!parsed) {
    sink.error(n.mark, n.path, parsed.error().message, parsed.error().allowed);
    return std::nullopt;
  }
  return parsed.value();
}

void readAddress(Sink& sink, const Mapping& top, std::string_view key, HostPort& out) {
  auto n = top.get(key);
  if (!n) return;
  if (n->yaml.IsSequence()) {  // `admin: [::1]:9901` is a YAML flow list followed by junk
    sink.error(n->mark, n->path, "expected HOST:PORT, got a list; quote IPv6 addresses, as in '[::1]:8080'",
               std::string(kHostPortAllowed));
    return;
  }
  if (auto hp = readHostPortNode(sink, *n)) out = *hp;
}

// `listen`: one HOST:PORT, or a list of them (e.g. IPv4 and IPv6), all distinct.
void readListen(Sink& sink, const Mapping& top, GatewayConfig& config) {
  auto n = top.get("listen");
  if (!n) return;
  if (!n->yaml.IsSequence()) {
    if (auto hp = readHostPortNode(sink, *n)) config.listen = *hp;
    return;
  }
  const std::string allowed = "a HOST:PORT or a non-empty list of them, such as [0.0.0.0:8080, '[::]:8080'] (IPv6 "
                              "addresses quoted)";
  auto items = detail::readList(sink, *n, allowed, /*allowEmpty=*/false);
  if (!items) return;
  std::vector<HostPort> all;
  for (const Node& item : *items) {
    if (!item.yaml.IsScalar()) {  // `listen: [[::1]:8080]`: an unquoted IPv6 address
      sink.error(item.mark, item.path, "expected HOST:PORT, got " + detail::describe(item.yaml) +
                                           "; quote IPv6 addresses, as in '[::1]:8080'",
                 std::string(kHostPortAllowed));
      continue;
    }
    auto hp = readHostPortNode(sink, item);
    if (!hp) continue;
    if (std::find(all.begin(), all.end(), *hp) != all.end()) {
      sink.error(item.mark, item.path, "listen address " + hp->toString() + " is listed twice", allowed);
      continue;
    }
    all.push_back(*hp);
  }
  if (all.empty()) return;
  config.listen = all.front();
  config.alsoListen.assign(all.begin() + 1, all.end());
}

// Reports every name that repeats an earlier one, pointing at the repeat and naming the first.
void checkUnique(Sink& sink, const std::vector<const Located*>& names, std::string_view what) {
  std::map<std::string, const Located*, std::less<>> seen;
  for (const Located* n : names) {
    auto [it, inserted] = seen.emplace(n->value, n);
    if (inserted) continue;
    sink.error(n->mark, n->path,
               "duplicate " + std::string(what) + " name " + inQuotes(n->value) + "; first defined at " + sink.file() +
                   ":" + at(it->second->mark) + " (" + it->second->path + ")",
               std::string(what) + " names must be unique");
  }
}

void checkServiceRefs(Sink& sink, const std::vector<ServiceDraft>& services, const std::vector<RouteDraft>& routes) {
  std::vector<std::string> names;
  for (const ServiceDraft& s : services) {
    if (s.name && std::find(names.begin(), names.end(), s.name->value) == names.end()) names.push_back(s.name->value);
  }
  const std::string allowed =
      names.empty() ? "a service defined under services (there are none)"
                    : "a service defined under services: " + joinNames(std::span<const std::string>(names));
  for (const RouteDraft& r : routes) {
    for (const Located& ref : r.serviceRefs) {
      if (std::find(names.begin(), names.end(), ref.value) != names.end()) continue;
      sink.error(ref.mark, ref.path, "unknown service " + inQuotes(ref.value) + didYouMean(ref.value, names), allowed);
    }
  }
}

// key_auth policies need consumers (their keys), and the consumers they name must exist.
void checkConsumerRefs(Sink& sink, const detail::ConsumersDraft& consumers, const std::vector<RouteDraft>& routes) {
  std::vector<std::string> ids;
  for (const Located& id : consumers.ids) {
    if (std::find(ids.begin(), ids.end(), id.value) == ids.end()) ids.push_back(id.value);
  }
  for (const RouteDraft& r : routes) {
    if (ids.empty()) {
      for (const Located& user : r.consumerUsers) {
        sink.error(user.mark, user.path,
                   user.value + " needs consumers, and the config defines none: add a top-level consumers: list with "
                                "their API keys",
                   "consumers: [{id: NAME, groups: [...], keys: [KEY or sha256:HEX, ...]}] at the top level");
      }
      continue;
    }
    for (const Located& ref : r.consumerRefs) {
      if (std::find(ids.begin(), ids.end(), ref.value) != ids.end()) continue;
      sink.error(ref.mark, ref.path, "unknown consumer " + inQuotes(ref.value) + didYouMean(ref.value, ids),
                 "a consumer id defined under consumers: " + joinNames(std::span<const std::string>(ids)));
    }
  }
}

// Canonical text of a route's match conditions: two routes with the same text match exactly the
// same requests.
std::string matchKey(const core::RouteSpec& spec) {
  constexpr char kSep = '\x1f';
  std::string key = std::to_string(static_cast<int>(spec.pathKind)) + kSep + spec.path + kSep;
  std::vector<std::string> methods = spec.methods;
  std::sort(methods.begin(), methods.end());
  for (const std::string& m : methods) key += m + ',';
  key += kSep;
  std::vector<std::string> hosts = spec.hosts;
  std::sort(hosts.begin(), hosts.end());
  for (const std::string& h : hosts) key += h + ',';
  key += kSep;
  std::vector<std::string> headers;
  for (const core::HeaderPredicate& p : spec.headers) {
    std::string h = detail::toLowerAscii(p.name) + kSep + std::to_string(static_cast<int>(p.kind)) + kSep;
    std::vector<std::string> values = p.values;
    std::sort(values.begin(), values.end());
    for (const std::string& v : values) h += v + kSep;
    h += p.regex;
    headers.push_back(std::move(h));
  }
  std::sort(headers.begin(), headers.end());
  for (const std::string& h : headers) key += h + '\x1e';
  return key;
}

void checkDuplicateMatches(Sink& sink, const std::vector<RouteDraft>& routes) {
  std::vector<std::pair<std::string, const RouteDraft*>> seen;
  for (const RouteDraft& r : routes) {
    if (!r.matchComplete) continue;
    std::string key = matchKey(r.config.spec);
    for (const auto& [otherKey, other] : seen) {
      if (otherKey != key || other->config.spec.priority != r.config.spec.priority) continue;
      const std::string otherName = other->name ? inQuotes(other->name->value) : other->matchPath;
      sink.error(r.matchMark, r.matchPath,
                 "same match conditions as route " + otherName + " (at " + sink.file() + ":" + at(other->matchMark) +
                     ") and no priority to choose between them",
                 "different conditions, or a different priority on one of the routes");
      break;
    }
    seen.emplace_back(std::move(key), &r);
  }
}

void validate(Sink& sink, const YAML::Node& root, GatewayConfig& config) {
  const Node rootNode{root, "", detail::markOf(root, Mark{1, 1})};
  if (root.IsNull() || !root.IsDefined()) {
    sink.error(Mark{1, 1}, "", "the config is empty",
               "a mapping with keys " + joinNames(std::span<const std::string_view>(kTopKeys)));
    return;
  }
  auto top = Mapping::open(sink, rootNode, kTopKeys, "the config");
  if (!top) return;
  readVersion(sink, *top, config);
  readListen(sink, *top, config);
  readAddress(sink, *top, "admin", config.admin);
  if (auto n = top->get("threads")) {
    if (auto t = detail::readInt(sink, *n, 1, 1024)) config.threads = static_cast<unsigned>(*t);
  }
  readCompression(sink, *top, config);
  readRedis(sink, *top, config);
  detail::readTls(sink, *top, config);
  if (top->has("listen") || top->has("admin")) {
    for (const HostPort& also : config.alsoListen) {
      if (also == config.admin && also.port != 0)
        sink.error(top->keyMark("listen"), "listen", "admin and listen share the address " + also.toString(),
                   "two different addresses (default listen 127.0.0.1:8080, admin 127.0.0.1:9901)");
    }
    if (config.listen == config.admin && config.listen.port != 0) {
      sink.error(top->keyMark(top->has("admin") ? "admin" : "listen"), top->has("admin") ? "admin" : "listen",
                 "admin and listen are the same address " + config.admin.toString(),
                 "two different addresses (default listen 127.0.0.1:8080, admin 127.0.0.1:9901)");
    }
  }

  detail::ConsumersDraft consumers;
  if (auto n = top->get("consumers")) consumers = detail::readConsumers(sink, *n);
  if (auto n = top->get("identity_headers")) detail::readIdentityHeaders(sink, *n, config.identityHeaders);

  std::vector<ServiceDraft> services;
  if (auto n = top->get("services")) services = detail::readServices(sink, *n);
  std::vector<RouteDraft> routes;
  if (auto n = top->get("routes")) routes = detail::readRoutes(sink, *n);

  std::vector<const Located*> serviceNames;
  for (const ServiceDraft& s : services) {
    if (s.name) serviceNames.push_back(&*s.name);
  }
  checkUnique(sink, serviceNames, "service");
  std::vector<const Located*> routeNames;
  std::vector<const Located*> policyNames;
  for (const RouteDraft& r : routes) {
    if (r.name) routeNames.push_back(&*r.name);
    for (const Located& p : r.policyNames) policyNames.push_back(&p);
  }
  checkUnique(sink, routeNames, "route");
  checkUnique(sink, policyNames, "policy");
  checkServiceRefs(sink, services, routes);
  checkDuplicateMatches(sink, routes);
  if (!top->has("redis")) {
    for (const RouteDraft& r : routes) {
      for (const Located& store : r.redisStores) {
        sink.error(store.mark, store.path, "store: redis needs a top-level redis section (where the Redis server is)",
                   "redis: { address: HOST:PORT } at the top level, or store: local");
      }
    }
  }

  checkConsumerRefs(sink, consumers, routes);

  config.consumers = std::move(consumers.consumers);
  for (ServiceDraft& s : services) config.services.push_back(std::move(s.config));
  for (RouteDraft& r : routes) config.routes.push_back(std::move(r.config));
}

LoadResult finish(Sink& sink, GatewayConfig&& config) {
  LoadResult result;
  if (sink.count() == 0) {
    result.config = std::make_shared<const GatewayConfig>(std::move(config));
  } else {
    result.diagnostics = sink.take();
  }
  return result;
}

LoadResult singleError(std::string_view file, std::string message) {
  LoadResult result;
  result.diagnostics.push_back(Diagnostic{std::string(file), 0, 0, "", std::move(message), ""});
  return result;
}

}  // namespace

LoadResult loadConfigString(std::string_view yaml, std::string_view displayName) {
  Sink sink(std::string(displayName), kMaxDiagnostics);
  GatewayConfig config;
  config.source = std::string(displayName);
  try {
    if (yaml.size() > kMaxConfigBytes) {
      return singleError(displayName, "the config is " + std::to_string(yaml.size()) + " bytes; the limit is " +
                                          std::to_string(kMaxConfigBytes));
    }
    const std::string text(yaml);
    const detail::DocumentScan scan = detail::scanDocuments(text);
    if (scan.stuckAt) {
      const std::size_t pos = static_cast<std::size_t>(std::max(scan.stuckAt->pos, 0));
      const std::string what = pos < text.size() ? inQuotes(text.substr(pos, 1)) : std::string("end of input");
      sink.error(Mark{scan.stuckAt->line + 1, scan.stuckAt->column + 1}, "",
                 "YAML syntax error: unexpected " + what + "; the parser cannot continue from here",
                 "a YAML mapping; a ',' belongs inside [...] or {...}");
    } else if (scan.documents > 1) {
      sink.error(scan.second, "",
                 "a config file holds one YAML document; found " + std::to_string(scan.documents) +
                     (scan.documents >= detail::kMaxDocumentsScanned ? " or more" : ""),
                 "a single document (remove the extra '---')");
    } else {
      validate(sink, scan.documents == 0 ? YAML::Node{} : YAML::Load(text), config);
    }
  } catch (const YAML::Exception& e) {
    // yaml-cpp's ParserException (and friends) carry the 0-based position of the problem.
    const Mark m{e.mark.line >= 0 ? e.mark.line + 1 : 0, e.mark.column >= 0 ? e.mark.column + 1 : 0};
    sink.error(m, "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    sink.error(Mark{}, "", std::string("internal error while reading the config: ") + e.what());
  }
  return finish(sink, std::move(config));
}

LoadResult loadConfigFile(const std::string& path) {
  try {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (status.type() == std::filesystem::file_type::not_found) {
      return singleError(path, "cannot read config file: no such file");
    }
    if (ec) return singleError(path, "cannot read config file: " + ec.message());
    if (std::filesystem::is_directory(status)) return singleError(path, "cannot read config file: it is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) return singleError(path, std::string("cannot open config file: ") + std::strerror(errno));
    std::string text;
    std::array<char, 64 * 1024> buffer{};
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      text.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
      if (text.size() > kMaxConfigBytes) {
        return singleError(path, "the config file is larger than the limit of " + std::to_string(kMaxConfigBytes) +
                                     " bytes");
      }
    }
    if (in.bad()) return singleError(path, "error while reading the config file");
    return loadConfigString(text, path);
  } catch (const std::exception& e) {
    return singleError(path, std::string("internal error while reading the config: ") + e.what());
  }
}

}  // namespace gatelab::config
