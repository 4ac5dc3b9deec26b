#pragma once
// "Did you mean ...?" support: edit distance and nearest-candidate search, for unknown keys,
// enum values and names. Pure functions, thread-safe.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace gatelab::config {

/// Optimal-string-alignment (restricted Damerau-Levenshtein) distance: insertions, deletions,
/// substitutions and transpositions of adjacent characters each cost 1. Byte-wise, case-sensitive.
/// O(|a| * |b|) time, O(|b|) extra memory.
[[nodiscard]] std::size_t editDistance(std::string_view a, std::string_view b);

/// The candidate closest to `word`, if it is close enough to be a plausible typo: a
/// case-insensitive match, or an edit distance of at most max(1, min(3, |word| / 3)). Ties go to
/// the earlier candidate. Empty when nothing is close.
[[nodiscard]] std::optional<std::string> closestMatch(std::string_view word,
                                                      std::span<const std::string_view> candidates);
/// Same, for candidates held as std::string.
[[nodiscard]] std::optional<std::string> closestMatch(std::string_view word,
                                                      std::span<const std::string> candidates);

/// " (did you mean 'x'?)" when closestMatch finds x, otherwise "".
[[nodiscard]] std::string didYouMean(std::string_view word, std::span<const std::string_view> candidates);
[[nodiscard]] std::string didYouMean(std::string_view word, std::span<const std::string> candidates);

/// "a, b, c": the candidates joined with ", ".
[[nodiscard]] std::string joinNames(std::span<const std::string_view> names);
[[nodiscard]] std::string joinNames(std::span<const std::string> names);

}  // namespace gatelab::config
