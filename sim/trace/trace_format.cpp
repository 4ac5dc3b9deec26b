#include "sim/trace/trace_format.hpp"

#include <array>
#include <cstdio>
#include <utility>

namespace gatelab::sim::trace {
namespace {

struct KindName {
  FieldKind kind;
  std::string_view name;
};
constexpr std::array<KindName, 16> kFieldNames{{
    {FieldKind::kTime, "time"},
    {FieldKind::kMethod, "method"},
    {FieldKind::kUrl, "url"},
    {FieldKind::kPath, "path"},
    {FieldKind::kQuery, "query"},
    {FieldKind::kHost, "host"},
    {FieldKind::kClient, "client"},
    {FieldKind::kUser, "user"},
    {FieldKind::kProtocol, "protocol"},
    {FieldKind::kRequest, "request"},
    {FieldKind::kStatus, "status"},
    {FieldKind::kBytes, "bytes"},
    {FieldKind::kReferer, "referer"},
    {FieldKind::kUserAgent, "user_agent"},
    {FieldKind::kRequestTime, "request_time"},
    {FieldKind::kHeader, "header"},
}};

constexpr std::string_view kFieldsAllowed =
    "field=source pairs separated by ','; fields: time, method, url, path, query, host, client, user, protocol, "
    "request, status, bytes, referer, user_agent, request_time, header.NAME";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<bool> parseBool(std::string_view v) {
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  return std::nullopt;
}

config::UnitError optionError(std::string_view key, std::string_view value, std::string_view why, std::string_view allowed) {
  return config::UnitError{"invalid trace format option " + std::string(key) + "=\"" + std::string(value) + "\": " +
                               std::string(why),
                           std::string(allowed)};
}

// Adds or replaces the mapping for one field (a header mapping is identified by its name).
void putMapping(std::vector<FieldMapping>& fields, FieldMapping m) {
  for (FieldMapping& f : fields) {
    if (f.field == m.field && (m.field != FieldKind::kHeader || core::equalsIgnoreCase(f.header, m.header))) {
      f = std::move(m);
      return;
    }
  }
  fields.push_back(std::move(m));
}

std::optional<config::UnitError> applyMap(TraceFormat& format, std::string_view key, std::string_view value) {
  std::vector<FieldMapping> fields = format.fields;
  std::string_view rest = value;
  if (trim(rest).empty()) return optionError(key, value, "empty mapping", kFieldsAllowed);
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) return optionError(key, value, "\"" + std::string(item) + "\" is not field=source", kFieldsAllowed);
    const std::string_view name = trim(item.substr(0, eq));
    const std::string_view source = trim(item.substr(eq + 1));
    if (source.empty()) return optionError(key, value, "no source for field \"" + std::string(name) + "\"", kFieldsAllowed);
    FieldMapping m;
    m.source = std::string(source);
    if (name.starts_with("header.") || name.starts_with("header:")) {
      m.field = FieldKind::kHeader;
      m.header = std::string(name.substr(7));
      if (m.header.empty()) return optionError(key, value, "header mapping without a header name", kFieldsAllowed);
    } else {
      const auto kind = parseFieldKind(name);
      if (!kind || *kind == FieldKind::kHeader) {
        return optionError(key, value, "unknown field \"" + std::string(name) + "\"", kFieldsAllowed);
      }
      m.field = *kind;
    }
    putMapping(fields, std::move(m));
  }
  format.fields = std::move(fields);
  return std::nullopt;
}

// True when a log_format uses the plain `$time` variable (the one TraceFormat::time describes).
bool mentionsTimeVariable(std::string_view logFormat) {
  const auto isName = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; };
  for (std::size_t i = logFormat.find('$'); i != std::string_view::npos; i = logFormat.find('$', i + 1)) {
    const std::string_view rest = logFormat.substr(i + 1);
    if (rest.starts_with("{time}")) return true;
    if (rest.starts_with("time") && (rest.size() == 4 || !isName(rest[4]))) return true;
  }
  return false;
}

}  // namespace

