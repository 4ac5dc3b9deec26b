// TraceFormat: compact names, options (the CLI's and a scenario's words), presets as thin
// wrappers over the general mechanism, descriptions.
#include <gtest/gtest.h>

#include <string>

#include "sim/trace/trace_format.hpp"
#include "tests/sim/trace/test_support.hpp"

namespace gatelab::sim::trace {
namespace {

using testing::format;

TEST(TraceFormatSpec, CompactNames) {
  EXPECT_EQ(format("clf").logFormat, kClfLogFormat);
  EXPECT_EQ(format("combined").logFormat, kCombinedLogFormat);
  EXPECT_EQ(format("nginx:$msec $remote_addr").logFormat, "$msec $remote_addr");
  EXPECT_EQ(format("jsonl").kind, FormatKind::kJsonLines);
  EXPECT_EQ(format("csv").kind, FormatKind::kCsv);
  EXPECT_EQ(format("tsv").kind, FormatKind::kTsv);
  for (const char* bad : {"apache", "nginx:", "", "CSV"}) {
    auto f = parseTraceFormat(bad);
    ASSERT_FALSE(f.ok()) << bad;
    EXPECT_NE(f.error().allowed.find("combined"), std::string::npos);
  }
}

TEST(TraceFormatSpec, OptionsSetTheSameFieldsAScenarioWould) {
  TraceFormat f = format("jsonl");
  EXPECT_FALSE(setTraceFormatOption(f, "map", "client=req.ip, header.X-Tenant-Id = tenant").has_value());
  EXPECT_FALSE(setTraceFormatOption(f, "time-field", "ts").has_value());
  EXPECT_FALSE(setTraceFormatOption(f, "time-format", "epoch_ms").has_value());
  EXPECT_FALSE(setTraceFormatOption(f, "time-zone", "+02:00").has_value());
  ASSERT_EQ(f.fields.size(), 3u);
  EXPECT_EQ(f.fields[0], (FieldMapping{FieldKind::kClient, "", "req.ip"}));
  EXPECT_EQ(f.fields[1], (FieldMapping{FieldKind::kHeader, "X-Tenant-Id", "tenant"}));
  EXPECT_EQ(f.fields[2], (FieldMapping{FieldKind::kTime, "", "ts"}));
  EXPECT_EQ(f.time.kind, TimeKind::kEpochMillis);
  EXPECT_EQ(f.time.zone, ZoneOffset{120});
  // Mapping a field again replaces it.
  EXPECT_FALSE(setTraceFormatOption(f, "map", "client=ip").has_value());
  EXPECT_EQ(f.fields[0].source, "ip");
  EXPECT_EQ(f.fields.size(), 3u);
  // A pattern sets kind=pattern.
  EXPECT_FALSE(setTraceFormatOption(f, "time-format", "%d:%H:%M:%S").has_value());
  EXPECT_EQ(f.time.kind, TimeKind::kPattern);
}

TEST(TraceFormatSpec, BadOptionsNameTheOptionAndLeaveTheFormatAlone) {
  const struct {
    const char* key;
    const char* value;
  } cases[] = {
      {"map", "colour=c"},          // unknown field
      {"map", "client"},            // not field=source
      {"map", "client="},           // empty source
      {"map", "header.=x"},         // header without a name
      {"time-format", "%Q"},        // bad pattern
      {"time-format", "unix"},      // unknown syntax
      {"time-zone", "EDT"},         // names are not offsets
      {"time-base", "Aug 1995"},    // not a date
      {"header", "maybe"},          // not a boolean
      {"speed", "10"},              // unknown option
  };
  for (const auto& c : cases) {
    TraceFormat f = format("jsonl");
    const TraceFormat before = f;
    auto err = setTraceFormatOption(f, c.key, c.value);
    ASSERT_TRUE(err.has_value()) << c.key << "=" << c.value;
    EXPECT_NE(err->message.find(c.key), std::string::npos) << err->message;
    EXPECT_FALSE(err->allowed.empty()) << c.key;
    EXPECT_EQ(f.fields, before.fields) << c.key;
  }
}

TEST(TraceFormatSpec, PresetsAreExactlyTheirDocumentedGeneralSpelling) {
  // nasa-tsv == tsv + options, as docs/traces.md writes them.
  const TraceFormat nasa = format("tsv", {{"time-format", "epoch_s"},
                                          {"map", "time=time,client=host,method=method,url=url,status=response,"
                                                  "bytes=bytes,referer=referer,user_agent=useragent"}});
  const TraceFormat nasaPreset = format("nasa-tsv");
  EXPECT_EQ(nasaPreset.kind, nasa.kind);
  EXPECT_EQ(nasaPreset.fields, nasa.fields);
  EXPECT_EQ(nasaPreset.time.kind, nasa.time.kind);
  EXPECT_EQ(nasaPreset.header, nasa.header);
  // epa == nginx:<log_format> + time pattern, base, zone, optional tail.
  const TraceFormat epa = format("nginx:$remote_addr [$time] \"$request\" $status $body_bytes_sent",
                                 {{"time-format", "%d:%H:%M:%S"},
                                  {"time-base", "1995-08"},
                                  {"time-zone", "-04:00"},
                                  {"optional-tail", "true"}});
  const TraceFormat epaPresetFormat = format("epa");
  EXPECT_EQ(epaPresetFormat.kind, epa.kind);
  EXPECT_EQ(epaPresetFormat.logFormat, epa.logFormat);
  EXPECT_EQ(epaPresetFormat.time.kind, epa.time.kind);
  EXPECT_EQ(epaPresetFormat.time.pattern, epa.time.pattern);
  EXPECT_EQ(epaPresetFormat.time.zone, epa.time.zone);
  EXPECT_EQ(epaPresetFormat.time.base, epa.time.base);
  EXPECT_EQ(epaPresetFormat.optionalTail, epa.optionalTail);
}

TEST(TraceFormatSpec, EffectiveMappingAddsSameNamedDefaultsThatAreNotTaken) {
  TraceFormat f = format("tsv", {{"map", "client=host,time=ts"}});
  const std::vector<FieldMapping> m = effectiveFieldMappings(f);
  ASSERT_GE(m.size(), 2u);
  EXPECT_EQ(m[0].source, "host");  // explicit first
  EXPECT_EQ(m[1].source, "ts");
  for (std::size_t i = 2; i < m.size(); ++i) {
    EXPECT_NE(m[i].field, FieldKind::kClient);  // mapped explicitly
    EXPECT_NE(m[i].field, FieldKind::kTime);
    EXPECT_NE(m[i].source, "host");             // column already used: no default Host from it
  }
  bool hasMethod = false;
  for (const FieldMapping& x : m) hasMethod = hasMethod || (x.field == FieldKind::kMethod && x.source == "method");
  EXPECT_TRUE(hasMethod);
}

TEST(TraceFormatSpec, DescriptionsNameWhatMatters) {
  EXPECT_EQ(describeTraceFormat(format("combined")), "combined");
  const std::string epa = describeTraceFormat(format("epa"));
  EXPECT_NE(epa.find("%d:%H:%M:%S"), std::string::npos) << epa;
  EXPECT_NE(epa.find("-04:00"), std::string::npos) << epa;
  EXPECT_NE(epa.find("optional tail"), std::string::npos) << epa;
  EXPECT_NE(describeTraceFormat(format("nasa-tsv")).find("client=host"), std::string::npos);
}

}  // namespace
}  // namespace gatelab::sim::trace
