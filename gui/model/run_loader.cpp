#include "gui/model/run_loader.hpp"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QThread>
#include <algorithm>
#include <future>
#include <vector>

#include "gui/model/output_json.hpp"

namespace gatelab::gui {
namespace {

bool readFile(const QString& path, QByteArray& out, QString& error) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) {
    error = QStringLiteral("%1: cannot read: %2").arg(path, file.errorString());
    return false;
  }
  out = file.readAll();
  return true;
}

/// The byte ranges of the non-blank lines, with their 1-based line numbers.
struct LineRef {
  qsizetype begin;
  qsizetype length;
  qsizetype number;
};

std::vector<LineRef> splitLines(QByteArrayView text) {
  std::vector<LineRef> lines;
  lines.reserve(static_cast<std::size_t>(text.size() / 256 + 1));
  qsizetype begin = 0;
  qsizetype number = 1;
  while (begin < text.size()) {
    qsizetype end = text.indexOf('\n', begin);
    if (end < 0) end = text.size();
    qsizetype stop = end;
    if (stop > begin && text[stop - 1] == '\r') --stop;
    if (stop > begin) lines.push_back(LineRef{begin, stop - begin, number});
    begin = end + 1;
    ++number;
  }
  return lines;
}

/// Parses lines [first, last) into buckets; on error stops and says where.
struct ChunkResult {
  std::vector<Bucket> buckets;
  QString error;
};

ChunkResult parseChunk(QByteArrayView text, const std::vector<LineRef>& lines, std::size_t first, std::size_t last,
                       const QString& fileName) {
  ChunkResult result;
  result.buckets.reserve(last - first);
  jsonlite::Document doc;  // reused: after the first lines, parsing allocates only for strings
  for (std::size_t i = first; i < last; ++i) {
    const LineRef& line = lines[i];
    Bucket bucket;
    QString error;
    if (!parseBucket(text.sliced(line.begin, line.length), doc, bucket, error)) {
      result.error = QStringLiteral("%1:%2: %3").arg(fileName).arg(line.number).arg(error);
      if (error.startsWith(QStringLiteral("invalid JSON")) && line.begin + line.length == text.size() &&
          !text.endsWith('\n'))
        result.error += QStringLiteral(" (the last line is incomplete: a truncated file?)");
      return result;
    }
    result.buckets.push_back(std::move(bucket));
  }
  return result;
}

bool loadReport(const QString& path, ReportSummary& report, QString& error) {
  QByteArray bytes;
  if (!readFile(path, bytes, error)) return false;
  QJsonParseError parseError{};
  const QJsonDocument doc = QJsonDocument::fromJson(bytes, &parseError);
  if (parseError.error != QJsonParseError::NoError) {
    error = QStringLiteral("%1: invalid JSON at %2: %3")
                .arg(path, lineColumnAt(bytes, parseError.offset), parseError.errorString());
    return false;
  }
  if (!doc.isObject()) {
    error = QStringLiteral("%1: expected a JSON object (a gatelab report.json)").arg(path);
    return false;
  }
  QString fieldError;
  if (!readReport(doc.object(), report, fieldError)) {
    error = QStringLiteral("%1: %2").arg(path, fieldError);
    return false;
  }
  return true;
}

bool loadVariant(const QString& dir, VariantData& variant, QString& error) {
  const QDir d(dir);
  if (!loadReport(d.filePath(QStringLiteral("report.json")), variant.report, error)) return false;
  variant.directory = dir;
  variant.name = variant.report.variant.isEmpty() ? d.dirName() : variant.report.variant;
  const QString timelinePath = d.filePath(QStringLiteral("timeline.ndjson"));
  if (!QFileInfo::exists(timelinePath)) return true;  // a report alone still has its tables
  QByteArray text;
  if (!readFile(timelinePath, text, error)) return false;
  return parseTimeline(text, timelinePath, variant.timeline, error);
}

