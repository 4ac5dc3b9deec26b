// CSV (RFC 4180 quoting: "a ""quoted"" field") and TSV (no quoting) with a column mapping.
//
// The header line (unless TraceFormat::header is false) names the columns; the mapping is resolved
// against it once, and a mapped column the header lacks stops the reader with a message listing
// the columns it has. Rows must have exactly as many columns as the header. A quoted field cannot
// span lines (the reader is line-based): such a row is malformed, and so is its continuation.
#include <algorithm>
#include <cstring>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sim/trace/detail/fields.hpp"
#include "sim/trace/detail/parsers.hpp"

namespace gatelab::sim::trace::detail {
namespace {

/// Appends to `cells` the fields of `line` separated by `delimiter` (no quoting): n delimiters
/// give n + 1 cells, a trailing delimiter an empty last cell. With SSE2 (every x86-64) it compares
/// 16 bytes at a time and walks the bit mask of delimiter positions: one pass over a wide log
/// line instead of a library call per field.
void splitPlain(std::string_view line, char delimiter, std::vector<std::string_view>& cells) {
  const char* const data = line.data();
  const std::size_t n = line.size();
  std::size_t start = 0;
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i needle = _mm_set1_epi8(delimiter);
  for (; i + 16 <= n; i += 16) {
    __m128i chunk;
    std::memcpy(&chunk, data + i, 16);
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, needle)));
    while (mask != 0) {
      const std::size_t at = i + static_cast<std::size_t>(__builtin_ctz(mask));
      cells.emplace_back(data + start, at - start);
      start = at + 1;
      mask &= mask - 1;
    }
  }
  if (i < n && n >= 16) {
    // The last partial chunk: the 16 bytes that end the line, minus the bits of those already
    // scanned (cheaper than the byte loop below for up to 15 bytes).
    const std::size_t base = n - 16;
    __m128i chunk;
    std::memcpy(&chunk, data + base, 16);
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, needle))) >> (i - base);
    while (mask != 0) {
      const std::size_t at = i + static_cast<std::size_t>(__builtin_ctz(mask));
      cells.emplace_back(data + start, at - start);
      start = at + 1;
      mask &= mask - 1;
    }
    i = n;
  }
#endif
  for (; i < n; ++i) {
    if (data[i] == delimiter) {
      cells.emplace_back(data + start, i - start);
      start = i + 1;
    }
  }
  cells.emplace_back(data + start, n - start);
}

struct Binding {
  std::size_t column;
  std::size_t mapping;
};

class DelimitedParser final : public LineParser {
 public:
  DelimitedParser(char delimiter, bool quoting, bool header, std::vector<FieldMapping> mappings, std::size_t explicitCount,
                  TimeParser time, bool keepExtras)
      : delimiter_(delimiter),
        quoting_(quoting),
        header_(header),
        mappings_(std::move(mappings)),
        explicitCount_(explicitCount),
        time_(std::move(time)),
        keepExtras_(keepExtras) {
    for (const FieldMapping& m : mappings_) displays_.push_back("column \"" + m.source + "\"");
    if (!header_) resolveByNumber();
  }

