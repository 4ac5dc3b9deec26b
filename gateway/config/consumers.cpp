// The top-level `consumers:` section: who key_auth (and a JWT's consumer claim) can resolve to,
// their groups (for ACLs) and their API keys. Semantics: docs/security.md, "API keys".
//
//   consumers:
//     - id: alice
//       groups: [staff, orders-team]
//       keys:
//         - 3b1f0c6e9d2a4f7b8c5e1a0d9f6b2c4e              # a plain key (only its SHA-256 is kept)
//         - { id: alice-ci, key: "sha256:9f86d0...0f00a08" } # or its digest (core::auth::hashApiKey)
//
// The core's checks run on every consumer and key (ConsumerRegistry, ApiKeyAuth) and their errors
// are reported at the YAML node concerned. A key written twice (in any form, for any consumers) is
// reported with both places, never with the key itself: a diagnostic must not leak a secret.

#include <algorithm>
#include <array>
#include <map>

#include "gateway/config/detail/policy_support.hpp"
#include "gateway/config/detail/sections.hpp"
#include "gateway/config/detail/text_checks.hpp"
#include "gateway/core/auth/api_key.hpp"
#include "gateway/core/auth/consumer.hpp"

namespace gatelab::config::detail {
namespace {

// Allowed keys, in documentation order.
constexpr std::array<std::string_view, 3> kConsumerKeys{"id", "groups", "keys"};
constexpr std::array<std::string_view, 2> kCredentialKeys{"id", "key"};

constexpr std::string_view kListAllowed = "a list of consumers, each {id, groups: [...], keys: [...]}";
constexpr std::string_view kIdAllowed = "1-256 visible characters (no spaces or control characters)";
constexpr std::string_view kGroupsAllowed =
    "a list of group names: visible characters without ',' (X-Consumer-Groups is comma-separated), at most 256 "
    "bytes";
constexpr std::string_view kKeysAllowed =
    "a list of API keys: each the key itself (1-1024 visible ASCII characters, random, >= 128 bits of entropy) or "
    "\"sha256:\" and its 64-hex-digit SHA-256, optionally as {id: NAME, key: KEY}";
constexpr std::string_view kKeyAllowed =
    "the key itself (1-1024 visible ASCII characters) or \"sha256:\" followed by 64 hex digits";
constexpr std::string_view kCredentialIdAllowed = "a credential name without control characters (never the key)";
constexpr std::string_view kHashedPrefix = "sha256:";

std::string checkGroup(const std::string& g) { return core::auth::checkGroupName(g).value_or(std::string{}); }

bool isHex(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// The digest form of a key for duplicate checks and storage: "sha256:" + 64 lower-case hex.
// nullopt for a malformed digest (the core reports it).
std::optional<std::string> canonicalDigest(const std::string& key) {
  if (!std::string_view(key).starts_with(kHashedPrefix)) return core::auth::hashApiKey(key);
  const std::string_view hex = std::string_view(key).substr(kHashedPrefix.size());
  if (hex.size() != 64 || !std::all_of(hex.begin(), hex.end(), isHex)) return std::nullopt;
  return std::string(kHashedPrefix) + toLowerAscii(hex);
}

struct KeyDraft {
  std::string key;  // as written (a secret: never put into a message)
  std::string id;
  Node keyNode;     // the key's value node
  std::optional<Node> idNode;
  std::size_t consumer = 0;  // index into the draft list
};

struct ConsumerDraft {
  ConsumerConfig config;
  std::optional<Located> id;
  std::vector<StringItem> groups;
  std::optional<Node> groupsNode;
  Node node;
};

void readKeys(Sink& sink, const Node& list, std::size_t consumer, std::vector<KeyDraft>& out) {
  if (list.yaml.IsScalar()) {
    // readList would quote the value, which is most likely a key: say what it is, not what it holds.
    sink.error(list.mark, list.path, "expected a list of keys, got a single value; write keys: [KEY]",
               std::string(kKeysAllowed));
    return;
  }
  auto items = readList(sink, list, kKeysAllowed, /*allowEmpty=*/true);
  if (!items) return;
  for (const Node& item : *items) {
    KeyDraft k;
    k.consumer = consumer;
    if (item.yaml.IsScalar()) {
      auto text = readString(sink, item, kKeyAllowed);
      if (!text) continue;
      k.key = *text;
      k.keyNode = item;
    } else {
      auto m = Mapping::open(sink, item, kCredentialKeys, "an API key");
      if (!m) continue;
      auto key = m->require(sink, "key", kKeyAllowed);
      if (!key) continue;
      auto text = readString(sink, *key, kKeyAllowed);
      if (!text) continue;
      k.key = *text;
      k.keyNode = *key;
      if (auto id = m->get("id")) {
        auto name = readString(sink, *id, kCredentialIdAllowed);
        if (!name) continue;
        k.id = *name;
        k.idNode = *id;
      }
    }
    out.push_back(std::move(k));
  }
}

}  // namespace

ConsumersDraft readConsumers(Sink& sink, const Node& list) {
  ConsumersDraft result;
  auto items = readList(sink, list, kListAllowed, /*allowEmpty=*/true);
  if (!items) return result;
  const std::size_t before = sink.count();

  std::vector<ConsumerDraft> drafts;
  std::vector<KeyDraft> keys;
  for (const Node& item : *items) {
    auto m = Mapping::open(sink, item, kConsumerKeys, "a consumer");
    if (!m) continue;
    ConsumerDraft d;
    d.node = item;
    if (auto n = m->require(sink, "id", kIdAllowed)) {
      if (auto id = readString(sink, *n, kIdAllowed)) {
        d.config.id = *id;
        d.id = Located{*id, n->mark, n->path};
      }
    }
    if (auto n = m->get("groups")) {
      d.groupsNode = *n;
      if (auto groups = readStringList(sink, *n, "group", kGroupsAllowed, /*allowEmpty=*/true, checkGroup)) {
        d.groups = std::move(*groups);
        d.config.groups = valuesOf(d.groups);
      }
    }
    if (auto n = m->get("keys")) readKeys(sink, *n, drafts.size(), keys);
    drafts.push_back(std::move(d));
  }

  // Ids: unique (both places named), then the core's rules on ids and groups.
  std::map<std::string, const Located*, std::less<>> seen;
  std::vector<core::auth::Consumer> unique;
  SpecFieldMap fields(list, std::string(kListAllowed));
  for (const ConsumerDraft& d : drafts) {
    if (!d.id) continue;
    result.ids.push_back(*d.id);
    const auto [it, inserted] = seen.emplace(d.id->value, &*d.id);
    if (!inserted) {
      sink.error(d.id->mark, d.id->path,
                 "duplicate consumer id " + inQuotes(d.id->value) + "; first defined at " + sink.file() + ":" +
                     at(it->second->mark) + " (" + it->second->path + ")",
                 "consumer ids must be unique");
      continue;
    }
    const std::string field = "consumers[" + std::to_string(unique.size()) + "]";
    fields.add(field, d.node, std::string(kListAllowed));
    fields.add(field + ".id", Node{YAML::Node{}, d.id->path, d.id->mark}, std::string(kIdAllowed));
    for (std::size_t g = 0; g < d.groups.size(); ++g) {
      fields.add(field + ".groups[" + std::to_string(g) + "]", d.groups[g].node, std::string(kGroupsAllowed));
    }
    unique.push_back(core::auth::Consumer{d.config.id, d.config.groups});
  }
  {
    core::SpecErrors errors;
    (void)core::auth::ConsumerRegistry::create(unique, errors);
    fields.report(sink, errors);
  }

  // Keys: no key twice, in any spelling (plain or digest, either case), for any consumers.
  std::vector<std::optional<std::string>> digests;
  digests.reserve(keys.size());
  std::vector<std::size_t> checked;  // keys handed to the core's checks
  for (std::size_t i = 0; i < keys.size(); ++i) {
    digests.push_back(canonicalDigest(keys[i].key));
    bool duplicate = false;
    for (std::size_t j = 0; j < i && digests[i]; ++j) {
      if (digests[j] != digests[i]) continue;
      const KeyDraft& first = keys[j];
      const std::string owner = drafts[first.consumer].id ? " (consumer " + inQuotes(drafts[first.consumer].id->value) + ")" : "";
      sink.error(keys[i].keyNode.mark, keys[i].keyNode.path,
                 "the same API key as " + first.keyNode.path + owner + ", defined at " + sink.file() + ":" +
                     at(first.keyNode.mark) + "; a key must identify one credential",
                 "a different key for each credential");
      duplicate = true;
      break;
    }
    if (!duplicate) checked.push_back(i);
  }
  // The core's rules on each key's text and credential id, against a registry of one consumer
  // that owns them all (consumer ids were checked above).
  {
    core::SpecErrors errors;
    auto probe = core::auth::ConsumerRegistry::create({core::auth::Consumer{"probe", {}}}, errors);
    core::auth::ApiKeyAuthSpec spec;
    SpecFieldMap keyFields(list, std::string(kKeysAllowed));
    for (std::size_t c = 0; c < checked.size(); ++c) {
      const KeyDraft& k = keys[checked[c]];
      spec.keys.push_back(core::auth::ApiKeySpec{"probe", k.key, k.id});
      const std::string field = "keys[" + std::to_string(c) + "]";
      keyFields.add(field, k.keyNode, std::string(kKeyAllowed));
      keyFields.add(field + ".key", k.keyNode, std::string(kKeyAllowed));
      if (k.idNode) keyFields.add(field + ".id", *k.idNode, std::string(kCredentialIdAllowed));
    }
    if (probe != nullptr) (void)core::auth::ApiKeyAuth::create(std::move(spec), probe, errors);
    keyFields.report(sink, errors);
  }
  if (sink.count() != before) return result;

  for (std::size_t i = 0; i < keys.size(); ++i) {
    drafts[keys[i].consumer].config.keys.push_back(ConsumerKey{keys[i].id, *digests[i]});
  }
  for (ConsumerDraft& d : drafts) result.consumers.push_back(std::move(d.config));
  return result;
}

}  // namespace gatelab::config::detail
