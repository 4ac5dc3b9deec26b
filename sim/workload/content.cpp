#include "sim/workload/content.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "gateway/core/decimal.hpp"
#include "sim/engine/service_time.hpp"

namespace gatelab::sim::workload {
namespace {

// Search terms and image names for {word}: fixed, so traces do not depend on anything external.
constexpr std::array<std::string_view, 64> kWords{
    "apple",  "arrow",  "basket", "beach",  "bottle", "bridge", "candle", "canvas", "carpet", "chair",  "cloud",
    "coffee", "copper", "cotton", "crystal", "desk",  "dragon", "engine", "fabric", "falcon", "forest", "garden",
    "glass",  "guitar", "hammer", "harbor", "helmet", "island", "jacket", "kettle", "ladder", "lantern", "laptop",
    "lemon",  "marble", "meadow", "mirror", "monitor", "needle", "ocean", "orange", "paper",  "pencil", "pepper",
    "pillow", "planet", "pocket", "puzzle", "rabbit", "river",  "rocket", "saddle", "shadow", "silver", "spoon",
    "summer", "table",  "tiger",  "timber", "tunnel", "velvet", "wallet", "window", "yellow"};

constexpr char kHexChars[] = "0123456789abcdef";

// Distinct purposes of the identity salt, so key, tenant and user agent are independent.
constexpr std::uint64_t kKeyPurpose = 0x6B65792D73616C74ULL;
constexpr std::uint64_t kTenantPurpose = 0x74656E616E747321ULL;
constexpr std::uint64_t kAgentPurpose = 0x6167656E742D7561ULL;
constexpr std::uint64_t kSizePurpose = 0x73697A652D706174ULL;

double unitFromHash(std::uint64_t h) noexcept { return static_cast<double>(h >> 11) * 0x1.0p-53; }

bool allowedLiteral(char c) noexcept { return c > 0x20 && c < 0x7f && c != '"' && c != '\\'; }

struct ParsedSegment {
  enum class Kind : std::uint8_t { kLiteral, kId, kInt, kWord, kHex } kind = Kind::kLiteral;
  std::string text;
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  std::uint32_t digits = 8;
};

bool parseUint(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 18) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

// Splits a template into literal text and placeholders; the error names the first problem.
std::optional<std::string> parseTemplate(std::string_view t, std::vector<ParsedSegment>* out) {
  if (t.empty() || t.front() != '/') return "a path template must start with '/'";
  if (t.size() > 1024) return "a path template must be at most 1024 bytes long";
  ParsedSegment literal;
  const auto flush = [&] {
    if (!literal.text.empty() && out) out->push_back(literal);
    literal.text.clear();
  };
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '}') return "'}' without a matching '{' at offset " + std::to_string(i);
    if (c != '{') {
      if (!allowedLiteral(c)) {
        return "character " + (c == ' ' ? std::string("' '") : c == '"' ? std::string("'\"'") : c == '\\' ? std::string("'\\'") : "0x" + std::to_string(static_cast<unsigned char>(c))) +
               " at offset " + std::to_string(i) + " is not allowed in a path";
      }
      literal.text.push_back(c);
      continue;
    }
    const std::size_t close = t.find('}', i + 1);
    if (close == std::string_view::npos) return "'{' at offset " + std::to_string(i) + " is not closed";
    const std::string_view name = t.substr(i + 1, close - i - 1);
    ParsedSegment p;
    if (name == "id") {
      p.kind = ParsedSegment::Kind::kId;
    } else if (name == "word") {
      p.kind = ParsedSegment::Kind::kWord;
    } else if (name == "hex") {
      p.kind = ParsedSegment::Kind::kHex;
    } else if (name.starts_with("hex:")) {
      std::uint64_t n = 0;
      if (!parseUint(name.substr(4), n) || n < 1 || n > 32) return "{" + std::string(name) + "}: N must be 1 to 32";
      p.kind = ParsedSegment::Kind::kHex;
      p.digits = static_cast<std::uint32_t>(n);
    } else if (name.starts_with("int:")) {
      const std::string_view range = name.substr(4);
      const std::size_t dash = range.find('-');
      std::uint64_t lo = 0;
      std::uint64_t hi = 0;
      if (dash == std::string_view::npos || !parseUint(range.substr(0, dash), lo) || !parseUint(range.substr(dash + 1), hi) ||
          lo > hi) {
        return "{" + std::string(name) + "}: expected {int:LO-HI} with integers 0 <= LO <= HI < 10^18";
      }
      p.kind = ParsedSegment::Kind::kInt;
      p.lo = lo;
      p.hi = hi;
    } else {
      return "unknown placeholder {" + std::string(name) + "}";
    }
    flush();
    if (out) out->push_back(p);
    i = close;
  }
  flush();
  return std::nullopt;
}

}  // namespace