std::string_view fieldKindName(FieldKind kind) noexcept {
  for (const KindName& k : kFieldNames) {
    if (k.kind == kind) return k.name;
  }
  return "?";
}

std::optional<FieldKind> parseFieldKind(std::string_view name) noexcept {
  for (const KindName& k : kFieldNames) {
    if (k.name == name && k.kind != FieldKind::kHeader) return k.kind;
  }
  if (name == "useragent" || name == "user-agent") return FieldKind::kUserAgent;
  if (name == "uri") return FieldKind::kUrl;
  return std::nullopt;
}

std::vector<FieldMapping> defaultFieldMappings() {
  std::vector<FieldMapping> out;
  for (const KindName& k : kFieldNames) {
    if (k.kind == FieldKind::kHeader) continue;
    out.push_back(FieldMapping{k.kind, {}, std::string(k.name)});
  }
  return out;
}

std::vector<FieldMapping> effectiveFieldMappings(const TraceFormat& format) {
  std::vector<FieldMapping> out = format.fields;
  for (FieldMapping& d : defaultFieldMappings()) {
    bool taken = false;
    for (const FieldMapping& f : format.fields) taken = taken || f.field == d.field || f.source == d.source;
    if (!taken) out.push_back(std::move(d));
  }
  return out;
}

config::UnitResult<TraceFormat> parseTraceFormat(std::string_view spec) {
  TraceFormat f;
  const std::string_view s = trim(spec);
  if (s == "clf" || s == "common") {
    f.name = "clf";
    f.logFormat = std::string(kClfLogFormat);
  } else if (s == "combined") {
    f.name = "combined";
    f.logFormat = std::string(kCombinedLogFormat);
  } else if (s.starts_with("nginx:") || s.starts_with("log_format:")) {
    f.name = "nginx";
    f.logFormat = std::string(s.substr(s.find(':') + 1));
    if (f.logFormat.empty()) {
      return config::UnitError{"invalid trace format \"" + std::string(spec) + "\": empty log_format",
                               std::string(kTraceFormatAllowed)};
    }
  } else if (s == "jsonl" || s == "json" || s == "ndjson") {
    f.name = "jsonl";
    f.kind = FormatKind::kJsonLines;
  } else if (s == "csv") {
    f.name = "csv";
    f.kind = FormatKind::kCsv;
  } else if (s == "tsv") {
    f.name = "tsv";
    f.kind = FormatKind::kTsv;
  } else if (s == "nasa-tsv" || s == "nasa") {
    return nasaTsvPreset();
  } else if (s == "epa") {
    return epaPreset();
  } else {
    return config::UnitError{"unknown trace format \"" + std::string(spec) + "\"", std::string(kTraceFormatAllowed)};
  }
  return f;
}

std::optional<config::UnitError> setTraceFormatOption(TraceFormat& format, std::string_view key, std::string_view value) {
  if (key == "map") return applyMap(format, key, value);
  if (key == "time-field" || key == "time_field") {
    if (trim(value).empty()) return optionError(key, value, "empty field name", "a column name or dotted JSON path");
    return applyMap(format, key, "time=" + std::string(trim(value)));
  }
  if (key == "time-format" || key == "time_format") {
    if (value.find('%') != std::string_view::npos) {
      auto compiled = TimePattern::compile(value);
      if (!compiled) return optionError(key, value, compiled.error().message, compiled.error().allowed);
      format.time.kind = TimeKind::kPattern;
      format.time.pattern = std::string(value);
      return std::nullopt;
    }
    const auto kind = parseTimeKind(value);
    if (!kind || *kind == TimeKind::kPattern) {
      return optionError(key, value, "unknown time format",
                         "auto, clf, rfc3339, iso8601, epoch_s, epoch_ms, epoch_us, epoch_ns, or a strptime-like "
                         "pattern such as %d/%b/%Y:%H:%M:%S");
    }
    format.time.kind = *kind;
    return std::nullopt;
  }
  if (key == "time-zone" || key == "time_zone") {
    const auto z = parseZoneOffset(value);
    if (!z) return optionError(key, value, "not a UTC offset", "Z, UTC, +02:00, -0400, +02");
    format.time.zone = *z;
    return std::nullopt;
  }
  if (key == "time-base" || key == "time_base") {
    const auto d = parseCivilDate(value);
    if (!d) return optionError(key, value, "not a date", "YYYY-MM-DD or YYYY-MM");
    format.time.base = *d;
    return std::nullopt;
  }
  if (key == "header" || key == "optional-tail" || key == "optional_tail" || key == "extras") {
    const auto b = parseBool(value);
    if (!b) return optionError(key, value, "not a boolean", "true or false");
    if (key == "header") format.header = *b;
    else if (key == "extras") format.keepExtras = *b;
    else format.optionalTail = *b;
    return std::nullopt;
  }
  return optionError(key, value, "unknown option",
                     "map, time-field, time-format, time-zone, time-base, header, optional-tail, extras");
}

