#include "sim/workload/writer.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

#include "gateway/core/decimal.hpp"
#include "sim/trace/log_format.hpp"
#include "sim/workload/time_format.hpp"

namespace gatelab::sim::workload {
namespace {

namespace tr = trace;
using tr::FieldKind;

constexpr std::size_t kFlushAt = 256 * 1024;
constexpr char kHexDigits[] = "0123456789ABCDEF";

// ---- values -----------------------------------------------------------------------------------

// "0.123": seconds with milliseconds (truncated), as nginx writes $request_time.
char* appendSeconds(char* out, core::Duration d) noexcept {
  std::int64_t ns = d.count();
  if (ns < 0) ns = 0;
  out = core::writeDecimal(out, static_cast<std::uint64_t>(ns / 1'000'000'000));
  const auto ms = static_cast<int>(ns % 1'000'000'000 / 1'000'000);
  *out++ = '.';
  *out++ = static_cast<char>('0' + ms / 100);
  *out++ = static_cast<char>('0' + ms / 10 % 10);
  *out++ = static_cast<char>('0' + ms % 10);
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// How a time field is written, for one TimeSpec.
class TimeText {
 public:
  static tr::Made<TimeText> make(const tr::TimeSpec& spec, int fractionDigits) {
    auto t = std::make_unique<TimeText>();
    t->kind_ = spec.kind;
    t->zone_ = spec.zone;
    t->digits_ = std::clamp(fractionDigits, 0, 9);
    if (spec.kind == tr::TimeKind::kPattern) {
      auto w = TimeWriter::compile(spec.pattern, t->digits_);
      if (!w) return w.error();
      t->pattern_ = w.value();
    }
    return t;
  }
  /// Appends the time; `numeric` tells JSON whether it is a number.
  char* append(char* out, tr::TraceTime t) const noexcept {
    switch (kind_) {
      case tr::TimeKind::kAuto:
      case tr::TimeKind::kRfc3339: return appendRfc3339(out, t, zone_, digits_, true);
      case tr::TimeKind::kClf: return appendClfTime(out, t, zone_);
      case tr::TimeKind::kEpochSeconds: return appendEpoch(out, t, 0, digits_);
      case tr::TimeKind::kEpochMillis: return appendEpoch(out, t, 3, 0);
      case tr::TimeKind::kEpochMicros: return appendEpoch(out, t, 6, 0);
      case tr::TimeKind::kEpochNanos: return appendEpoch(out, t, 9, 0);
      case tr::TimeKind::kPattern: return pattern_.append(out, t, zone_);
    }
    return out;
  }
  [[nodiscard]] bool numeric() const noexcept {
    return kind_ == tr::TimeKind::kEpochSeconds || kind_ == tr::TimeKind::kEpochMillis ||
           kind_ == tr::TimeKind::kEpochMicros || kind_ == tr::TimeKind::kEpochNanos;
  }
  [[nodiscard]] std::size_t maxLength() const noexcept { return std::max(kMaxTimeText, pattern_.maxLength()); }

 private:
  tr::TimeKind kind_ = tr::TimeKind::kAuto;
  tr::ZoneOffset zone_{0};
  int digits_ = 3;
  TimeWriter pattern_;
};

// One mapped field of a JSON/CSV/TSV output.
struct Column {
  FieldKind field = FieldKind::kTime;
  std::string header;  // kHeader: the header's name
  std::string source;  // member path / column name / column number
};

// The text of a non-time field (empty when absent); `buf` holds numbers, `scratch` composed text.
// Sets `numeric` for status, bytes and request_time.
std::string_view fieldValue(const Column& c, const tr::TraceRecord& r, char* buf, std::string& scratch, bool& numeric) {
  numeric = false;
  switch (c.field) {
    case FieldKind::kMethod: return r.method;
    case FieldKind::kPath: return r.path;
    case FieldKind::kQuery: return r.query;
    case FieldKind::kHost: return r.host;
    case FieldKind::kClient: return r.client;
    case FieldKind::kUser: return r.user;
    case FieldKind::kProtocol: return r.protocol;
    case FieldKind::kReferer: return r.referer;
    case FieldKind::kUserAgent: return r.userAgent;
    case FieldKind::kUrl:
      if (r.query.empty()) return r.path;
      scratch.assign(r.path);
      scratch += '?';
      scratch += r.query;
      return scratch;
    case FieldKind::kRequest:
      if (r.method.empty() || r.path.empty() || r.protocol.empty()) return {};
      scratch.assign(r.method);
      scratch += ' ';
      scratch += r.path;
      if (!r.query.empty()) {
        scratch += '?';
        scratch += r.query;
      }
      scratch += ' ';
      scratch += r.protocol;
      return scratch;
    case FieldKind::kStatus:
      numeric = true;
      if (r.status <= 0) return {};
      return {buf, static_cast<std::size_t>(core::writeDecimal(buf, static_cast<std::uint64_t>(r.status)) - buf)};
    case FieldKind::kBytes:
      numeric = true;
      if (!r.bytes) return {};
      return {buf, static_cast<std::size_t>(core::writeDecimal(buf, *r.bytes) - buf)};
    case FieldKind::kRequestTime:
      numeric = true;
      if (!r.requestTime) return {};
      return {buf, static_cast<std::size_t>(appendSeconds(buf, *r.requestTime) - buf)};
    case FieldKind::kHeader: return r.header(c.header).value_or(std::string_view{});
    case FieldKind::kTime: break;  // written by the caller
  }
  return {};
}

// The columns a JSON/CSV/TSV writer emits (see writer.hpp).
std::vector<Column> columnsFor(const tr::TraceFormat& format, const WriterOptions& options) {
  std::vector<Column> cols;
  for (const tr::FieldMapping& m : format.fields) cols.push_back(Column{m.field, m.header, m.source});
  if (!format.header && format.kind != tr::FormatKind::kJsonLines) return cols;
  const auto has = [&format](FieldKind k) {
    return std::any_of(format.fields.begin(), format.fields.end(), [k](const tr::FieldMapping& m) { return m.field == k; });
  };
  const auto sourceTaken = [&cols](std::string_view name) {
    return std::any_of(cols.begin(), cols.end(), [name](const Column& c) { return c.source == name; });
  };
  constexpr std::array<FieldKind, 10> kDefaults{FieldKind::kTime,     FieldKind::kClient, FieldKind::kMethod,
                                                FieldKind::kUrl,      FieldKind::kProtocol, FieldKind::kStatus,
                                                FieldKind::kBytes,    FieldKind::kRequestTime, FieldKind::kReferer,
                                                FieldKind::kUserAgent};
  const bool request = has(FieldKind::kRequest);
  for (const FieldKind k : kDefaults) {
    if (has(k)) continue;
    if (k == FieldKind::kUrl && (has(FieldKind::kPath) || request)) continue;
    if ((k == FieldKind::kMethod || k == FieldKind::kProtocol) && request) continue;
    const std::string name(tr::fieldKindName(k));
    if (sourceTaken(name)) continue;
    cols.push_back(Column{k, {}, name});
  }
  for (const std::string& h : options.headers) {
    const bool mapped = std::any_of(format.fields.begin(), format.fields.end(), [&h](const tr::FieldMapping& m) {
      return m.field == FieldKind::kHeader && lower(m.header) == lower(h);
    });
    const std::string name = lower(h);
    if (mapped || sourceTaken(name)) continue;
    cols.push_back(Column{FieldKind::kHeader, h, name});
  }
  return cols;
}

std::optional<config::UnitError> duplicateSource(const std::vector<Column>& cols) {
  for (std::size_t i = 0; i < cols.size(); ++i) {
    for (std::size_t j = i + 1; j < cols.size(); ++j) {
      if (cols[i].source == cols[j].source) {
        return config::UnitError{"\"" + cols[i].source + "\" is the source of two fields; a writer can fill it with only one",
                                 "each column or member mapped once"};
      }
    }
  }
  return std::nullopt;
}

// ---- log formats ------------------------------------------------------------------------------

class LogFormatFormatter final : public LineFormatter {
 public:
  using Var = tr::LogVariable;
  using Item = tr::LogFormatItem;  // `variable`, `header` (case as written) and the literal `after`

  LogFormatFormatter(std::string prefix, std::vector<Item> items, std::unique_ptr<TimeText> time, tr::ZoneOffset zone)
      : prefix_(std::move(prefix)), items_(std::move(items)), time_(std::move(time)), zone_(zone) {}

  void begin(std::string&) override {}

  void append(const tr::TraceRecord& r, std::string& out) override {
    out += prefix_;
    char buf[96];
    for (const Item& it : items_) {
      switch (it.variable) {
        case Var::kRemoteAddr: value(r.client, out); break;
        case Var::kRemoteUser: value(r.user, out); break;
        case Var::kTimeLocal: {
          // Many lines share a second: format it once.
          const auto second = std::chrono::floor<std::chrono::seconds>(r.time).time_since_epoch().count();
          if (second != cachedSecond_) {
            cachedSecond_ = second;
            cachedLength_ = static_cast<std::size_t>(appendClfTime(cached_, r.time, zone_) - cached_);
          }
          out.append(cached_, cachedLength_);
          break;
        }
        case Var::kTimeIso8601: out.append(buf, appendRfc3339(buf, r.time, zone_, 0, false)); break;
        case Var::kMsec: out.append(buf, appendEpoch(buf, r.time, 0, 3)); break;
        case Var::kTime: {
          if (timeBuf_.size() < time_->maxLength()) timeBuf_.resize(time_->maxLength());
          out.append(timeBuf_.data(), time_->append(timeBuf_.data(), r.time));
          break;
        }
        case Var::kRequest:
          if (r.method.empty() || r.path.empty() || r.protocol.empty()) {
            out += '-';
          } else {
            escaped(r.method, out);
            out += ' ';
            uri(r, out);
            out += ' ';
            escaped(r.protocol, out);
          }
          break;
        case Var::kRequestMethod: value(r.method, out); break;
        case Var::kRequestUri:
          if (r.path.empty()) out += '-';
          else uri(r, out);
          break;
        case Var::kUri: value(r.path, out); break;
        case Var::kArgs: value(r.query, out); break;
        case Var::kServerProtocol: value(r.protocol, out); break;
        case Var::kStatus:
          if (r.status > 0) out.append(buf, core::writeDecimal(buf, static_cast<std::uint64_t>(r.status)));
          else out += '-';
          break;
        case Var::kBodyBytesSent:
        case Var::kBytesSent:
          if (r.bytes) out.append(buf, core::writeDecimal(buf, *r.bytes));
          else out += '-';
          break;
        case Var::kHost: value(r.host, out); break;
        case Var::kHttpReferer: value(r.referer, out); break;
        case Var::kHttpUserAgent: value(r.userAgent, out); break;
        case Var::kRequestTime:
          if (r.requestTime) out.append(buf, appendSeconds(buf, *r.requestTime));
          else out += '-';
          break;
        case Var::kHeader: value(r.header(it.header).value_or(std::string_view{}), out); break;
        case Var::kOther: out += '-'; break;
      }
      out += it.after;
    }
    out += '\n';
  }

 private:
  // nginx's default escaping: '"', '\' and bytes outside printable ASCII become \xHH.
  static void escaped(std::string_view v, std::string& out) {
    for (const char c : v) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
        out += "\\x";
        out += kHexDigits[u >> 4];
        out += kHexDigits[u & 0xF];
      } else {
        out += c;
      }
    }
  }
  static void value(std::string_view v, std::string& out) {
    if (v.empty()) {
      out += '-';
    } else {
      escaped(v, out);
    }
  }
  static void uri(const tr::TraceRecord& r, std::string& out) {
    escaped(r.path, out);
    if (!r.query.empty()) {
      out += '?';
      escaped(r.query, out);
    }
  }

  std::string prefix_;
  std::vector<Item> items_;
  std::unique_ptr<TimeText> time_;
  tr::ZoneOffset zone_;
  std::int64_t cachedSecond_ = std::numeric_limits<std::int64_t>::min();
  char cached_[kMaxTimeText]{};
  std::size_t cachedLength_ = 0;
  std::string timeBuf_;
};

tr::Made<LineFormatter> makeLogFormatFormatter(const tr::TraceFormat& format, const WriterOptions& options) {
  std::string why;
  auto pieces = tr::splitLogFormat(format.logFormat, &why);
  if (!pieces) return config::UnitError{"invalid log_format '" + format.logFormat + "': " + why, "nginx log_format text"};
  std::string prefix = std::move(pieces->prefix);
  std::vector<LogFormatFormatter::Item> items = std::move(pieces->items);
  auto time = TimeText::make(format.time, options.fractionDigits);
  if (!time) return time.error;
  return std::unique_ptr<LineFormatter>(
      std::make_unique<LogFormatFormatter>(std::move(prefix), std::move(items), std::move(time.ptr), format.time.zone));
}

// ---- JSON lines -------------------------------------------------------------------------------

void jsonString(std::string_view v, std::string& out) {
  out += '"';
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHexDigits[u >> 4];
      out += kHexDigits[u & 0xF];
    } else {
      out += c;
    }
  }
  out += '"';
}

class JsonFormatter final : public LineFormatter {
 public:
  struct Node {
    std::string key;        // "\"name\":"
    std::string name;
    int column = -1;        // a value, or -1 for an object
    std::vector<Node> children;
  };

