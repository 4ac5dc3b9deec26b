#include "gateway/core/cache/cache_control.hpp"

#include <array>
#include <chrono>

namespace gatelab::core::cache {

namespace {

constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool isOws(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trimOws(std::string_view s) noexcept {
  while (!s.empty() && isOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && isOws(s.back())) s.remove_suffix(1);
  return s;
}

std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

/// delta-seconds (RFC 9111 §1.2.2): 1*DIGIT, capped at 2^31. nullopt when not all digits.
std::optional<Duration> deltaSeconds(std::string_view v) noexcept {
  if (v.empty()) return std::nullopt;
  std::int64_t n = 0;
  for (char c : v) {
    if (!isDigit(c)) return std::nullopt;
    if (n < kMaxDeltaSeconds) n = n * 10 + (c - '0');
  }
  if (n > kMaxDeltaSeconds) n = kMaxDeltaSeconds;
  return std::chrono::seconds(n);
}

/// Splits a qualified field list ("Set-Cookie, X-Foo") into lower-case names.
void addFieldNames(std::string_view list, std::vector<std::string>& out) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view name = trimOws(list.substr(0, comma));
    if (!name.empty()) out.push_back(toLower(name));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

enum class Delta : std::uint8_t { kMaxAge, kSMaxAge, kSwr, kSie, kMinFresh, kMaxStale };

void setDelta(CacheControl& out, Delta which, std::optional<Duration> value, bool hasValue) {
  std::optional<Duration>* slot = nullptr;
  switch (which) {
    case Delta::kMaxAge: slot = &out.maxAge; break;
    case Delta::kSMaxAge: slot = &out.sMaxAge; break;
    case Delta::kSwr: slot = &out.staleWhileRevalidate; break;
    case Delta::kSie: slot = &out.staleIfError; break;
    case Delta::kMinFresh: slot = &out.minFresh; break;
    case Delta::kMaxStale: slot = &out.maxStale; break;
  }
  if (which == Delta::kMaxStale && !hasValue) {
    out.maxStaleAny = true;
    return;
  }
  if (!value) {
    // max-age=abc: RFC 9111 §4.2.1 - consider the response stale. For the other directives the
    // directive is simply not usable.
    if (which == Delta::kMaxAge || which == Delta::kSMaxAge) out.invalidFreshness = true;
    return;
  }
  if (!slot->has_value()) *slot = value;  // first occurrence wins
}

void applyDirective(std::string_view name, std::optional<std::string_view> value, CacheControl& out) {
  // Directive names are short; compare lower-cased into a small buffer.
  std::array<char, 24> buf{};
  if (name.size() > buf.size()) return;  // no known directive is that long
  for (std::size_t i = 0; i < name.size(); ++i) buf[i] = lower(name[i]);
  const std::string_view n(buf.data(), name.size());
  const bool hasValue = value.has_value();
  const std::string_view v = value.value_or(std::string_view{});
  if (n == "no-store") {
    out.noStore = true;
  } else if (n == "no-cache") {
    if (hasValue && !v.empty()) {
      addFieldNames(v, out.noCacheFields);
    } else {
      out.noCache = true;
    }
  } else if (n == "private") {
    if (hasValue && !v.empty()) {
      addFieldNames(v, out.privateFields);
    } else {
      out.isPrivate = true;
    }
  } else if (n == "public") {
    out.isPublic = true;
  } else if (n == "must-revalidate") {
    out.mustRevalidate = true;
  } else if (n == "proxy-revalidate") {
    out.proxyRevalidate = true;
  } else if (n == "only-if-cached") {
    out.onlyIfCached = true;
  } else if (n == "no-transform") {
    out.noTransform = true;
  } else if (n == "max-age") {
    setDelta(out, Delta::kMaxAge, deltaSeconds(v), hasValue);
  } else if (n == "s-maxage") {
    setDelta(out, Delta::kSMaxAge, deltaSeconds(v), hasValue);
  } else if (n == "stale-while-revalidate") {
    setDelta(out, Delta::kSwr, deltaSeconds(v), hasValue);
  } else if (n == "stale-if-error") {
    setDelta(out, Delta::kSie, deltaSeconds(v), hasValue);
  } else if (n == "min-fresh") {
    setDelta(out, Delta::kMinFresh, deltaSeconds(v), hasValue);
  } else if (n == "max-stale") {
    setDelta(out, Delta::kMaxStale, hasValue ? deltaSeconds(v) : std::nullopt, hasValue);
  }
  // Anything else: an extension this cache does not know; ignored (RFC 9111 §5.2.3).
}

}  // namespace

void parseCacheControlValue(std::string_view value, CacheControl& out) {
  std::size_t i = 0;
  const std::size_t size = value.size();
  while (i < size) {
    // Skip separators and whitespace before a directive.
    while (i < size && (isOws(value[i]) || value[i] == ',')) ++i;
    if (i >= size) break;
    const std::size_t nameStart = i;
    while (i < size && value[i] != '=' && value[i] != ',' && !isOws(value[i])) ++i;
    const std::string_view name = value.substr(nameStart, i - nameStart);
    while (i < size && isOws(value[i])) ++i;
    std::optional<std::string_view> arg;
    std::string unquoted;  // only for quoted strings with escapes
    if (i < size && value[i] == '=') {
      ++i;
      while (i < size && isOws(value[i])) ++i;
      if (i < size && value[i] == '"') {
        ++i;
        const std::size_t start = i;
        bool escaped = false;
        while (i < size && value[i] != '"') {
          if (value[i] == '\\' && i + 1 < size) {
            escaped = true;
            ++i;
          }
          ++i;
        }
        std::string_view raw = value.substr(start, i - start);
        if (i < size) ++i;  // closing quote (a missing one ends the value at the end of the field)
        if (escaped) {
          for (std::size_t k = 0; k < raw.size(); ++k) {
            if (raw[k] == '\\' && k + 1 < raw.size()) ++k;
            unquoted.push_back(raw[k]);
          }
          raw = unquoted;
        }
        arg = raw;
      } else {
        const std::size_t start = i;
        while (i < size && value[i] != ',' && !isOws(value[i])) ++i;
        arg = value.substr(start, i - start);
      }
    }
    if (!name.empty()) applyDirective(name, arg, out);
    // Skip anything up to the next comma (junk after a value such as "max-age=5 x").
    while (i < size && value[i] != ',') ++i;
  }
}

CacheControl parseCacheControl(const HeaderList& fields) {
  CacheControl out;
  for (const HeaderField& f : fields) {
    if (equalsIgnoreCase(f.name, "cache-control")) parseCacheControlValue(f.value, out);
  }
  return out;
}

CacheControl parseCacheControl(std::span<const Header> fields) {
  CacheControl out;
  for (const Header& f : fields) {
    if (equalsIgnoreCase(f.name, "cache-control")) parseCacheControlValue(f.value, out);
  }
  return out;
}

// ---- HTTP-date ------------------------------------------------------------------------------------

namespace {

/// Days from 1970-01-01 to y-m-d (proleptic Gregorian), Howard Hinnant's days_from_civil.
constexpr std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<unsigned> monthOf(std::string_view s) noexcept {
  static constexpr std::array<std::string_view, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (unsigned i = 0; i < kMonths.size(); ++i) {
    if (s == kMonths[i]) return i + 1;
  }
  return std::nullopt;
}

/// Reads exactly `n` digits at `pos` (advancing it).
std::optional<unsigned> digits(std::string_view s, std::size_t& pos, std::size_t n) noexcept {
  if (pos + n > s.size()) return std::nullopt;
  unsigned v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (!isDigit(c)) return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  pos += n;
  return v;
}

bool expect(std::string_view s, std::size_t& pos, char c) noexcept {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

/// "HH:MM:SS" at pos.
std::optional<std::int64_t> timeOfDay(std::string_view s, std::size_t& pos) noexcept {
  const auto h = digits(s, pos, 2);
  if (!h || !expect(s, pos, ':')) return std::nullopt;
  const auto m = digits(s, pos, 2);
  if (!m || !expect(s, pos, ':')) return std::nullopt;
  const auto sec = digits(s, pos, 2);
  if (!sec || *h > 23 || *m > 59 || *sec > 60) return std::nullopt;
  return std::int64_t{*h} * 3600 + std::int64_t{*m} * 60 + std::int64_t{*sec};
}

std::optional<std::int64_t> combine(std::int64_t year, unsigned month, unsigned day, std::int64_t tod) noexcept {
  static constexpr std::array<unsigned, 12> kDays{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1]) return std::nullopt;
  return daysFromCivil(year, month, day) * 86400 + tod;
}

}  // namespace

std::optional<std::int64_t> parseHttpDate(std::string_view text) noexcept {
  const std::string_view s = trimOws(text);
  const std::size_t comma = s.find(',');
  if (comma == 3) {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    std::size_t pos = 4;
    if (!expect(s, pos, ' ')) return std::nullopt;
    const auto day = digits(s, pos, 2);
    if (!day || !expect(s, pos, ' ') || pos + 3 > s.size()) return std::nullopt;
    const auto month = monthOf(s.substr(pos, 3));
    pos += 3;
    if (!month || !expect(s, pos, ' ')) return std::nullopt;
    const auto year = digits(s, pos, 4);
    if (!year || !expect(s, pos, ' ')) return std::nullopt;
    const auto tod = timeOfDay(s, pos);
    if (!tod || s.substr(pos) != " GMT") return std::nullopt;
    return combine(*year, *month, *day, *tod);
  }
  if (comma != std::string_view::npos && comma > 3) {
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
    std::size_t pos = comma + 1;
    if (!expect(s, pos, ' ')) return std::nullopt;
    const auto day = digits(s, pos, 2);
    if (!day || !expect(s, pos, '-') || pos + 3 > s.size()) return std::nullopt;
    const auto month = monthOf(s.substr(pos, 3));
    pos += 3;
    if (!month || !expect(s, pos, '-')) return std::nullopt;
    const auto yy = digits(s, pos, 2);
    if (!yy || !expect(s, pos, ' ')) return std::nullopt;
    const auto tod = timeOfDay(s, pos);
    if (!tod || s.substr(pos) != " GMT") return std::nullopt;
    const std::int64_t year = *yy < 70 ? 2000 + *yy : 1900 + *yy;  // RFC 9110 §5.6.7: within 50 years
    return combine(year, *month, *day, *tod);
  }
  if (comma == std::string_view::npos && s.size() == 24) {
    // asctime: "Sun Nov  6 08:49:37 1994"
    std::size_t pos = 3;
    if (!expect(s, pos, ' ')) return std::nullopt;
    const auto month = monthOf(s.substr(pos, 3));
    pos += 3;
    if (!month || !expect(s, pos, ' ')) return std::nullopt;
    if (s[pos] == ' ') ++pos;  // day padded with a space
    const std::size_t width = s[pos + 1] == ' ' ? 1 : 2;
    const auto day = digits(s, pos, width);
    if (!day || !expect(s, pos, ' ')) return std::nullopt;
    const auto tod = timeOfDay(s, pos);
    if (!tod || !expect(s, pos, ' ')) return std::nullopt;
    const auto year = digits(s, pos, 4);
    if (!year || pos != s.size()) return std::nullopt;
    return combine(*year, *month, *day, *tod);
  }
  return std::nullopt;
}

}  // namespace gatelab::core::cache