  LineResult parse(std::string_view line, TraceRecord& out) override {
    clearRecord(out);
    headers_.clear();
    extras_.clear();
    if (!fatal_.empty()) return {LineStatus::kFatal, {}, {}};
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return {LineStatus::kSkip, {}, {}};
    if (header_ && !headerDone_) return readHeader(line);
    if (scratch_.capacity() < line.size()) scratch_.reserve(line.size());
    scratch_.clear();
    if (const std::string_view err = split(line); !err.empty()) return {LineStatus::kMalformed, "line", err};
    if (header_ && cells_.size() != columns_.size()) {
      return {LineStatus::kMalformed, "line", cells_.size() < columns_.size() ? "fewer columns than the header"
                                                                              : "more columns than the header"};
    }
    if (!header_ && cells_.size() < minColumns_) return {LineStatus::kMalformed, "line", "fewer columns than the mapping needs"};
    for (const Binding& b : bindings_) {
      const FieldMapping& m = mappings_[b.mapping];
      const std::string_view value = cells_[b.column];
      if (m.field == FieldKind::kHeader) {
        if (!value.empty() && !isDash(value)) headers_.push_back({m.header, value});
        continue;
      }
      if (!value.empty() || m.field == FieldKind::kTime) {  // (an empty time is malformed)
        const std::string_view err = applyField(m.field, value, time_, out);
        if (!err.empty()) return {LineStatus::kMalformed, displays_[b.mapping], err};
      }
    }
    if (keepExtras_ && header_) {
      for (const std::size_t c : unmappedColumns_) extras_.push_back({columns_[c], cells_[c]});
    }
    out.headers = headers_;
    out.extras = extras_;
    return {LineStatus::kRecord, {}, {}};
  }

  std::string fatalMessage() const override { return fatal_; }

  std::size_t scratchCapacity() const noexcept override {
    return scratch_.capacity() + cells_.capacity() * sizeof(std::string_view) + headers_.capacity() * sizeof(Field) +
           extras_.capacity() * sizeof(Field);
  }

 private:
  // Splits a row into cells_ (views into the line, or into scratch_ for quoted fields with "").
  std::string_view split(std::string_view line) {
    cells_.clear();
    if (!quoting_) {
      splitPlain(line, delimiter_, cells_);
      return {};
    }
    std::size_t pos = 0;
    while (true) {
      if (quoting_ && pos < line.size() && line[pos] == '"') {
        std::size_t p = pos + 1;
        bool doubled = false;
        std::size_t close = std::string_view::npos;
        while (true) {
          const std::size_t q = line.find('"', p);
          if (q == std::string_view::npos) return "unterminated quoted field";
          if (q + 1 < line.size() && line[q + 1] == '"') {
            doubled = true;
            p = q + 2;
            continue;
          }
          close = q;
          break;
        }
        const std::string_view raw = line.substr(pos + 1, close - pos - 1);
        cells_.push_back(doubled ? unquote(raw) : raw);
        pos = close + 1;
        if (pos < line.size() && line[pos] != delimiter_) return "text after a closing quote";
      } else {
        const std::size_t d = line.find(delimiter_, pos);
        cells_.push_back(line.substr(pos, d == std::string_view::npos ? std::string_view::npos : d - pos));
        pos = d == std::string_view::npos ? line.size() : d;
      }
      if (pos >= line.size()) break;
      ++pos;  // the delimiter
      if (pos == line.size()) {
        cells_.emplace_back();  // a trailing delimiter ends with an empty cell
        break;
      }
    }
    return {};
  }

  std::string_view unquote(std::string_view raw) {
    const std::size_t begin = scratch_.size();
    for (std::size_t i = 0; i < raw.size(); ++i) {
      scratch_.push_back(raw[i]);
      if (raw[i] == '"') ++i;  // "" -> "
    }
    return std::string_view(scratch_.data() + begin, scratch_.size() - begin);
  }