  JsonFormatter(Node root, std::vector<Column> columns, std::unique_ptr<TimeText> time)
      : root_(std::move(root)), columns_(std::move(columns)), time_(std::move(time)) {}

  void begin(std::string&) override {}

  void append(const tr::TraceRecord& r, std::string& out) override {
    object(root_, r, out);
    out += '\n';
  }

 private:
  void object(const Node& n, const tr::TraceRecord& r, std::string& out) {
    out += '{';
    bool first = true;
    for (const Node& child : n.children) {
      if (child.column < 0) {
        if (!first) out += ',';
        first = false;
        out += child.key;
        object(child, r, out);
        continue;
      }
      const Column& c = columns_[static_cast<std::size_t>(child.column)];
      if (c.field == FieldKind::kTime) {
        if (!first) out += ',';
        first = false;
        out += child.key;
        if (timeBuf_.size() < time_->maxLength()) timeBuf_.resize(time_->maxLength());
        const char* end = time_->append(timeBuf_.data(), r.time);
        const std::string_view t(timeBuf_.data(), static_cast<std::size_t>(end - timeBuf_.data()));
        if (time_->numeric()) out += t;
        else jsonString(t, out);
        continue;
      }
      bool numeric = false;
      char buf[48];
      const std::string_view v = fieldValue(c, r, buf, scratch_, numeric);
      if (v.empty()) continue;  // absent: no member
      if (!first) out += ',';
      first = false;
      out += child.key;
      if (numeric) out += v;
      else jsonString(v, out);
    }
    out += '}';
  }

