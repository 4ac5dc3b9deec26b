// Access logs written by an nginx `log_format` (Common and Combined Log Format included).
//
// The format is compiled into a list of variables, each followed by the literal text that ends it.
// A line is matched left to right: each variable captures up to the first occurrence of its
// following literal. Two refinements keep real logs readable:
//  - a variable between double quotes ("$request", "$http_user_agent") skips backslash-escaped
//    bytes while looking for its closing quote, so Apache's \" inside a user agent does not end it;
//  - the last variable, when the format ends with literal text, captures up to that text at the
//    very end of the line, so a stray quote inside the last field does not break the line.
#include <cstring>
#include <utility>

#include "sim/trace/detail/fields.hpp"
#include "sim/trace/detail/parsers.hpp"
#include "sim/trace/log_format.hpp"

namespace gatelab::sim::trace::detail {
namespace {

constexpr std::string_view kAllowed =
    "nginx log_format text: $variables separated by literal text, e.g. "
    "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent";

enum class Role : std::uint8_t { kField, kHeader, kExtra };

struct Variable {
  std::string display;  // "$status", for messages
  std::string name;     // "status": the extra field's name
  Role role = Role::kExtra;
  FieldKind field = FieldKind::kTime;
  std::string header;   // kHeader: "x-tenant-id"
  TimeMemo time;         // kTime fields
  std::string after;    // the literal that ends the capture; empty: the capture runs to the end of the line
  bool quoted = false;  // between '"' and a literal starting with '"': skip backslash escapes
};

// Literals are a few bytes: comparing inline beats a call to memcmp.
bool sameBytes(const char* a, const char* b, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Finds the literal `lit` in `line` from `pos`; npos if absent. In quoted mode a '"' preceded by
// an odd number of backslashes (since `pos`) is escaped and does not count.
std::size_t findLiteral(std::string_view line, std::size_t pos, std::string_view lit, bool quoted) noexcept {
  const char first = lit[0];
  while (pos < line.size()) {
    const void* hit = std::memchr(line.data() + pos, first, line.size() - pos);
    if (hit == nullptr) return std::string_view::npos;
    const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(hit) - line.data());
    if (quoted) {
      std::size_t backslashes = 0;
      while (at - backslashes > pos && line[at - backslashes - 1] == '\\') ++backslashes;
      if (backslashes % 2 == 1) {
        pos = at + 1;
        continue;
      }
    }
    if (line.size() - at >= lit.size() && sameBytes(line.data() + at + 1, lit.data() + 1, lit.size() - 1)) return at;
    pos = at + 1;
  }
  return std::string_view::npos;
}

class LogFormatParser final : public LineParser {
 public:
  LogFormatParser(std::string prefix, std::vector<Variable> vars, std::size_t lastRequired, bool optionalTail, bool keepExtras)
      : prefix_(std::move(prefix)),
        vars_(std::move(vars)),
        lastRequired_(lastRequired),
        optionalTail_(optionalTail),
        keepExtras_(keepExtras) {
    std::size_t headers = 0, extras = 0;
    for (const Variable& v : vars_) {
      if (v.role == Role::kHeader) ++headers;
      if (v.role == Role::kExtra) ++extras;
    }
    headers_.reserve(headers);
    extras_.reserve(extras);
  }

  LineResult parse(std::string_view line, TraceRecord& out) override {
    clearRecord(out);
    headers_.clear();
    extras_.clear();
    if (line.find_first_not_of(" \t") == std::string_view::npos) return {LineStatus::kSkip, {}, {}};
    if (line.size() < prefix_.size() || !sameBytes(line.data(), prefix_.data(), prefix_.size())) {
      return {LineStatus::kMalformed, "line", "does not start with the format's leading text"};
    }
    std::size_t pos = prefix_.size();
    const std::size_t n = vars_.size();
    for (std::size_t i = 0; i < n; ++i) {
      Variable& v = vars_[i];  // (its time memo changes)
      std::string_view value;
      bool tail = false;  // the line ended inside this variable (optional tail)
      if (v.after.empty()) {
        value = line.substr(pos);
        pos = line.size();
      } else if (i + 1 == n) {
        if (line.size() - pos >= v.after.size() &&
            sameBytes(line.data() + line.size() - v.after.size(), v.after.data(), v.after.size())) {
          value = line.substr(pos, line.size() - v.after.size() - pos);
          pos = line.size();
        } else if (optionalTail_ && i > lastRequired_) {
          value = line.substr(pos);
          pos = line.size();
        } else {
          return {LineStatus::kMalformed, v.display, "line does not end with the format's closing text"};
        }
      } else {
        const std::size_t end = findLiteral(line, pos, v.after, v.quoted);
        if (end == std::string_view::npos) {
          if (!optionalTail_ || i <= lastRequired_) {
            return {LineStatus::kMalformed, v.display, "the text that should follow it is missing"};
          }
          value = line.substr(pos);
          pos = line.size();
          tail = true;
        } else {
          value = line.substr(pos, end - pos);
          pos = end + v.after.size();
        }
      }
      switch (v.role) {
        case Role::kExtra:
          if (keepExtras_) extras_.push_back({v.name, value});
          break;
        case Role::kHeader:
          if (!value.empty() && !isDash(value)) headers_.push_back({v.header, value});
          break;
        case Role::kField: {
          const std::string_view err = applyField(v.field, value, v.time, out);
          if (!err.empty()) return {LineStatus::kMalformed, v.display, err};
          break;
        }
      }
      if (tail) break;
    }
    out.headers = headers_;
    out.extras = extras_;
    return {LineStatus::kRecord, {}, {}};
  }

