#pragma once
// What each generated request looks like: method, path (from weighted templates), status, body
// size, response time, user agent, referer, protocol and identity headers (a per-client API key
// and tenant), so that replays can key rate limits on the client IP, a header, or a route.
//
// ContentSpec is plain data (what the YAML spec and the CLI fill in; defaultContent() gives a
// plausible shop API with static assets). ContentModel is the compiled, immutable form; draw()
// fills a RequestContent from one Rng and the client's index.
//
// Path templates: literal text with placeholders, rendered per request:
//   {id}          an integer, uniform on [1, ContentSpec::ids]
//   {int:LO-HI}   an integer, uniform on [LO, HI]
//   {word}        one of 64 fixed lower-case words (search terms, image names)
//   {hex} {hex:N} N (default 8) random lower-case hex digits
// A template starts with '/' and holds printable ASCII except space, '"' and '\\' (so every format,
// including access logs, carries it unescaped); its query starts at the first '?'.
//
// Draw order per request (all from the caller's Rng, so a stream's draws are reproducible):
// path template, its placeholders left to right, method, status, body size, response time,
// referer, protocol. The user agent, API key and tenant are functions of (identity salt, client
// index): a client keeps them for the whole trace, as real clients do. Body sizes marked
// per_path are a function of the rendered path (the same URL always has the same size).
//
// Distributions: body size and response time are lognormal given a median and a 99th percentile
// (sigma = ln(p99 / median) / 2.3263, as the engine's ServiceTime); response times are rounded to
// whole milliseconds (what nginx's $request_time resolves), sizes to whole bytes.
//
// ContentModel is immutable and thread-safe; draw() O(template length + log(choices)).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/time.hpp"
#include "sim/engine/random.hpp"
#include "sim/trace/trace_record.hpp"

namespace gatelab::sim::workload {

template <typename T>
struct Weighted {
  T value{};
  double weight = 1.0;
  friend bool operator==(const Weighted&, const Weighted&) = default;
};

/// A lognormal body size: median and 99th percentile in bytes (p99 == median: constant).
struct SizeSpec {
  std::uint64_t median = 1500;
  std::uint64_t p99 = 40'000;
  bool perPath = false;  ///< the same rendered path always has the same size (static files)
  friend bool operator==(const SizeSpec&, const SizeSpec&) = default;
};

/// A lognormal response time: median and 99th percentile.
struct LatencySpec {
  core::Duration median = std::chrono::milliseconds(25);
  core::Duration p99 = std::chrono::milliseconds(400);
  friend bool operator==(const LatencySpec&, const LatencySpec&) = default;
};

struct PathSpec {
  std::string pattern;                         ///< "/api/users/{id}"
  double weight = 1.0;
  std::vector<Weighted<std::string>> methods;  ///< empty: ContentSpec::methods
  std::vector<Weighted<int>> statuses;         ///< empty: ContentSpec::statuses
  std::optional<SizeSpec> bytes;               ///< absent: ContentSpec::bytes
  std::optional<LatencySpec> requestTime;      ///< absent: ContentSpec::requestTime
  friend bool operator==(const PathSpec&, const PathSpec&) = default;
};

struct ContentSpec {
  std::vector<Weighted<std::string>> methods;     ///< "GET", ...
  std::vector<PathSpec> paths;
  std::vector<Weighted<int>> statuses;            ///< 100..599
  SizeSpec bytes;
  LatencySpec requestTime;
  std::vector<Weighted<std::string>> userAgents;  ///< sticky per client
  std::vector<Weighted<std::string>> referers;    ///< "-" for none
  std::vector<Weighted<std::string>> protocols;   ///< "HTTP/1.1", "HTTP/2.0"
  std::string apiKeyHeader;                       ///< e.g. "X-Api-Key"; empty: no such header
  std::string tenantHeader;                       ///< e.g. "X-Tenant-Id"; empty: none
  std::uint32_t tenants = 20;                     ///< clients are spread over this many tenants
  std::uint64_t ids = 100'000;                    ///< {id} range
  friend bool operator==(const ContentSpec&, const ContentSpec&) = default;
};

/// A shop-like API: /api/users, /api/orders, /api/products, /api/search, /api/login, and
/// /static/ assets; GET-heavy; 95 % 200; browser user agents; X-Api-Key and X-Tenant-Id headers.
[[nodiscard]] ContentSpec defaultContent();
/// User agents of scripts (python-requests, curl, Go), for abusive clients.
[[nodiscard]] std::vector<Weighted<std::string>> scriptUserAgents();

/// Checks a template's syntax; returns the problem ("unknown placeholder {foo}") or nullopt.
[[nodiscard]] std::optional<std::string> checkPathTemplate(std::string_view pattern);
/// What a template may contain, for messages.
inline constexpr std::string_view kPathTemplateAllowed =
    "a path starting with '/', printable ASCII without spaces, '\"' or '\\', placeholders {id}, {int:LO-HI}, "
    "{word}, {hex}, {hex:N}";

/// One request's content: views into its own buffers, valid until the next draw into it.
struct RequestContent {
  std::string_view method;
  std::string_view path;
  std::string_view query;
  std::string_view protocol;
  std::string_view referer;    ///< empty for none
  std::string_view userAgent;
  int status = 200;
  std::uint64_t bytes = 0;
  core::Duration requestTime{0};
  trace::Field headers[2];
  std::size_t headerCount = 0;

  std::string target;  ///< rendered path[?query] (storage)
  char apiKey[24]{};   ///< storage
  char tenant[32]{};   ///< storage: "tenant-" (7), up to two zeros, a number (writeDecimal: room for 20)
};

class ContentModel {
 public:
  /// Precondition: the spec passed checkWorkloadSpec (weights, templates, ranges). `identitySalt`
  /// makes API keys and tenant assignment depend on the run's seed.
  ContentModel(const ContentSpec& spec, std::uint64_t identitySalt);

  /// Draws one request of client `client` (a global, 0-based client index).
  void draw(Rng& rng, std::uint64_t client, RequestContent& out) const;

  /// Names of the headers draw() can set (for writers that need their columns up front).
  [[nodiscard]] std::vector<std::string> headerNames() const;

 private:
  struct Segment {
    enum class Kind : std::uint8_t { kLiteral, kInt, kWord, kHex } kind = Kind::kLiteral;
    std::string text;       // kLiteral
    std::uint64_t lo = 0;   // kInt
    std::uint64_t hi = 0;
    std::uint32_t digits = 8;  // kHex
  };
  struct Lognormal {
    double mu = 0;
    double sigma = 0;
  };
  template <typename T>
  struct Choice {
    std::vector<T> values;
    std::vector<double> cumulative;
    [[nodiscard]] const T& pick(Rng& rng) const noexcept;
    [[nodiscard]] const T& pickFixed(double u) const noexcept;
  };
  struct CompiledPath {
    std::vector<Segment> segments;
    Choice<std::string> methods;
    Choice<int> statuses;
    Lognormal bytes;
    bool bytesPerPath = false;
    Lognormal latency;
  };

  template <typename T>
  static Choice<T> makeChoice(const std::vector<Weighted<T>>& items);
  static Lognormal lognormal(double median, double p99) noexcept;

  std::vector<CompiledPath> paths_;
  Choice<std::size_t> pathChoice_;
  Choice<std::string> userAgents_;
  Choice<std::string> referers_;
  Choice<std::string> protocols_;
  std::string apiKeyHeader_;
  std::string tenantHeader_;
  std::uint32_t tenants_ = 1;
  std::uint64_t salt_ = 0;
};

}  // namespace gatelab::sim::workload