  Node root_;
  std::vector<Column> columns_;
  std::unique_ptr<TimeText> time_;
  std::string scratch_;
  std::string timeBuf_;
};

tr::Made<LineFormatter> makeJsonFormatter(const tr::TraceFormat& format, const WriterOptions& options) {
  std::vector<Column> cols = columnsFor(format, options);
  if (auto e = duplicateSource(cols)) return *e;
  JsonFormatter::Node root;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    JsonFormatter::Node* node = &root;
    std::string_view path = cols[i].source;
    while (true) {
      const std::size_t dot = path.find('.');
      const std::string part(path.substr(0, dot));
      if (part.empty()) return config::UnitError{"JSON member path \"" + cols[i].source + "\" has an empty part", "dotted member names, e.g. req.ip"};
      if (node->column >= 0) {
        return config::UnitError{"JSON member \"" + cols[i].source + "\" is inside a member that is a value", "distinct member paths"};
      }
      auto it = std::find_if(node->children.begin(), node->children.end(), [&part](const auto& c) { return c.name == part; });
      if (it == node->children.end()) {
        JsonFormatter::Node child;
        child.name = part;
        child.key.clear();
        jsonString(part, child.key);
        child.key += ':';
        node->children.push_back(std::move(child));
        it = node->children.end() - 1;
      } else if (dot == std::string_view::npos) {
        return config::UnitError{"JSON member \"" + cols[i].source + "\" is both a value and an object", "distinct member paths"};
      }
      node = &*it;
      if (dot == std::string_view::npos) break;
      path = path.substr(dot + 1);
    }
    if (!node->children.empty()) {
      return config::UnitError{"JSON member \"" + cols[i].source + "\" is both a value and an object", "distinct member paths"};
    }
    node->column = static_cast<int>(i);
  }
  auto time = TimeText::make(format.time, options.fractionDigits);
  if (!time) return time.error;
  return std::unique_ptr<LineFormatter>(std::make_unique<JsonFormatter>(std::move(root), std::move(cols), std::move(time.ptr)));
}

// ---- CSV / TSV --------------------------------------------------------------------------------

class DelimitedFormatter final : public LineFormatter {
 public:
  DelimitedFormatter(char delimiter, bool header, std::vector<Column> columns, std::vector<int> slots,
                     std::unique_ptr<TimeText> time)
      : delimiter_(delimiter), header_(header), columns_(std::move(columns)), slots_(std::move(slots)), time_(std::move(time)) {}