  LineResult readHeader(std::string_view line) {
    if (line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);  // UTF-8 byte-order mark
    scratch_.reserve(line.size());
    scratch_.clear();
    if (const std::string_view err = split(line); !err.empty()) {
      fatal_ = "cannot read the header line: " + std::string(err);
      return {LineStatus::kFatal, {}, {}};
    }
    columns_.clear();
    for (std::string_view c : cells_) {
      while (!c.empty() && c.front() == ' ') c.remove_prefix(1);
      while (!c.empty() && (c.back() == ' ' || c.back() == '\r')) c.remove_suffix(1);
      columns_.emplace_back(c);
    }
    std::vector<bool> mapped(columns_.size(), false);
    bindings_.clear();
    for (std::size_t i = 0; i < mappings_.size(); ++i) {
      const auto it = std::find(columns_.begin(), columns_.end(), mappings_[i].source);
      if (it == columns_.end()) {
        if (i < explicitCount_) {
          std::string list;
          for (const std::string& c : columns_) list += (list.empty() ? "" : ", ") + c;
          fatal_ = "the header line has no column \"" + mappings_[i].source + "\" (mapped to " +
                   (mappings_[i].field == FieldKind::kHeader ? "header." + mappings_[i].header
                                                             : std::string(fieldKindName(mappings_[i].field))) +
                   "); its columns are: " + list;
          return {LineStatus::kFatal, {}, {}};
        }
        continue;
      }
      const auto column = static_cast<std::size_t>(it - columns_.begin());
      bindings_.push_back({column, i});
      mapped[column] = true;
    }
    unmappedColumns_.clear();
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (!mapped[c]) unmappedColumns_.push_back(c);
    }
    if (!hasTimeBinding()) {
      fatal_ = "no time column: the header has no column \"time\"; map one with --time-field NAME (or map time=NAME)";
      return {LineStatus::kFatal, {}, {}};
    }
    headerDone_ = true;
    return {LineStatus::kSkip, {}, {}};
  }

  void resolveByNumber() {
    for (std::size_t i = 0; i < explicitCount_; ++i) {
      std::uint64_t n = 0;
      if (!parseUnsigned(mappings_[i].source, n) || n == 0 || n > 4096) continue;
      bindings_.push_back({static_cast<std::size_t>(n - 1), i});
      minColumns_ = std::max(minColumns_, static_cast<std::size_t>(n));
    }
  }

  bool hasTimeBinding() const {
    return std::any_of(bindings_.begin(), bindings_.end(),
                       [this](const Binding& b) { return mappings_[b.mapping].field == FieldKind::kTime; });
  }

 public:
  // Checked by the factory for the header-less case (where nothing is known at parse time).
  [[nodiscard]] bool headerlessMappingValid(std::string& why) const {
    for (std::size_t i = 0; i < explicitCount_; ++i) {
      std::uint64_t n = 0;
      if (!parseUnsigned(mappings_[i].source, n) || n == 0 || n > 4096) {
        why = "without a header line, columns are mapped by number (1-4096), not \"" + mappings_[i].source + "\"";
        return false;
      }
    }
    if (!hasTimeBinding()) {
      why = "no time column: map one by number, e.g. --map time=3";
      return false;
    }
    return true;
  }

 private:
  char delimiter_;
  bool quoting_;
  bool header_;
  std::vector<FieldMapping> mappings_;
  std::size_t explicitCount_;
  TimeMemo time_;
  bool keepExtras_;
  std::vector<std::string> displays_;
  bool headerDone_ = false;
  std::string fatal_;
  std::vector<std::string> columns_;
  std::vector<std::size_t> unmappedColumns_;  // with a header: the columns kept as extras, in order
  std::vector<Binding> bindings_;
  std::size_t minColumns_ = 0;
  std::vector<std::string_view> cells_;
  std::vector<Field> headers_;
  std::vector<Field> extras_;
  std::string scratch_;
};

}  // namespace

Made<LineParser> makeDelimitedParser(const TraceFormat& format) {
  auto time = TimeParser::make(format.time);
  if (!time) return time.error();
  const bool tsv = format.kind == FormatKind::kTsv;
  std::vector<FieldMapping> mappings = format.header ? effectiveFieldMappings(format) : format.fields;
  auto parser = std::make_unique<DelimitedParser>(tsv ? '\t' : ',', !tsv, format.header, std::move(mappings),
                                                  format.fields.size(), time.value(), format.keepExtras);
  if (!format.header) {
    std::string why;
    if (!parser->headerlessMappingValid(why)) {
      return config::UnitError{"invalid column mapping: " + why, "--map time=N,client=N,... with 1-based column numbers"};
    }
  }
  return parser;
}

}  // namespace gatelab::sim::trace::detail
