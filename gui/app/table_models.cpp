#include "gui/app/table_models.hpp"

#include <QBrush>
#include <QLocale>
#include <algorithm>
#include <cmath>

#include "gui/app/palette.hpp"

namespace gatelab::gui {

QString formatShare(double share) {
  if (std::isnan(share)) return QStringLiteral("–");
  return QString::number(share * 100.0, 'g', 3) + QLatin1Char('%');
}

QString formatMs(double ms) {
  if (std::isnan(ms)) return QStringLiteral("–");
  if (ms >= 1000.0) return QString::number(ms / 1000.0, 'g', 3) + QStringLiteral(" s");
  return QString::number(ms, 'g', 3) + QStringLiteral(" ms");
}

namespace {
QString count(double v) {
  return std::isnan(v) ? QStringLiteral("–") : QLocale().toString(static_cast<qlonglong>(std::llround(v)));
}
double share(double part, double whole) { return whole > 0 ? part / whole : kNoValue; }
}  // namespace

// ---- variants -----------------------------------------------------------------------------------

void VariantTableModel::setRun(std::shared_ptr<const RunData> run) {
  beginResetModel();
  run_ = std::move(run);
  endResetModel();
}

int VariantTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !run_ ? 0 : static_cast<int>(run_->variants.size());
}
int VariantTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumnCount; }

QVariant VariantTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  static const char* const names[] = {"variant",         "requests",      "allowed",      "delayed",
                                      "rejected",        "false allows",  "false blocks", "wrongly blocked",
                                      "worst overshoot", "p50",           "p99",          "p99.9",
                                      "error rate",      "breaker opens", "ejections",    "checks failed"};
  static const char* const tips[] = {
      "the variant's name",
      "requests answered",
      "share of rate-limit decisions admitted (enforcing policies)",
      "share held by a delay (nginx limit_req without nodelay)",
      "share rejected",
      "admitted although the exact sliding log at the nominal rate would have rejected (share of decisions)",
      "rejected although the exact reference would have admitted (share of decisions)",
      "distinct clients with at least one false block",
      "most requests one key got through in any window of the limit's period, / the limit",
      "median latency",
      "99th percentile latency",
      "99.9th percentile latency",
      "answers with status >= 500",
      "circuit breaker openings",
      "outlier ejections",
      "checks breached / checks"};
  if (section < 0 || section >= kColumnCount) return {};
  if (role == Qt::DisplayRole) return QString::fromLatin1(names[section]);
  if (role == Qt::ToolTipRole) return QString::fromLatin1(tips[section]);
  return {};
}

QVariant VariantTableModel::data(const QModelIndex& index, int role) const {
  if (!run_ || !index.isValid() || index.row() >= rowCount()) return {};
  const VariantData& v = run_->variants[static_cast<std::size_t>(index.row())];
  const ReportSummary& r = v.report;
  const double decisions = r.decisions();
  const double raw[] = {0,
                        r.requests,
                        share(r.allowed(), decisions),
                        share(r.delayed(), decisions),
                        share(r.rejected(), decisions),
                        r.truth.falseAllowShare,
                        r.truth.falseBlockShare,
                        r.truth.wronglyBlockedClients,
                        r.truth.worstOvershoot,
                        r.p50Ms,
                        r.p99Ms,
                        r.p999Ms,
                        r.errorRate,
                        r.breakerOpens,
                        r.ejections,
                        r.checksFailed};
  const int c = index.column();
  if (role == Qt::UserRole) return c == kVariant ? QVariant(v.name) : QVariant(raw[c]);
  if (role == Qt::TextAlignmentRole)
    return c == kVariant ? QVariant(Qt::AlignLeft | Qt::AlignVCenter) : QVariant(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::ForegroundRole) {
    if (c == kRejected || ((c == kFalseAllows || c == kFalseBlocks) && raw[c] > 0)) return QBrush(palette::rejected());
    if (c == kAllowed) return QBrush(palette::allowed().darker(120));
    if (c == kChecks && r.checksFailed > 0) return QBrush(palette::rejected());
    return {};
  }
  if (role == Qt::ToolTipRole && (c == kFalseAllows || c == kFalseBlocks)) {
    return QStringLiteral("%1 false allows, %2 false blocks of %3 decisions judged")
        .arg(count(r.truth.falseAllows), count(r.truth.falseBlocks), count(r.truth.decisions));
  }
  if (role != Qt::DisplayRole) return {};
  switch (c) {
    case kVariant:
      return v.name;
    case kRequests:
      return count(raw[c]);
    case kAllowed:
    case kDelayed:
    case kRejected:
    case kFalseAllows:
    case kFalseBlocks:
    case kErrorRate:
      return formatShare(raw[c]);
    case kWronglyBlocked:
    case kBreakerOpens:
    case kEjections:
      return count(raw[c]);
    case kWorstOvershoot:
      return std::isnan(raw[c]) ? QStringLiteral("–") : QString::number(raw[c], 'g', 3) + QLatin1Char('x');
    case kP50:
    case kP99:
    case kP999:
      return formatMs(raw[c]);
    case kChecks:
      return QStringLiteral("%1 / %2").arg(count(r.checksFailed), count(r.checks));
    default:
      return {};
  }
}

