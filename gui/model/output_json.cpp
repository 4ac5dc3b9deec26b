#include "gui/model/output_json.hpp"

#include <QJsonArray>
#include <QJsonValue>
#include <algorithm>

namespace gatelab::gui {
namespace {

QString typeName(const QJsonValue& v) {
  switch (v.type()) {
    case QJsonValue::Null:
      return QStringLiteral("null");
    case QJsonValue::Bool:
      return QStringLiteral("a boolean");
    case QJsonValue::Double:
      return QStringLiteral("a number");
    case QJsonValue::String:
      return QStringLiteral("a string");
    case QJsonValue::Array:
      return QStringLiteral("an array");
    case QJsonValue::Object:
      return QStringLiteral("an object");
    case QJsonValue::Undefined:
      break;
  }
  return QStringLiteral("nothing");
}

QString join(const QString& path, QLatin1StringView key) {
  return path.isEmpty() ? QString(key) : path + QLatin1Char('.') + key;
}

/// Typed field access that remembers the first type error, with the field's path. Every getter
/// returns a harmless value after an error so callers can read on and check `ok()` once.
class Reader {
 public:
  explicit Reader(QString& error) : error_(error) {}
  [[nodiscard]] bool ok() const { return error_.isEmpty(); }

  double number(const QJsonObject& o, QLatin1StringView key, const QString& path) {
    const QJsonValue v = o.value(key);
    if (v.isUndefined()) return 0.0;
    if (v.isNull()) return kNoValue;
    if (v.isDouble()) return v.toDouble();
    fail(path, key, QStringLiteral("a number"), v);
    return 0.0;
  }
  // Absent or null reads as the type's empty value.
  QString string(const QJsonObject& o, QLatin1StringView key, const QString& path) {
    return typed(o, key, path, &QJsonValue::isString, "a string").toString();
  }
  bool boolean(const QJsonObject& o, QLatin1StringView key, const QString& path) {
    return typed(o, key, path, &QJsonValue::isBool, "true or false").toBool();
  }
  QJsonObject object(const QJsonObject& o, QLatin1StringView key, const QString& path) {
    return typed(o, key, path, &QJsonValue::isObject, "an object").toObject();
  }
  QJsonArray array(const QJsonObject& o, QLatin1StringView key, const QString& path) {
    return typed(o, key, path, &QJsonValue::isArray, "an array").toArray();
  }
  /// Element `i` of an array that must be an object.
  QJsonObject element(const QJsonArray& a, qsizetype i, const QString& path) {
    const QJsonValue v = a.at(i);
    if (v.isObject()) return v.toObject();
    if (ok()) error_ = QStringLiteral("%1[%2]: expected an object, got %3").arg(path).arg(i).arg(typeName(v));
    return {};
  }

 private:
  /// The value at `key` when it is of the type `is` tests, or absent or null; otherwise null,
  /// after recording the error.
  QJsonValue typed(const QJsonObject& o, QLatin1StringView key, const QString& path, bool (QJsonValue::*is)() const,
                   const char* expected) {
    const QJsonValue v = o.value(key);
    if (v.isUndefined() || v.isNull() || (v.*is)()) return v;
    fail(path, key, QString::fromLatin1(expected), v);
    return {};
  }
  void fail(const QString& path, QLatin1StringView key, const QString& expected, const QJsonValue& got) {
    if (!ok()) return;
    error_ = QStringLiteral("%1: expected %2, got %3").arg(join(path, key), expected, typeName(got));
  }
  QString& error_;
};

QString indexed(const QString& path, qsizetype i) { return QStringLiteral("%1[%2]").arg(path).arg(i); }

void readTruth(Reader& r, const QJsonObject& o, const QString& path, Truth& t) {
  t.present = !o.isEmpty();
  t.decisions = r.number(o, QLatin1StringView("decisions"), path);
  t.falseAllows = r.number(o, QLatin1StringView("false_allows"), path);
  t.falseAllowShare = r.number(o, QLatin1StringView("false_allow_share"), path);
  t.falseBlocks = r.number(o, QLatin1StringView("false_blocks"), path);
  t.falseBlockShare = r.number(o, QLatin1StringView("false_block_share"), path);
  t.wronglyBlockedClients = r.number(o, QLatin1StringView("wrongly_blocked_clients"), path);
  const QJsonObject worst = r.object(o, QLatin1StringView("worst_overshoot"), path);
  t.worstOvershoot =
      worst.isEmpty() ? kNoValue
                      : r.number(worst, QLatin1StringView("ratio"), join(path, QLatin1StringView("worst_overshoot")));
}

}  // namespace

QString lineColumnAt(QByteArrayView text, qsizetype offset) {
  offset = std::clamp<qsizetype>(offset, 0, text.size());
  qsizetype line = 1;
  qsizetype lineStart = 0;
  for (qsizetype i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      lineStart = i + 1;
    }
  }
  return QStringLiteral("line %1, column %2").arg(line).arg(offset - lineStart + 1);
}

