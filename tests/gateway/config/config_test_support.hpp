#pragma once
// Helpers shared by the config tests: positions computed from the YAML text itself, and the
// table-driven error case (path, node, phrase) every loader test uses.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "gateway/config/loader.hpp"

namespace gatelab::config::test {

inline constexpr std::string_view kFile = "test.yaml";

struct Pos {
  int line = 0;
  int column = 0;
};

// 1-based line and column of the first occurrence of `needle` in `text` (or just after it).
inline Pos posOf(std::string_view text, std::string_view needle, bool after = false) {
  const std::size_t at = text.find(needle);
  EXPECT_NE(at, std::string_view::npos) << "anchor not found: " << needle;
  if (at == std::string_view::npos) return Pos{};
  const std::size_t offset = at + (after ? needle.size() : 0);
  Pos p{1, 1};
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

inline std::string dump(const LoadResult& r) { return r.ok() ? "(loaded without errors)" : r.errorText(); }

// The diagnostic with this path, if exactly one exists.
inline const Diagnostic* findByPath(const LoadResult& r, std::string_view path) {
  const Diagnostic* found = nullptr;
  for (const Diagnostic& d : r.diagnostics) {
    if (d.path != path) continue;
    if (found != nullptr) return nullptr;
    found = &d;
  }
  return found;
}

struct ErrorCase {
  std::string_view what;    // the property checked
  std::string yaml;         // the whole config
  std::string_view path;    // expected YAML path
  std::string_view anchor;  // the node the error points at: first occurrence of this text...
  bool after;               // ...or the text right after it
  std::string_view phrase;  // must appear in the message
};

inline void expectError(const ErrorCase& c) {
  SCOPED_TRACE(std::string(c.what));
  const LoadResult r = loadConfigString(c.yaml, kFile);
  ASSERT_FALSE(r.ok()) << "expected an error for: " << c.what;
  const Diagnostic* d = findByPath(r, c.path);
  ASSERT_NE(d, nullptr) << "no single diagnostic at path " << c.path << "; got:\n" << dump(r);
  const Pos want = posOf(c.yaml, c.anchor, c.after);
  EXPECT_EQ(d->file, kFile);
  EXPECT_EQ(d->line, want.line) << formatDiagnostic(*d);
  EXPECT_EQ(d->column, want.column) << formatDiagnostic(*d);
  EXPECT_THAT(d->message, ::testing::HasSubstr(std::string(c.phrase))) << formatDiagnostic(*d);
  EXPECT_FALSE(d->allowed.empty()) << formatDiagnostic(*d);
}

}  // namespace gatelab::config::test
