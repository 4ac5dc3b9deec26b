#pragma once
// Loads a simulator run from disk: the `--out DIR` of `gatelab sim`, `compare` or `rehearse`
// (DIR/summary.csv + DIR/VARIANT/{report.json,timeline.ndjson}), one variant's directory, or a
// report.json path. Variants keep summary.csv's order (the order run) when it exists.
//
// Bad input is reported, never crashes: a missing directory, a report.json that is not JSON or
// has a wrong type, a truncated or malformed timeline line each give one message naming the file
// and line ("DIR/gcra/timeline.ndjson:118: invalid JSON: ...").
//
// Thread safety: reentrant; meant to run on a worker thread (see AsyncRunLoader). Cost: linear in
// the files' size; timeline lines are parsed on up to QThread::idealThreadCount() threads.

#include <QString>
#include <memory>

#include "gui/model/run_data.hpp"

namespace gatelab::gui {

struct LoadResult {
  std::shared_ptr<RunData> run;  // null on error
  QString error;                 // "FILE:LINE: what" or "PATH: what"
};

LoadResult loadRun(const QString& path);

/// Parses timeline.ndjson text into `timeline`; false with "FILE:LINE: ..." in `error`.
bool parseTimeline(QByteArrayView text, const QString& fileName, Timeline& timeline, QString& error);

}  // namespace gatelab::gui