/// Variant directory names in the order summary.csv lists them (the order run), then the rest
/// alphabetically.
QStringList variantOrder(const QDir& dir) {
  QStringList found;
  for (const QString& name : dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
    if (QFileInfo::exists(dir.filePath(name + QStringLiteral("/report.json")))) found << name;
  QStringList ordered;
  QFile csv(dir.filePath(QStringLiteral("summary.csv")));
  if (csv.open(QIODevice::ReadOnly)) {
    csv.readLine();  // header
    while (!csv.atEnd()) {
      const QString variant = QString::fromUtf8(csv.readLine()).section(QLatin1Char(','), 0, 0).trimmed();
      // Directory names replace characters outside [A-Za-z0-9._-] with '_' (docs/outputs.md).
      QString dirName = variant;
      for (QChar& c : dirName)
        if (!(c.isLetterOrNumber() && c.unicode() < 128) && c != u'.' && c != u'_' && c != u'-') c = u'_';
      if (found.contains(dirName) && !ordered.contains(dirName)) ordered << dirName;
    }
  }
  for (const QString& name : found)
    if (!ordered.contains(name)) ordered << name;
  return ordered;
}

}  // namespace

bool parseTimeline(QByteArrayView text, const QString& fileName, Timeline& timeline, QString& error) {
  const std::vector<LineRef> lines = splitLines(text);
  // JSON parsing dominates a big load; lines are independent, so chunks parse in parallel and are
  // appended in order afterwards (append is cheap and keeps the series' invariants in one place).
  const std::size_t threads =
      lines.size() < 20'000 ? 1 : static_cast<std::size_t>(std::max(1, QThread::idealThreadCount()));
  const std::size_t per = (lines.size() + threads - 1) / std::max<std::size_t>(threads, 1);
  std::vector<std::future<ChunkResult>> futures;
  for (std::size_t t = 1; t < threads; ++t) {
    const std::size_t first = std::min(lines.size(), t * per);
    const std::size_t last = std::min(lines.size(), first + per);
    futures.push_back(
        std::async(std::launch::async, parseChunk, text, std::cref(lines), first, last, std::cref(fileName)));
  }
  std::vector<ChunkResult> chunks;
  chunks.push_back(parseChunk(text, lines, 0, std::min(lines.size(), per), fileName));
  for (auto& f : futures) chunks.push_back(f.get());
  timeline.reserve(lines.size());
  for (ChunkResult& chunk : chunks) {
    if (!chunk.error.isEmpty()) {
      error = chunk.error;  // chunks are in file order: this is the first bad line
      return false;
    }
    for (const Bucket& b : chunk.buckets) timeline.append(b);
  }
  return true;
}

LoadResult loadRun(const QString& path) {
  LoadResult result;
  QFileInfo info(path);
  if (!info.exists()) {
    result.error = QStringLiteral("%1: no such file or directory").arg(path);
    return result;
  }
  if (info.isFile()) info = QFileInfo(info.absolutePath());  // a report.json or timeline.ndjson: its variant
  const QDir dir(info.absoluteFilePath());
  auto run = std::make_shared<RunData>();
  run->source = info.absoluteFilePath();

  QStringList variantDirs;
  if (QFileInfo::exists(dir.filePath(QStringLiteral("report.json")))) {
    variantDirs << dir.absolutePath();
  } else {
    for (const QString& name : variantOrder(dir)) variantDirs << dir.filePath(name);
  }
  if (variantDirs.isEmpty()) {
    result.error = QStringLiteral(
                       "%1: no report.json here or in a subdirectory (expected the --out directory of "
                       "gatelab sim, compare or rehearse)")
                       .arg(path);
    return result;
  }
  for (const QString& variantDir : variantDirs) {
    VariantData variant;
    if (!loadVariant(variantDir, variant, result.error)) return result;
    run->variants.push_back(std::move(variant));
  }
  result.run = std::move(run);
  return result;
}

}  // namespace gatelab::gui
