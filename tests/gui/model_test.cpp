// The dashboard's model layer on real simulator output: every number it exposes equals the one in
// report.json / timeline.ndjson read independently (nlohmann_json, not Qt's parser); bad input
// (truncated lines, wrong types, missing files) is reported with file and line, never a crash;
// downsampling keeps extremes; the SSE parser is indifferent to how bytes are split.
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "gui/model/downsample.hpp"
#include "gui/model/json_lite.hpp"
#include "gui/model/run_loader.hpp"
#include "gui/model/sse_parser.hpp"
#include "tests/gui/json_cases.hpp"
#include "tests/gui/run_fixture.hpp"

using namespace gatelab::gui;
using json = nlohmann::json;

namespace {

json readJson(const QString& path) {
  std::ifstream in(path.toStdString());
  return json::parse(in);
}

std::vector<json> readLines(const QString& path) {
  std::vector<json> lines;
  std::ifstream in(path.toStdString());
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) lines.push_back(json::parse(line));
  return lines;
}

double num(const json& j) { return j.is_null() ? std::nan("") : j.get<double>(); }

bool sameNumber(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

void writeFile(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  f.write(bytes);
}

QByteArray readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace

class ModelTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QVERIFY(outage_.isValid() && compare_.isValid());
    const QString e1 =
        testing::runGatelab(QStringLiteral("sim"), QStringLiteral("scenarios/backend-outage.yaml"), outage_.path());
    QVERIFY2(e1.isEmpty(), qPrintable(e1));
    const QString e2 = testing::runGatelab(QStringLiteral("compare"), QStringLiteral("scenarios/compare-limiters.yaml"),
                                           compare_.path());
    QVERIFY2(e2.isEmpty(), qPrintable(e2));
  }

  // A one-variant run: report figures, events, failure windows and every timeline column match.
  void loadsAnOutageRunExactly() {
    const LoadResult result = loadRun(outage_.path());
    QVERIFY2(result.run, qPrintable(result.error));
    QCOMPARE(result.run->variants.size(), std::size_t{1});
    const VariantData& v = result.run->variants[0];
    const json report = readJson(v.directory + QStringLiteral("/report.json"));
    const json& m = report["metrics"];
    QCOMPARE(v.name, QString::fromStdString(report["variant"].get<std::string>()));
    QCOMPARE(v.report.requests, m["overall"]["requests"].get<double>());
    QCOMPARE(v.report.errors, m["overall"]["errors"].get<double>());
    QCOMPARE(v.report.p99Ms, m["overall"]["latency"]["p99_ms"].get<double>());
    QCOMPARE(v.report.breakerOpens, m["breaker_opens"].get<double>());
    QVERIFY(v.report.breakerOpens > 0);  // the scenario is chosen to open a breaker
    QCOMPARE(v.report.events.size(), m["events"].size());
    for (std::size_t i = 0; i < v.report.events.size(); ++i) {
      QCOMPARE(v.report.events[i].atMs, m["events"][i]["at_ms"].get<double>());
      QCOMPARE(v.report.events[i].reason.toStdString(), m["events"][i]["reason"].get<std::string>());
      QCOMPARE(v.report.events[i].to.toStdString(), m["events"][i]["to"].get<std::string>());
    }
    QCOMPARE(v.report.failureWindows.size(), report["failure_windows"].size());
    QVERIFY(!v.report.failureWindows.empty());
    QCOMPARE(v.report.failureWindows[0].startMs, report["failure_windows"][0]["start_ms"].get<double>());
    QCOMPARE(v.report.checks, static_cast<double>(report["checks"].size()));

    const std::vector<json> lines = readLines(v.directory + QStringLiteral("/timeline.ndjson"));
    const Timeline& tl = v.timeline;
    QCOMPARE(tl.size(), lines.size());
    std::size_t openBuckets = 0;
    std::size_t modelOpen = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const json& b = lines[i];
      QCOMPARE(tl.startS[i], b["start_ms"].get<double>() / 1000.0);
      QCOMPARE(tl.requests[i], b["requests"].get<double>());
      QCOMPARE(tl.errors5xx[i], b["status"]["5xx"].get<double>());
      QCOMPARE(tl.breakerRejected[i], b["outcomes"]["breaker_open"].get<double>());
      const double p99 = b["latency"].is_null() ? std::nan("") : num(b["latency"]["p99_ms"]);
      QVERIFY2(sameNumber(tl.p99Ms[i], p99), qPrintable(QStringLiteral("bucket %1").arg(i)));
      for (const json& br : b["breakers"])
        if (br["state"] == "open") ++openBuckets;
    }
    for (const BreakerSeries& s : tl.breakers)
      for (BreakerState st : s.states) modelOpen += st == BreakerState::kOpen ? 1 : 0;
    QCOMPARE(modelOpen, openBuckets);
    QVERIFY(openBuckets > 0);
  }

  // A compare run: every variant, in summary.csv's order, with its policy decisions (report and
  // timeline), ground truth and top clients.
  void loadsACompareRunExactly() {
    const LoadResult result = loadRun(compare_.path());
    QVERIFY2(result.run, qPrintable(result.error));
    QStringList csvOrder;
    {
      QFile csv(compare_.path() + QStringLiteral("/summary.csv"));
      QVERIFY(csv.open(QIODevice::ReadOnly));
      csv.readLine();
      while (!csv.atEnd()) csvOrder << QString::fromUtf8(csv.readLine()).section(QLatin1Char(','), 0, 0).trimmed();
    }
    QStringList names;
    for (const VariantData& v : result.run->variants) names << v.name;
    QCOMPARE(names, csvOrder);
    QVERIFY(names.size() >= 2);

    for (const VariantData& v : result.run->variants) {
      const json report = readJson(v.directory + QStringLiteral("/report.json"));
      const json& m = report["metrics"];
      QCOMPARE(v.report.policies.size(), m["policies"].size());
      for (std::size_t i = 0; i < v.report.policies.size(); ++i) {
        const json& p = m["policies"][i];
        QCOMPARE(v.report.policies[i].allowed, p["allowed"].get<double>());
        QCOMPARE(v.report.policies[i].delayed, p["delayed"].get<double>());
        QCOMPARE(v.report.policies[i].rejected, p["rejected"].get<double>());
        QCOMPARE(v.report.policies[i].truth.falseAllows, p["truth"]["false_allows"].get<double>());
        QCOMPARE(v.report.policies[i].truth.falseBlocks, p["truth"]["false_blocks"].get<double>());
      }
      QVERIFY(sameNumber(v.report.truth.falseAllowShare, num(m["truth"]["false_allow_share"])));
      QVERIFY(sameNumber(v.report.truth.falseBlockShare, num(m["truth"]["false_block_share"])));
      QCOMPARE(v.report.topClients.size(), m["clients"]["top"].size());
      for (std::size_t i = 0; i < v.report.topClients.size(); ++i) {
        QCOMPARE(v.report.topClients[i].name.toStdString(), m["clients"]["top"][i]["name"].get<std::string>());
        QCOMPARE(v.report.topClients[i].rejected, m["clients"]["top"][i]["rejected"].get<double>());
      }
      QCOMPARE(v.report.topRejectedClients.size(), m["clients"]["top_rejected"].size());
      for (std::size_t i = 0; i < v.report.topRejectedClients.size(); ++i) {
        QCOMPARE(v.report.topRejectedClients[i].name.toStdString(),
                 m["clients"]["top_rejected"][i]["name"].get<std::string>());
        QCOMPARE(v.report.topRejectedClients[i].rejected, m["clients"]["top_rejected"][i]["rejected"].get<double>());
      }

      // Per-policy sums over the timeline, read independently.
      std::map<std::string, std::array<double, 3>> sums;
      const std::vector<json> lines = readLines(v.directory + QStringLiteral("/timeline.ndjson"));
      for (const json& b : lines)
        for (const json& p : b["policies"]) {
          auto& s = sums[p["route"].get<std::string>() + "/" + p["name"].get<std::string>()];
          s[0] += p["allowed"].get<double>();
          s[1] += p["delayed"].get<double>();
          s[2] += p["rejected"].get<double>();
        }
      QCOMPARE(v.timeline.policies.size(), sums.size());
      for (const PolicySeries& p : v.timeline.policies) {
        const auto& s = sums.at(p.label().toStdString());
        QCOMPARE(std::accumulate(p.allowed.begin(), p.allowed.end(), 0.0), s[0]);
        QCOMPARE(std::accumulate(p.delayed.begin(), p.delayed.end(), 0.0), s[1]);
        QCOMPARE(std::accumulate(p.rejected.begin(), p.rejected.end(), 0.0), s[2]);
        QCOMPARE(p.allowed.size(), lines.size());
      }
    }
  }

  // A variant directory or its report.json opens that variant alone.
  void opensOneVariantByDirectoryOrFile() {
    const LoadResult all = loadRun(compare_.path());
    QVERIFY(all.run);
    const QString dir = all.run->variants[1].directory;
    for (const QString& path : {dir, dir + QStringLiteral("/report.json")}) {
      const LoadResult one = loadRun(path);
      QVERIFY2(one.run, qPrintable(one.error));
      QCOMPARE(one.run->variants.size(), std::size_t{1});
      QCOMPARE(one.run->variants[0].name, all.run->variants[1].name);
    }
  }

  void reportsBadInputWithFileAndLine_data() {
    QTest::addColumn<QString>("damage");
    QTest::addColumn<QString>("expected");
    // Each row damages a copy of a real variant directory; the message must name file and line.
    QTest::newRow("truncated last line") << "truncate"
                                         << "timeline.ndjson:%LAST%: invalid JSON";
    QTest::newRow("wrong type in a bucket") << "string-requests"
                                            << "timeline.ndjson:3: requests: expected a number, got a string";
    QTest::newRow("unknown breaker state") << "bad-state"
                                           << "timeline.ndjson:2: breakers[0].state: unknown breaker state";
    QTest::newRow("report not JSON") << "report-garbage"
                                     << "report.json: invalid JSON at line 1";
    QTest::newRow("report wrong type") << "report-type"
                                       << "report.json: metrics.overall.requests: expected a number, got a string";
    QTest::newRow("not a run directory") << "empty-dir"
                                         << "no report.json here";
    QTest::newRow("missing directory") << "missing"
                                       << "no such file or directory";
  }

  void reportsBadInputWithFileAndLine() {
    QFETCH(QString, damage);
    QFETCH(QString, expected);
    QTemporaryDir tmp;
    const QString dir = tmp.path() + QStringLiteral("/v");
    QDir().mkpath(dir);
    const QString source = outage_.path() + QStringLiteral("/breaker");
    QByteArray report = readAll(source + QStringLiteral("/report.json"));
    QByteArray timeline = readAll(source + QStringLiteral("/timeline.ndjson"));
    QVERIFY(!report.isEmpty() && !timeline.isEmpty());
    const qsizetype lineCount = timeline.count('\n');
    if (damage == u"truncate") {
      timeline.chop(40);
      expected.replace(QStringLiteral("%LAST%"), QString::number(lineCount));
    } else if (damage == u"string-requests") {
      qsizetype pos = 0;
      for (int i = 0; i < 2; ++i) pos = timeline.indexOf('\n', pos) + 1;  // the third line
      const qsizetype r = timeline.indexOf("\"requests\":", pos);
      const qsizetype end = timeline.indexOf(',', r);
      timeline.replace(r, end - r, "\"requests\":\"many\"");
    } else if (damage == u"bad-state") {
      const qsizetype second = timeline.indexOf('\n') + 1;
      const qsizetype s = timeline.indexOf("\"state\":\"closed\"", second);
      timeline.replace(s, 16, "\"state\":\"ajar\"");
    } else if (damage == u"report-garbage") {
      report = "{ not json";
    } else if (damage == u"report-type") {
      const qsizetype o = report.indexOf("\"overall\"");
      const qsizetype r = report.indexOf("\"requests\": ", o);
      const qsizetype end = report.indexOf(',', r);
      QVERIFY(o > 0 && r > 0);
      report.replace(r, end - r, "\"requests\": \"x\"");
    }
    if (damage != u"empty-dir" && damage != u"missing") {
      writeFile(dir + QStringLiteral("/report.json"), report);
      writeFile(dir + QStringLiteral("/timeline.ndjson"), timeline);
    }
    const LoadResult result = loadRun(damage == u"missing" ? tmp.path() + QStringLiteral("/nope") : dir);
    QVERIFY(!result.run);
    QVERIFY2(result.error.contains(expected), qPrintable(result.error + QStringLiteral("\n  expected: ") + expected));
  }

  // The fast timeline reader accepts exactly RFC 8259 JSON; where Qt's parser agrees the text is
  // valid, both read the same strings.
  void jsonLiteIsStrictJson_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("valid");
    for (const JsonCase& c : kJsonCases) QTest::newRow(c.text) << QByteArray(c.text) << c.valid;
  }
  void jsonLiteIsStrictJson() {
    QFETCH(QByteArray, text);
    QFETCH(bool, valid);
    jsonlite::Document lite;
    std::size_t offset = 0;
    const char* message = nullptr;
    QCOMPARE(lite.parse(std::string_view(text.constData(), static_cast<std::size_t>(text.size())), offset, message),
             valid);
    const QJsonDocument qt = QJsonDocument::fromJson(text);
    if (valid && qt.isObject() && qt.object().contains(QStringLiteral("g")))
      QCOMPARE(jsonlite::Document::string(*lite.find(lite.root(), "g")),
               qt.object().value(QStringLiteral("g")).toString());
  }

  // 86,400 points to a few per column, and the global extremes survive.
  void downsamplingKeepsExtremes() {
    std::vector<double> x(86'400), y(86'400);
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> noise(0, 100);
    for (std::size_t i = 0; i < x.size(); ++i) {
      x[i] = static_cast<double>(i);
      y[i] = noise(rng);
    }
    y[12'345] = 1000;  // a one-second spike
    y[54'321] = -50;   // and a dip
    const QList<QPointF> points = downsampleMinMax(x, y, 0, 86'400, 1000);
    QVERIFY(points.size() <= 4 * 1000 + 8);
    QVERIFY(points.size() > 1000);
    double hi = -1e9, lo = 1e9;
    for (const QPointF& p : points) {
      hi = std::max(hi, p.y());
      lo = std::min(lo, p.y());
    }
    QCOMPARE(hi, 1000.0);
    QCOMPARE(lo, -50.0);
    for (qsizetype i = 1; i < points.size(); ++i) QVERIFY(points[i].x() > points[i - 1].x());
    // A narrow range returns the raw points (plus one neighbour each side).
    QCOMPARE(downsampleMinMax(x, y, 100, 199, 1000).size(), qsizetype{102});
  }

  // Any split of the byte stream gives the same events.
  void sseParserIsSplitIndependent() {
    const QByteArray stream =
        ": gatelab live events\n\n"
        "event: timeline\ndata: {\"index\":0}\n\n"
        "event: resilience\r\ndata: {\"kind\":\"breaker\"}\r\n\r\n"
        "data: line one\ndata: line two\n\n"
        "event: timeline\ndata: {\"index\":1}\n\n";
    const auto parse = [&](qsizetype piece) {
      SseParser parser;
      std::vector<SseEvent> out;
      for (qsizetype i = 0; i < stream.size(); i += piece)
        parser.feed(QByteArrayView(stream).sliced(i, std::min(piece, stream.size() - i)), out);
      return out;
    };
    const auto whole = parse(stream.size());
    QCOMPARE(whole.size(), std::size_t{4});
    QCOMPARE(whole[0].type, QByteArray("timeline"));
    QCOMPARE(whole[1].type, QByteArray("resilience"));
    QCOMPARE(whole[1].data, QByteArray("{\"kind\":\"breaker\"}"));
    QCOMPARE(whole[2].type, QByteArray("message"));
    QCOMPARE(whole[2].data, QByteArray("line one\nline two"));
    for (qsizetype piece : {1, 2, 3, 7, 16}) {
      const auto split = parse(piece);
      QCOMPARE(split.size(), whole.size());
      for (std::size_t i = 0; i < split.size(); ++i) {
        QCOMPARE(split[i].type, whole[i].type);
        QCOMPARE(split[i].data, whole[i].data);
      }
    }
  }

  // An oversized event is dropped and counted; the stream goes on.
  void sseParserBoundsMemory() {
    SseParser parser(64);
    std::vector<SseEvent> out;
    parser.feed("event: timeline\ndata: " + QByteArray(200, 'x') + "\n\nevent: timeline\ndata: ok\n\n", out);
    QCOMPARE(out.size(), std::size_t{1});
    QCOMPARE(out[0].data, QByteArray("ok"));
    QCOMPARE(parser.oversizedDropped(), std::size_t{1});
  }

 private:
  QTemporaryDir outage_;
  QTemporaryDir compare_;
};

QTEST_GUILESS_MAIN(ModelTest)
#include "model_test.moc"