namespace {

/// Typed access to a jsonlite tree, with the same rules and messages as Reader above.
class LiteReader {
 public:
  LiteReader(const jsonlite::Document& doc, QString& error) : doc_(doc), error_(error) {}
  [[nodiscard]] bool ok() const { return error_.isEmpty(); }

  const jsonlite::Node* member(const jsonlite::Node* o, std::string_view key) const {
    return o ? doc_.find(*o, key) : nullptr;
  }

  double number(const jsonlite::Node* o, std::string_view key, const QString& path) {
    const jsonlite::Node* v = member(o, key);
    if (!v) return 0.0;
    if (v->type == jsonlite::Type::kNull) return kNoValue;
    if (v->type == jsonlite::Type::kNumber) return v->number;
    fail(path, key, "a number", v->type);
    return 0.0;
  }
  QString string(const jsonlite::Node* o, std::string_view key, const QString& path) {
    const jsonlite::Node* v = member(o, key);
    if (!v || v->type == jsonlite::Type::kNull) return {};
    if (v->type == jsonlite::Type::kString) return jsonlite::Document::string(*v);
    fail(path, key, "a string", v->type);
    return {};
  }
  /// The member if it has type `t`; nullptr when missing or null; an error for another type.
  const jsonlite::Node* typed(const jsonlite::Node* o, std::string_view key, jsonlite::Type t, const QString& path) {
    const jsonlite::Node* v = member(o, key);
    if (!v || v->type == jsonlite::Type::kNull) return nullptr;
    if (v->type == t) return v;
    fail(path, key, jsonlite::typeName(t), v->type);
    return nullptr;
  }
  /// Calls f(element, index) for each object element of an array node.
  template <typename F>
  void eachObject(const jsonlite::Node* array, const QString& path, F&& f) {
    if (!array) return;
    std::uint32_t i = array->first;
    for (std::uint32_t n = 0; n < array->count && ok(); ++n) {
      const jsonlite::Node& e = doc_.at(i);
      if (e.type != jsonlite::Type::kObject) {
        error_ = QStringLiteral("%1[%2]: expected an object, got %3")
                     .arg(path)
                     .arg(n)
                     .arg(QLatin1String(jsonlite::typeName(e.type)));
        return;
      }
      f(&e, static_cast<qsizetype>(n));
      i = e.next;
    }
  }

 private:
  void fail(const QString& path, std::string_view key, const char* expected, jsonlite::Type got) {
    if (!ok()) return;
    const QString k = QString::fromUtf8(key.data(), static_cast<qsizetype>(key.size()));
    error_ = QStringLiteral("%1: expected %2, got %3")
                 .arg(path.isEmpty() ? k : path + QLatin1Char('.') + k, QLatin1String(expected),
                      QLatin1String(jsonlite::typeName(got)));
  }
  const jsonlite::Document& doc_;
  QString& error_;
};

}  // namespace