  void begin(std::string& out) override {
    if (!header_) return;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (i) out += delimiter_;
      cell(columns_[static_cast<std::size_t>(slots_[i])].source, out);
    }
    out += '\n';
  }

  void append(const tr::TraceRecord& r, std::string& out) override {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (i) out += delimiter_;
      if (slots_[i] < 0) continue;  // a column number no mapping uses
      const Column& c = columns_[static_cast<std::size_t>(slots_[i])];
      if (c.field == FieldKind::kTime) {
        if (timeBuf_.size() < time_->maxLength()) timeBuf_.resize(time_->maxLength());
        const char* end = time_->append(timeBuf_.data(), r.time);
        cell(std::string_view(timeBuf_.data(), static_cast<std::size_t>(end - timeBuf_.data())), out);
        continue;
      }
      bool numeric = false;
      char buf[48];
      cell(fieldValue(c, r, buf, scratch_, numeric), out);
    }
    out += '\n';
  }

 private:
  void cell(std::string_view v, std::string& out) const {
    if (delimiter_ == '\t') {
      for (const char c : v) out += (c == '\t' || c == '\n' || c == '\r') ? ' ' : c;
      return;
    }
    if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
      out += v;
      return;
    }
    out += '"';
    for (const char c : v) {
      if (c == '"') out += "\"\"";
      else out += (c == '\n' || c == '\r') ? ' ' : c;
    }
    out += '"';
  }

  char delimiter_;
  bool header_;
  std::vector<Column> columns_;
  std::vector<int> slots_;  // column position -> index into columns_ (-1: empty)
  std::unique_ptr<TimeText> time_;
  std::string scratch_;
  std::string timeBuf_;
};