TraceFormat nasaTsvPreset() {
  TraceFormat f;
  f.name = "nasa-tsv";
  f.kind = FormatKind::kTsv;
  f.time.kind = TimeKind::kEpochSeconds;
  f.fields = {
      {FieldKind::kTime, {}, "time"},        {FieldKind::kClient, {}, "host"},     {FieldKind::kMethod, {}, "method"},
      {FieldKind::kUrl, {}, "url"},          {FieldKind::kStatus, {}, "response"}, {FieldKind::kBytes, {}, "bytes"},
      {FieldKind::kReferer, {}, "referer"},  {FieldKind::kUserAgent, {}, "useragent"},
  };
  return f;
}

TraceFormat epaPreset() {
  TraceFormat f;
  f.name = "epa";
  f.kind = FormatKind::kLogFormat;
  f.logFormat = "$remote_addr [$time] \"$request\" $status $body_bytes_sent";
  f.time.kind = TimeKind::kPattern;
  f.time.pattern = "%d:%H:%M:%S";
  f.time.zone = ZoneOffset{-4 * 60};
  f.time.base = CivilDate{1995, 8, 1};
  f.optionalTail = true;
  return f;
}

std::string describeTraceFormat(const TraceFormat& f) {
  std::string out = f.name;
  std::vector<std::string> parts;
  if (f.kind == FormatKind::kLogFormat && f.name != "clf" && f.name != "combined") {
    parts.push_back("log_format '" + f.logFormat + "'");
  }
  if (f.kind != FormatKind::kLogFormat) {
    for (const FieldMapping& m : f.fields) {
      std::string name = m.field == FieldKind::kHeader ? "header." + m.header : std::string(fieldKindName(m.field));
      parts.push_back(name + "=" + m.source);
    }
    if (f.fields.empty()) parts.emplace_back("same-named fields");
    if (!f.header && f.kind != FormatKind::kJsonLines) parts.emplace_back("no header line");
  }
  const bool usesSpecTime = f.kind != FormatKind::kLogFormat || mentionsTimeVariable(f.logFormat);
  if (usesSpecTime) {
    std::string t = "time " + (f.time.kind == TimeKind::kPattern ? "'" + f.time.pattern + "'" : std::string(timeKindName(f.time.kind)));
    if (f.time.zone.count() != 0) t += " zone " + formatZoneOffset(f.time.zone);
    if (f.time.kind == TimeKind::kPattern) {
      char buf[32];
      std::snprintf(buf, sizeof buf, " base %04d-%02d-%02d", f.time.base.year, f.time.base.month, f.time.base.day);
      t += buf;
    }
    parts.push_back(t);
  }
  if (f.optionalTail) parts.emplace_back("optional tail");
  if (!parts.empty()) {
    out += " (";
    for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
    out += ")";
  }
  return out;
}

}  // namespace gatelab::sim::trace