bool parseBucket(QByteArrayView json, jsonlite::Document& doc, Bucket& out, QString& error) {
  std::size_t offset = 0;
  const char* message = nullptr;
  if (!doc.parse(std::string_view(json.data(), static_cast<std::size_t>(json.size())), offset, message)) {
    error = QStringLiteral("invalid JSON (column %1): %2").arg(offset + 1).arg(QLatin1String(message));
    return false;
  }
  const jsonlite::Node* o = &doc.root();
  if (o->type != jsonlite::Type::kObject) {
    error = QStringLiteral("expected a JSON object, got %1").arg(QLatin1String(jsonlite::typeName(o->type)));
    return false;
  }
  LiteReader r(doc, error);
  const QString root;
  out.startMs = r.number(o, "start_ms", root);
  out.endMs = r.number(o, "end_ms", root);
  out.requests = r.number(o, "requests", root);
  out.breakerOpens = r.number(o, "breaker_opens", root);
  out.ejections = r.number(o, "ejections", root);
  out.errors5xx = r.number(r.typed(o, "status", jsonlite::Type::kObject, root), "5xx", QStringLiteral("status"));
  const jsonlite::Node* outcomes = r.typed(o, "outcomes", jsonlite::Type::kObject, root);
  out.rateLimited = r.number(outcomes, "rate_limited", QStringLiteral("outcomes"));
  out.breakerRejected = r.number(outcomes, "breaker_open", QStringLiteral("outcomes"));
  const jsonlite::Node* latency = r.typed(o, "latency", jsonlite::Type::kObject, root);
  if (!latency) {
    out.p50Ms = out.p90Ms = out.p99Ms = kNoValue;  // null: no answers in the bucket
  } else {
    const QString lp = QStringLiteral("latency");
    out.p50Ms = r.number(latency, "p50_ms", lp);
    out.p90Ms = r.number(latency, "p90_ms", lp);
    out.p99Ms = r.number(latency, "p99_ms", lp);
  }
  out.policies.clear();
  const QString pp = QStringLiteral("policies");
  r.eachObject(r.typed(o, "policies", jsonlite::Type::kArray, root), pp, [&](const jsonlite::Node* p, qsizetype i) {
    const QString path = indexed(pp, i);
    out.policies.push_back(BucketPolicy{r.string(p, "route", path), r.string(p, "name", path),
                                        r.number(p, "allowed", path), r.number(p, "delayed", path),
                                        r.number(p, "rejected", path)});
  });
  out.breakers.clear();
  const QString bp = QStringLiteral("breakers");
  r.eachObject(r.typed(o, "breakers", jsonlite::Type::kArray, root), bp, [&](const jsonlite::Node* b, qsizetype i) {
    const QString path = indexed(bp, i);
    const QString stateText = r.string(b, "state", path);
    const auto state = parseBreakerState(stateText);
    if (!state && r.ok()) {
      error = QStringLiteral(
                  "%1.state: unknown breaker state \"%2\"; allowed: closed, open, half-open, forced-open, disabled")
                  .arg(path, stateText);
      return;
    }
    out.breakers.push_back(BucketBreaker{r.string(b, "service", path), r.string(b, "target", path),
                                         state.value_or(BreakerState::kUnknown)});
  });
  return r.ok();
}

bool readResilienceEvent(const QJsonObject& o, ResilienceEvent& out, QString& error) {
  Reader r(error);
  const QString root;
  out.atMs = r.number(o, QLatin1StringView("at_ms"), root);
  out.kind = r.string(o, QLatin1StringView("kind"), root);
  out.service = r.string(o, QLatin1StringView("service"), root);
  out.target = r.string(o, QLatin1StringView("target"), root);
  out.from = r.string(o, QLatin1StringView("from"), root);
  out.to = r.string(o, QLatin1StringView("to"), root);
  out.reason = r.string(o, QLatin1StringView("reason"), root);
  out.durationMs = r.number(o, QLatin1StringView("duration_ms"), root);
  out.dryRun = r.boolean(o, QLatin1StringView("dry_run"), root);
  return r.ok();
}