// ---- clients ------------------------------------------------------------------------------------

void ClientTableModel::setVariant(std::shared_ptr<const RunData> /*run*/, const VariantData* variant) {
  beginResetModel();
  // The most rejected clients when the report lists them (a heavily throttled client need not
  // be among the busiest), else the busiest.
  if (variant) rows_ = variant->report.topRejectedClients.empty() ? variant->report.topClients : variant->report.topRejectedClients;
  else rows_.clear();
  std::stable_sort(rows_.begin(), rows_.end(),
                   [](const ClientRow& a, const ClientRow& b) { return a.rejected > b.rejected; });
  endResetModel();
}

int ClientTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}
int ClientTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumnCount; }

QVariant ClientTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* const names[] = {"client", "requests", "rejected", "rejected share", "delayed", "errors (5xx)"};
  return section >= 0 && section < kColumnCount ? QVariant(QString::fromLatin1(names[section])) : QVariant();
}

QVariant ClientTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const ClientRow& row = rows_[static_cast<std::size_t>(index.row())];
  const int c = index.column();
  const double raw[] = {0, row.requests, row.rejected, row.rejectedShare, row.delayed, row.errors};
  if (role == Qt::UserRole) return c == kClient ? QVariant(row.name) : QVariant(raw[c]);
  if (role == Qt::TextAlignmentRole)
    return c == kClient ? QVariant(Qt::AlignLeft | Qt::AlignVCenter) : QVariant(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::ForegroundRole && (c == kRejected || c == kRejectedShare) && row.rejected > 0)
    return QBrush(palette::rejected());
  if (role != Qt::DisplayRole) return {};
  if (c == kClient) return row.name;
  if (c == kRejectedShare) return formatShare(raw[c]);
  return count(raw[c]);
}

// ---- events -------------------------------------------------------------------------------------

void EventTableModel::setVariant(std::shared_ptr<const RunData> run, const VariantData* variant) {
  beginResetModel();
  run_ = std::move(run);
  events_ = variant ? &variant->report.events : nullptr;
  endResetModel();
}

int EventTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !events_ ? 0 : static_cast<int>(events_->size());
}
int EventTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumnCount; }

QVariant EventTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* const names[] = {"at (s)", "kind", "service", "target", "transition", "for", "reason"};
  return section >= 0 && section < kColumnCount ? QVariant(QString::fromLatin1(names[section])) : QVariant();
}

QVariant EventTableModel::data(const QModelIndex& index, int role) const {
  if (!events_ || !index.isValid() || index.row() >= rowCount()) return {};
  const ResilienceEvent& e = (*events_)[static_cast<std::size_t>(index.row())];
  if (role == Qt::UserRole) return index.column() == kAt ? QVariant(e.atMs) : data(index, Qt::DisplayRole);
  if (role == Qt::ForegroundRole && index.column() == kTransition) {
    if (e.to == u"open" || e.kind == u"ejection") return QBrush(palette::rejected());
    if (e.to == u"closed" || e.kind == u"return") return QBrush(palette::allowed().darker(120));
  }
  if (role != Qt::DisplayRole && role != Qt::ToolTipRole) return {};
  switch (index.column()) {
    case kAt:
      return QString::number(e.atMs / 1000.0, 'f', 3);
    case kKind:
      return e.kind;
    case kService:
      return e.service;
    case kTarget:
      return e.target;
    case kTransition:
      return e.from.isEmpty() ? QString() : e.from + QStringLiteral(" → ") + e.to;
    case kFor:
      return e.durationMs > 0 ? formatMs(e.durationMs) : QString();
    case kReason:
      return e.reason + (e.dryRun ? QStringLiteral(" (dry run)") : QString());
    default:
      return {};
  }
}

}  // namespace gatelab::gui
