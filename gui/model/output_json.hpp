#pragma once
// Readers for the JSON shapes of docs/outputs.md (report.json, timeline buckets) and of the live
// feed's resilience events (docs/operations.md). Input is data: a wrong type gives `false` and a
// message naming the field ("policies[1].allowed: expected a number, got a string"), never a
// crash. Missing fields read as zero / empty (older or newer files stay readable); `null` numbers
// read as NaN ("no value", as the format defines null).
//
// Thread safety: pure functions, callable from any thread.

#include <QJsonObject>
#include <QString>

#include "gui/model/json_lite.hpp"
#include "gui/model/run_data.hpp"

namespace gatelab::gui {

/// Parses one timeline bucket (a timeline.ndjson line, a live `event: timeline`'s data) with the
/// fast reader; `scratch` is reused between calls. Errors: "invalid JSON (column C): what" or
/// "field.path: expected a number, got a string".
bool parseBucket(QByteArrayView json, jsonlite::Document& scratch, Bucket& out, QString& error);
bool readResilienceEvent(const QJsonObject& object, ResilienceEvent& out, QString& error);
bool readReport(const QJsonObject& object, ReportSummary& out, QString& error);

/// "line L, column C" of a byte offset in `text` (1-based), for JSON parse errors.
QString lineColumnAt(QByteArrayView text, qsizetype offset);

}  // namespace gatelab::gui