bool readReport(const QJsonObject& o, ReportSummary& out, QString& error) {
  Reader r(error);
  const QString root;
  out.scenario = r.string(o, QLatin1StringView("scenario"), root);
  out.variant = r.string(o, QLatin1StringView("variant"), root);
  out.seed = r.number(o, QLatin1StringView("seed"), root);

  const QJsonArray windows = r.array(o, QLatin1StringView("failure_windows"), root);
  for (qsizetype i = 0; i < windows.size() && r.ok(); ++i) {
    const QString path = indexed(QStringLiteral("failure_windows"), i);
    const QJsonObject w = r.element(windows, i, QStringLiteral("failure_windows"));
    out.failureWindows.push_back(
        FailureWindow{r.string(w, QLatin1StringView("service"), path), r.string(w, QLatin1StringView("target"), path),
                      r.string(w, QLatin1StringView("what"), path), r.number(w, QLatin1StringView("start_ms"), path),
                      r.number(w, QLatin1StringView("end_ms"), path)});
  }

  const QJsonArray checks = r.array(o, QLatin1StringView("checks"), root);
  out.checks = static_cast<double>(checks.size());
  for (qsizetype i = 0; i < checks.size() && r.ok(); ++i) {
    const QJsonObject c = r.element(checks, i, QStringLiteral("checks"));
    if (!r.boolean(c, QLatin1StringView("passed"), indexed(QStringLiteral("checks"), i))) out.checksFailed += 1;
  }

  const QString mp = QStringLiteral("metrics");
  const QJsonObject metrics = r.object(o, QLatin1StringView("metrics"), root);
  out.breakerOpens = r.number(metrics, QLatin1StringView("breaker_opens"), mp);
  out.ejections = r.number(metrics, QLatin1StringView("ejections"), mp);
  out.droppedEvents = r.number(metrics, QLatin1StringView("dropped_events"), mp);

  const QString op = QStringLiteral("metrics.overall");
  const QJsonObject overall = r.object(metrics, QLatin1StringView("overall"), mp);
  out.requests = r.number(overall, QLatin1StringView("requests"), op);
  out.errors = r.number(overall, QLatin1StringView("errors"), op);
  out.errorRate = r.number(overall, QLatin1StringView("error_rate"), op);
  out.timeouts = r.number(overall, QLatin1StringView("timeouts"), op);
  out.retries = r.number(overall, QLatin1StringView("retries"), op);
  const QJsonObject latency = r.object(overall, QLatin1StringView("latency"), op);
  if (!latency.isEmpty()) {
    const QString lp = op + QStringLiteral(".latency");
    out.p50Ms = r.number(latency, QLatin1StringView("p50_ms"), lp);
    out.p90Ms = r.number(latency, QLatin1StringView("p90_ms"), lp);
    out.p99Ms = r.number(latency, QLatin1StringView("p99_ms"), lp);
    out.p999Ms = r.number(latency, QLatin1StringView("p999_ms"), lp);
  }

  readTruth(r, r.object(metrics, QLatin1StringView("truth"), mp), QStringLiteral("metrics.truth"), out.truth);

  const QJsonArray policies = r.array(metrics, QLatin1StringView("policies"), mp);
  for (qsizetype i = 0; i < policies.size() && r.ok(); ++i) {
    const QString path = indexed(QStringLiteral("metrics.policies"), i);
    const QJsonObject p = r.element(policies, i, QStringLiteral("metrics.policies"));
    PolicySummary s;
    s.route = r.string(p, QLatin1StringView("route"), path);
    s.name = r.string(p, QLatin1StringView("name"), path);
    s.shadow = r.boolean(p, QLatin1StringView("shadow"), path);
    s.decisions = r.number(p, QLatin1StringView("decisions"), path);
    s.allowed = r.number(p, QLatin1StringView("allowed"), path);
    s.delayed = r.number(p, QLatin1StringView("delayed"), path);
    s.rejected = r.number(p, QLatin1StringView("rejected"), path);
    readTruth(r, r.object(p, QLatin1StringView("truth"), path), path + QStringLiteral(".truth"), s.truth);
    out.policies.push_back(std::move(s));
  }

  const QString cp = QStringLiteral("metrics.clients");
  const QJsonObject clients = r.object(metrics, QLatin1StringView("clients"), mp);
  out.clientCount = r.number(clients, QLatin1StringView("count"), cp);
  out.heavyRejectedShare = r.number(r.object(clients, QLatin1StringView("heavy"), cp),
                                    QLatin1StringView("rejected_share"), cp + QStringLiteral(".heavy"));
  out.lightRejectedShare = r.number(r.object(clients, QLatin1StringView("light"), cp),
                                    QLatin1StringView("rejected_share"), cp + QStringLiteral(".light"));
  const auto readClients = [&](QLatin1StringView key, std::vector<ClientRow>& into) {
    const QString lp = cp + QStringLiteral(".") + QString(key);
    const QJsonArray list = r.array(clients, key, cp);
    for (qsizetype i = 0; i < list.size() && r.ok(); ++i) {
      const QString path = indexed(lp, i);
      const QJsonObject c = r.element(list, i, lp);
      into.push_back(ClientRow{
          r.string(c, QLatin1StringView("name"), path), r.number(c, QLatin1StringView("requests"), path),
          r.number(c, QLatin1StringView("rejected"), path), r.number(c, QLatin1StringView("delayed"), path),
          r.number(c, QLatin1StringView("errors"), path), r.number(c, QLatin1StringView("rejected_share"), path)});
    }
  };
  readClients(QLatin1StringView("top"), out.topClients);
  readClients(QLatin1StringView("top_rejected"), out.topRejectedClients);

  const QJsonArray events = r.array(metrics, QLatin1StringView("events"), mp);
  out.events.reserve(static_cast<std::size_t>(events.size()));
  for (qsizetype i = 0; i < events.size() && r.ok(); ++i) {
    const QJsonObject e = r.element(events, i, QStringLiteral("metrics.events"));
    ResilienceEvent ev;
    QString eventError;
    if (!readResilienceEvent(e, ev, eventError)) {
      error = indexed(QStringLiteral("metrics.events"), i) + QLatin1Char('.') + eventError;
      break;
    }
    out.events.push_back(std::move(ev));
  }
  return r.ok();
}

}  // namespace gatelab::gui