  std::size_t scratchCapacity() const noexcept override {
    return headers_.capacity() * sizeof(Field) + extras_.capacity() * sizeof(Field);
  }

 private:
  std::string prefix_;
  std::vector<Variable> vars_;
  std::size_t lastRequired_;
  bool optionalTail_;
  bool keepExtras_;
  std::vector<Field> headers_;
  std::vector<Field> extras_;
};

config::UnitError formatError(const TraceFormat& format, const std::string& why) {
  return config::UnitError{"invalid log_format '" + format.logFormat + "': " + why, std::string(kAllowed)};
}

}  // namespace

Made<LineParser> makeLogFormatParser(const TraceFormat& format) {
  std::string why;
  auto pieces = splitLogFormat(format.logFormat, &why);
  if (!pieces) return formatError(format, why);
  const std::string_view text = format.logFormat;
  std::string prefix = std::move(pieces->prefix);
  std::vector<Variable> vars;
  for (LogFormatItem& item : pieces->items) {
    const std::string& name = item.name;
    if (!vars.empty() && vars.back().after.empty()) {
      return formatError(format, vars.back().display + " and $" + name +
                                     " have no text between them, so the line cannot be split");
    }
    Variable v;
    v.display = "$" + name;
    v.name = name;
    v.role = Role::kField;
    switch (item.variable) {
      case LogVariable::kRemoteAddr: v.field = FieldKind::kClient; break;
      case LogVariable::kRemoteUser: v.field = FieldKind::kUser; break;
      case LogVariable::kTimeLocal:
        v.field = FieldKind::kTime;
        v.time = TimeMemo(TimeParser::fixed(TimeKind::kClf));
        break;
      case LogVariable::kTimeIso8601:
        v.field = FieldKind::kTime;
        v.time = TimeMemo(TimeParser::fixed(TimeKind::kRfc3339));
        break;
      case LogVariable::kMsec:
        v.field = FieldKind::kTime;
        v.time = TimeMemo(TimeParser::fixed(TimeKind::kEpochSeconds));
        break;
      case LogVariable::kTime: {
        auto parser = TimeParser::make(format.time);
        if (!parser) return parser.error();
        v.field = FieldKind::kTime;
        v.time = TimeMemo(parser.value());
        break;
      }
      case LogVariable::kRequest: v.field = FieldKind::kRequest; break;
      case LogVariable::kRequestMethod: v.field = FieldKind::kMethod; break;
      case LogVariable::kRequestUri: v.field = FieldKind::kUrl; break;
      case LogVariable::kUri: v.field = FieldKind::kPath; break;
      case LogVariable::kArgs: v.field = FieldKind::kQuery; break;
      case LogVariable::kServerProtocol: v.field = FieldKind::kProtocol; break;
      case LogVariable::kStatus: v.field = FieldKind::kStatus; break;
      case LogVariable::kBodyBytesSent: v.field = FieldKind::kBytes; break;
      case LogVariable::kBytesSent:
        // $bytes_sent is the body size only when the format does not also log $body_bytes_sent.
        if (text.find("$body_bytes_sent") == std::string_view::npos &&
            text.find("${body_bytes_sent}") == std::string_view::npos) {
          v.field = FieldKind::kBytes;
        } else {
          v.role = Role::kExtra;
        }
        break;
      case LogVariable::kHost: v.field = FieldKind::kHost; break;
      case LogVariable::kHttpReferer: v.field = FieldKind::kReferer; break;
      case LogVariable::kHttpUserAgent: v.field = FieldKind::kUserAgent; break;
      case LogVariable::kRequestTime: v.field = FieldKind::kRequestTime; break;
      case LogVariable::kHeader:
        v.role = Role::kHeader;
        for (const char c : item.header) v.header.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
        break;
      case LogVariable::kOther: v.role = Role::kExtra; break;
    }
    v.after = std::move(item.after);
    vars.push_back(std::move(v));
  }
  if (vars.empty()) return formatError(format, "it has no $variables");
  std::size_t lastRequired = 0;
  bool hasTime = false;
  for (std::size_t i = 0; i < vars.size(); ++i) {
    Variable& v = vars[i];
    const std::string& before = i == 0 ? prefix : vars[i - 1].after;
    v.quoted = !before.empty() && before.back() == '"' && !v.after.empty() && v.after.front() == '"';
    if (v.role != Role::kField) continue;
    if (v.field == FieldKind::kTime) hasTime = true;
    if (v.field == FieldKind::kTime || v.field == FieldKind::kRequest || v.field == FieldKind::kMethod ||
        v.field == FieldKind::kUrl || v.field == FieldKind::kPath) {
      lastRequired = i;
    }
  }
  if (!hasTime) return formatError(format, "it has no time variable ($time_local, $time_iso8601, $msec or $time)");
  return std::make_unique<LogFormatParser>(std::move(prefix), std::move(vars), lastRequired, format.optionalTail, format.keepExtras);
}

}  // namespace gatelab::sim::trace::detail