tr::Made<LineFormatter> makeDelimitedFormatter(const tr::TraceFormat& format, const WriterOptions& options) {
  std::vector<Column> cols = columnsFor(format, options);
  if (auto e = duplicateSource(cols)) return *e;
  std::vector<int> slots;
  if (format.header) {
    for (std::size_t i = 0; i < cols.size(); ++i) slots.push_back(static_cast<int>(i));
  } else {
    for (std::size_t i = 0; i < cols.size(); ++i) {
      std::size_t n = 0;
      const std::string& s = cols[i].source;
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
      if (ec != std::errc{} || end != s.data() + s.size() || n < 1 || n > 1000) {
        return config::UnitError{"without a header line, column \"" + s + "\" must be a column number",
                                 "1-based column numbers from 1 to 1000, e.g. --map time=1,client=2"};
      }
      if (slots.size() < n) slots.resize(n, -1);
      slots[n - 1] = static_cast<int>(i);
    }
  }
  auto time = TimeText::make(format.time, options.fractionDigits);
  if (!time) return time.error;
  return std::unique_ptr<LineFormatter>(std::make_unique<DelimitedFormatter>(
      format.kind == tr::FormatKind::kTsv ? '\t' : ',', format.header, std::move(cols), std::move(slots), std::move(time.ptr)));
}

}  // namespace

