#include "gateway/config/suggest.hpp"

#include <algorithm>
#include <vector>

namespace gatelab::config {
namespace {

char lowerAscii(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  }
  return true;
}

// Words longer than this are not compared: a typo of a config key is short, and the quadratic
// distance must stay cheap on hostile input.
constexpr std::size_t kMaxCompared = 256;

template <typename String>
std::optional<std::string> closest(std::string_view word, std::span<const String> candidates) {
  if (word.empty() || word.size() > kMaxCompared) return std::nullopt;
  const std::size_t threshold = std::max<std::size_t>(1, std::min<std::size_t>(3, word.size() / 3));
  std::optional<std::string> best;
  std::size_t bestDistance = threshold + 1;
  for (const String& c : candidates) {
    const std::string_view candidate{c};
    if (candidate == word || candidate.size() > kMaxCompared) continue;
    if (equalsIgnoreCase(candidate, word)) return std::string(candidate);
    const std::size_t d = editDistance(word, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = std::string(candidate);
    }
  }
  return best;
}

template <typename String>
std::string join(std::span<const String> names) {
  std::string out;
  for (const String& n : names) {
    if (!out.empty()) out += ", ";
    out += std::string_view{n};
  }
  return out;
}

}  // namespace

std::size_t editDistance(std::string_view a, std::string_view b) {
  // Three rolling rows: two back (for transpositions), previous, current.
  std::vector<std::size_t> twoBack(b.size() + 1);
  std::vector<std::size_t> prev(b.size() + 1);
  std::vector<std::size_t> cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], twoBack[j - 2] + 1);
      }
    }
    std::swap(twoBack, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::optional<std::string> closestMatch(std::string_view word, std::span<const std::string_view> candidates) {
  return closest(word, candidates);
}

std::optional<std::string> closestMatch(std::string_view word, std::span<const std::string> candidates) {
  return closest(word, candidates);
}

std::string didYouMean(std::string_view word, std::span<const std::string_view> candidates) {
  auto m = closestMatch(word, candidates);
  return m ? " (did you mean '" + *m + "'?)" : std::string{};
}

std::string didYouMean(std::string_view word, std::span<const std::string> candidates) {
  auto m = closestMatch(word, candidates);
  return m ? " (did you mean '" + *m + "'?)" : std::string{};
}

std::string joinNames(std::span<const std::string_view> names) { return join(names); }
std::string joinNames(std::span<const std::string> names) { return join(names); }

}  // namespace gatelab::config