ContentSpec defaultContent() {
  ContentSpec c;
  c.methods = {{"GET", 1}};
  const auto staticAsset = [](std::string pattern, double weight, std::uint64_t median, std::uint64_t p99) {
    PathSpec p;
    p.pattern = std::move(pattern);
    p.weight = weight;
    p.statuses = {{200, 85}, {304, 15}};
    p.bytes = SizeSpec{median, p99, true};
    p.requestTime = LatencySpec{std::chrono::milliseconds(2), std::chrono::milliseconds(30)};
    return p;
  };
  PathSpec users{"/api/users/{id}", 18, {{"GET", 90}, {"PUT", 8}, {"DELETE", 2}}, {}, {}, {}};
  PathSpec userOrders{"/api/users/{id}/orders", 6, {}, {}, {}, {}};
  PathSpec orders{"/api/orders", 10, {{"GET", 55}, {"POST", 45}}, {{200, 85}, {201, 10}, {400, 3}, {500, 1}, {503, 1}}, {}, {}};
  PathSpec order{"/api/orders/{id}", 8, {}, {}, {}, {}};
  PathSpec products{"/api/products?page={int:1-40}", 8, {}, {}, {}, {}};
  PathSpec product{"/api/products/{id}", 14, {}, {}, {}, {}};
  PathSpec search{"/api/search?q={word}", 8, {}, {}, {},
                  LatencySpec{std::chrono::milliseconds(60), std::chrono::milliseconds(900)}};
  PathSpec login{"/api/login", 2, {{"POST", 1}}, {{200, 85}, {401, 15}}, SizeSpec{350, 600, false}, {}};
  c.paths = {users, userOrders, orders, order, products, product, search, login,
             staticAsset("/static/js/app.{int:1-6}.js", 10, 90'000, 350'000),
             staticAsset("/static/css/site.{int:1-3}.css", 6, 25'000, 80'000),
             staticAsset("/static/img/{word}.png", 10, 30'000, 400'000)};
  c.statuses = {{200, 95}, {404, 3}, {500, 1}, {503, 1}};
  c.bytes = SizeSpec{1200, 30'000, false};
  c.requestTime = LatencySpec{};
  c.userAgents = {
      {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", 35},
      {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15", 15},
      {"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", 8},
      {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", 20},
      {"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", 15},
      {"okhttp/4.12.0", 4},
      {"shop-ios/5.2.1 CFNetwork/1494.0.7 Darwin/23.4.0", 3},
  };
  c.referers = {{"-", 60}, {"https://shop.example.com/", 25}, {"https://shop.example.com/products", 10}, {"https://www.google.com/", 5}};
  c.protocols = {{"HTTP/1.1", 70}, {"HTTP/2.0", 30}};
  c.apiKeyHeader = "X-Api-Key";
  c.tenantHeader = "X-Tenant-Id";
  c.tenants = 20;
  c.ids = 100'000;
  return c;
}

std::vector<Weighted<std::string>> scriptUserAgents() {
  return {{"python-requests/2.31.0", 50}, {"curl/8.5.0", 25}, {"Go-http-client/1.1", 25}};
}

std::optional<std::string> checkPathTemplate(std::string_view pattern) { return parseTemplate(pattern, nullptr); }

template <typename T>
const T& ContentModel::Choice<T>::pick(Rng& rng) const noexcept {
  if (values.size() == 1) return values.front();  // a certain choice consumes no randomness
  return pickFixed(rng.uniform());
}

template <typename T>
const T& ContentModel::Choice<T>::pickFixed(double u) const noexcept {
  const double target = u * cumulative.back();
  auto it = std::upper_bound(cumulative.begin(), cumulative.end(), target);
  if (it == cumulative.end()) {
    // The product rounded up to the total: the last value with a positive weight.
    std::size_t i = cumulative.size() - 1;
    while (i > 0 && cumulative[i] == cumulative[i - 1]) --i;
    return values[i];
  }
  return values[static_cast<std::size_t>(it - cumulative.begin())];
}

template <typename T>
ContentModel::Choice<T> ContentModel::makeChoice(const std::vector<Weighted<T>>& items) {
  Choice<T> c;
  double sum = 0.0;
  for (const Weighted<T>& w : items) {
    sum += w.weight;
    c.values.push_back(w.value);
    c.cumulative.push_back(sum);
  }
  return c;
}

ContentModel::Lognormal ContentModel::lognormal(double median, double p99) noexcept {
  Lognormal l;
  l.mu = std::log(median);
  l.sigma = p99 > median ? std::log(p99 / median) / kNormalQuantile99 : 0.0;
  return l;
}

ContentModel::ContentModel(const ContentSpec& spec, std::uint64_t identitySalt) : salt_(identitySalt) {
  std::vector<Weighted<std::size_t>> pathWeights;
  for (std::size_t i = 0; i < spec.paths.size(); ++i) {
    const PathSpec& p = spec.paths[i];
    CompiledPath cp;
    std::vector<ParsedSegment> parsed;
    (void)parseTemplate(p.pattern, &parsed);  // checked by checkWorkloadSpec
    for (ParsedSegment& s : parsed) {
      Segment seg;
      switch (s.kind) {
        case ParsedSegment::Kind::kLiteral: seg.kind = Segment::Kind::kLiteral; seg.text = std::move(s.text); break;
        case ParsedSegment::Kind::kId: seg.kind = Segment::Kind::kInt; seg.lo = 1; seg.hi = std::max<std::uint64_t>(spec.ids, 1); break;
        case ParsedSegment::Kind::kInt: seg.kind = Segment::Kind::kInt; seg.lo = s.lo; seg.hi = s.hi; break;
        case ParsedSegment::Kind::kWord: seg.kind = Segment::Kind::kWord; break;
        case ParsedSegment::Kind::kHex: seg.kind = Segment::Kind::kHex; seg.digits = s.digits; break;
      }
      cp.segments.push_back(std::move(seg));
    }
    cp.methods = makeChoice(p.methods.empty() ? spec.methods : p.methods);
    cp.statuses = makeChoice(p.statuses.empty() ? spec.statuses : p.statuses);
    const SizeSpec& size = p.bytes ? *p.bytes : spec.bytes;
    cp.bytes = lognormal(static_cast<double>(size.median), static_cast<double>(size.p99));
    cp.bytesPerPath = size.perPath;
    const LatencySpec& latency = p.requestTime ? *p.requestTime : spec.requestTime;
    cp.latency = lognormal(static_cast<double>(latency.median.count()), static_cast<double>(latency.p99.count()));
    paths_.push_back(std::move(cp));
    pathWeights.push_back({i, p.weight});
  }
  pathChoice_ = makeChoice(pathWeights);
  userAgents_ = makeChoice(spec.userAgents);
  referers_ = makeChoice(spec.referers);
  protocols_ = makeChoice(spec.protocols);
  apiKeyHeader_ = spec.apiKeyHeader;
  tenantHeader_ = spec.tenantHeader;
  tenants_ = std::max<std::uint32_t>(spec.tenants, 1);
}

std::vector<std::string> ContentModel::headerNames() const {
  std::vector<std::string> out;
  if (!apiKeyHeader_.empty()) out.push_back(apiKeyHeader_);
  if (!tenantHeader_.empty()) out.push_back(tenantHeader_);
  return out;
}

void ContentModel::draw(Rng& rng, std::uint64_t client, RequestContent& out) const {
  const CompiledPath& p = paths_[pathChoice_.pick(rng)];
  std::string& t = out.target;
  t.clear();
  char digits[24];
  for (const Segment& s : p.segments) {
    switch (s.kind) {
      case Segment::Kind::kLiteral: t += s.text; break;
      case Segment::Kind::kInt: {
        const std::uint64_t v = s.lo + (s.hi > s.lo ? rng.below(s.hi - s.lo + 1) : 0);
        t.append(digits, core::writeDecimal(digits, v));
        break;
      }
      case Segment::Kind::kWord: t += kWords[rng.below(kWords.size())]; break;
      case Segment::Kind::kHex: {
        std::uint64_t bits = 0;
        for (std::uint32_t i = 0; i < s.digits; ++i) {
          if (i % 16 == 0) bits = rng();
          t.push_back(kHexChars[bits & 0xF]);
          bits >>= 4;
        }
        break;
      }
    }
  }
  const std::size_t q = t.find('?');
  out.path = q == std::string::npos ? std::string_view(t) : std::string_view(t).substr(0, q);
  out.query = q == std::string::npos ? std::string_view{} : std::string_view(t).substr(q + 1);

  out.method = p.methods.pick(rng);
  out.status = p.statuses.pick(rng);
  double bytes = 0.0;
  if (p.bytes.sigma == 0.0) {
    bytes = std::exp(p.bytes.mu);
  } else if (p.bytesPerPath) {
    Rng sized(mix64(hashName(t) ^ salt_ ^ kSizePurpose));
    bytes = sized.lognormal(p.bytes.mu, p.bytes.sigma);
  } else {
    bytes = rng.lognormal(p.bytes.mu, p.bytes.sigma);
  }
  out.bytes = static_cast<std::uint64_t>(std::llround(std::min(bytes, 1e15)));
  const double latencyNs = p.latency.sigma == 0.0 ? std::exp(p.latency.mu) : rng.lognormal(p.latency.mu, p.latency.sigma);
  const std::int64_t ms = std::llround(std::min(latencyNs, 1e15) / 1e6);
  out.requestTime = std::chrono::milliseconds(ms);
  const std::string& referer = referers_.pick(rng);
  out.referer = referer == "-" ? std::string_view{} : std::string_view(referer);
  out.protocol = protocols_.pick(rng);
  out.userAgent = userAgents_.pickFixed(unitFromHash(mix64(salt_ ^ kAgentPurpose ^ mix64(client))));

  out.headerCount = 0;
  if (!apiKeyHeader_.empty()) {
    std::uint64_t key = mix64(salt_ ^ kKeyPurpose ^ mix64(client));
    char* k = out.apiKey;
    *k++ = 'k';
    *k++ = '-';
    for (int i = 0; i < 16; ++i) {
      *k++ = kHexChars[key >> 60];
      key <<= 4;
    }
    out.headers[out.headerCount++] = trace::Field{apiKeyHeader_, std::string_view(out.apiKey, static_cast<std::size_t>(k - out.apiKey))};
  }
  if (!tenantHeader_.empty()) {
    const std::uint64_t tenant = mix64(salt_ ^ kTenantPurpose ^ mix64(client)) % tenants_;
    char* e = out.tenant;
    for (const char c : std::string_view("tenant-")) *e++ = c;
    if (tenant < 100) *e++ = '0';
    if (tenant < 10) *e++ = '0';
    e = core::writeDecimal(e, tenant);
    out.headers[out.headerCount++] = trace::Field{tenantHeader_, std::string_view(out.tenant, static_cast<std::size_t>(e - out.tenant))};
  }
}

}  // namespace gatelab::sim::workload