tr::TraceFormat readBackFormat(const tr::TraceFormat& format, const WriterOptions& options) {
  tr::TraceFormat out = format;
  if (format.kind == tr::FormatKind::kLogFormat || (!format.header && format.kind != tr::FormatKind::kJsonLines)) return out;
  for (const Column& c : columnsFor(format, options)) {
    if (c.field != FieldKind::kHeader) continue;
    const bool explicitly = std::any_of(format.fields.begin(), format.fields.end(), [&c](const tr::FieldMapping& m) {
      return m.field == FieldKind::kHeader && m.source == c.source;
    });
    if (!explicitly) out.fields.push_back(tr::FieldMapping{FieldKind::kHeader, c.header, c.source});
  }
  return out;
}

std::string readBackOptions(const tr::TraceFormat& format, const WriterOptions& options) {
  const tr::TraceFormat back = readBackFormat(format, options);
  std::string maps;
  for (std::size_t i = format.fields.size(); i < back.fields.size(); ++i) {
    maps += maps.empty() ? " --map " : ",";
    maps += "header." + back.fields[i].header + "=" + back.fields[i].source;
  }
  return maps;
}

tr::Made<LineFormatter> makeLineFormatter(const tr::TraceFormat& format, const WriterOptions& options) {
  if (options.fractionDigits < 0 || options.fractionDigits > 9) {
    return config::UnitError{"invalid number of sub-second digits " + std::to_string(options.fractionDigits), "0 to 9"};
  }
  // Whatever is written must be readable: compile the reader for the read-back format first.
  auto reader = tr::makeLineParser(readBackFormat(format, options));
  if (!reader) return reader.error;
  switch (format.kind) {
    case tr::FormatKind::kLogFormat: return makeLogFormatFormatter(format, options);
    case tr::FormatKind::kJsonLines: return makeJsonFormatter(format, options);
    case tr::FormatKind::kCsv:
    case tr::FormatKind::kTsv: return makeDelimitedFormatter(format, options);
  }
  return config::UnitError{"unknown trace format", std::string(tr::kTraceFormatAllowed)};
}

// ---- TraceWriter ------------------------------------------------------------------------------

TraceWriter::TraceWriter(std::unique_ptr<LineFormatter> formatter, OutputSink& sink)
    : formatter_(std::move(formatter)), sink_(sink) {
  buffer_.reserve(kFlushAt + 64 * 1024);
}

bool TraceWriter::write(const tr::TraceRecord& r) {
  if (!begun_) {
    begun_ = true;
    formatter_->begin(buffer_);
  }
  formatter_->append(r, buffer_);
  ++stats_.lines;
  if (buffer_.size() >= kFlushAt) return flush();
  return sink_.error().empty();
}

bool TraceWriter::flush() {
  if (buffer_.empty()) return sink_.error().empty();
  stats_.bytes += buffer_.size();
  const bool ok = sink_.write(buffer_);
  buffer_.clear();
  return ok;
}

bool TraceWriter::finish() {
  if (!begun_) {
    begun_ = true;
    formatter_->begin(buffer_);
  }
  const bool flushed = flush();
  return sink_.close() && flushed;
}

}  // namespace gatelab::sim::workload
