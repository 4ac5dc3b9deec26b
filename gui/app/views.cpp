#include "gui/app/views.hpp"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChartView>
#include <QGridLayout>
#include <QHeaderView>
#include <QHorizontalStackedBarSeries>
#include <QLabel>
#include <QLocale>
#include <QScrollArea>
#include <QScrollBar>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

#include "gui/app/palette.hpp"
#include "gui/app/resilience_timeline.hpp"
#include "gui/app/table_models.hpp"
#include "gui/app/time_range.hpp"

namespace gatelab::gui {
namespace {

const VariantData* pick(const std::shared_ptr<const RunData>& run, std::size_t variant) {
  if (!run || run->variants.empty()) return nullptr;
  return &run->variants[std::min(variant, run->variants.size() - 1)];
}

bool anyNonZero(const std::vector<double>& v) {
  return std::any_of(v.begin(), v.end(), [](double x) { return x != 0.0; });
}

QString count(double v) { return QLocale().toString(static_cast<qlonglong>(std::llround(v))); }

QTableView* makeTable(QAbstractItemModel* model, QWidget* parent) {
  auto* proxy = new QSortFilterProxyModel(parent);
  proxy->setSourceModel(model);
  proxy->setSortRole(Qt::UserRole);  // raw numbers: "9.4%" sorts after "10%" as text
  auto* table = new QTableView(parent);
  table->setModel(proxy);
  table->setSortingEnabled(true);
  table->sortByColumn(-1, Qt::AscendingOrder);  // the source order (variants: the order run) until a header is clicked
  table->setAlternatingRowColors(true);
  table->setSelectionBehavior(QAbstractItemView::SelectRows);
  table->verticalHeader()->hide();
  table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table->horizontalHeader()->setStretchLastSection(true);
  return table;
}

QString truthText(const Truth& t) {
  if (!t.present || t.decisions <= 0) return {};
  return QStringLiteral("false allows %1, false blocks %2, worst overshoot %3")
      .arg(formatShare(t.falseAllowShare), formatShare(t.falseBlockShare),
           std::isnan(t.worstOvershoot) ? QStringLiteral("–")
                                        : QString::number(t.worstOvershoot, 'g', 3) + QLatin1Char('x'));
}

}  // namespace

std::vector<ChartLine> rateLimitLines(const VariantData& variant) {
  static const Qt::PenStyle styles[] = {Qt::SolidLine, Qt::DashLine, Qt::DotLine, Qt::DashDotLine};
  std::vector<ChartLine> lines;
  const auto& policies = variant.timeline.policies;
  for (std::size_t i = 0; i < policies.size(); ++i) {
    const PolicySeries& p = policies[i];
    const QString prefix = policies.size() > 1 ? p.label() + QLatin1Char(' ') : QString();
    const Qt::PenStyle style = styles[i % 4];
    lines.push_back(ChartLine{prefix + QStringLiteral("allowed"), palette::allowed(), style, &p.allowed});
    if (anyNonZero(p.delayed))
      lines.push_back(ChartLine{prefix + QStringLiteral("delayed"), palette::delayed(), style, &p.delayed});
    lines.push_back(ChartLine{prefix + QStringLiteral("rejected"), palette::rejected(), style, &p.rejected});
  }
  return lines;
}

// ---- overview -----------------------------------------------------------------------------------

OverviewView::OverviewView(TimeRange& range, QWidget* parent)
    : DashboardView(parent),
      summary_(new QLabel(this)),
      traffic_(new TimeChart(QStringLiteral("Traffic"), QStringLiteral("per bucket"), range, this)),
      rateLimits_(
          new TimeChart(QStringLiteral("Rate-limit decisions"), QStringLiteral("decisions per bucket"), range, this)),
      resilience_(new ResilienceTimeline(range, this)),
      latency_(new TimeChart(QStringLiteral("Latency"), QStringLiteral("ms"), range, this)) {
  summary_->setWordWrap(true);
  summary_->setTextFormat(Qt::RichText);
  // Two columns: traffic over the breaker lanes (as tall as their lanes), rate limits over latency.
  auto* left = new QVBoxLayout;
  left->addWidget(traffic_, 1);
  left->addWidget(resilience_, 0);
  auto* right = new QVBoxLayout;
  right->addWidget(rateLimits_, 1);
  right->addWidget(latency_, 1);
  auto* columns = new QHBoxLayout;
  columns->addLayout(left, 1);
  columns->addLayout(right, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(summary_);
  layout->addLayout(columns, 1);
}

void OverviewView::setRun(const std::shared_ptr<const RunData>& run, std::size_t variantIndex) {
  const VariantData* v = pick(run, variantIndex);
  if (!v) return;
  const Timeline& tl = v->timeline;
  const ReportSummary& r = v->report;
  const auto& windows = r.failureWindows;
  traffic_->setLines(
      run, &tl.startS,
      {ChartLine{QStringLiteral("requests"), palette::requests(), Qt::SolidLine, &tl.requests},
       ChartLine{QStringLiteral("5xx"), palette::errors(), Qt::SolidLine, &tl.errors5xx},
       ChartLine{QStringLiteral("rate-limited"), palette::rejected(), Qt::SolidLine, &tl.rateLimited},
       ChartLine{QStringLiteral("breaker open"), palette::breakerRejected(), Qt::SolidLine, &tl.breakerRejected}},
      windows);
  rateLimits_->setLines(run, &tl.startS, rateLimitLines(*v), windows);
  rateLimits_->setTitle(tl.policies.empty() ? QStringLiteral("Rate-limit decisions (no rate-limit policy in this run)")
                                            : QStringLiteral("Rate-limit decisions"));
  resilience_->setVariant(run, v);
  latency_->setLines(run, &tl.startS,
                     {ChartLine{QStringLiteral("p50"), palette::p50(), Qt::SolidLine, &tl.p50Ms},
                      ChartLine{QStringLiteral("p90"), palette::p90(), Qt::SolidLine, &tl.p90Ms},
                      ChartLine{QStringLiteral("p99"), palette::p99(), Qt::SolidLine, &tl.p99Ms}},
                     windows);
  const double decisions = r.decisions();
  QString text = QStringLiteral("<b>%1</b> %2 · variant <b>%3</b> · %4 requests")
                     .arg(run->live ? QStringLiteral("live") : r.scenario.toHtmlEscaped(), run->source.toHtmlEscaped(),
                          v->name.toHtmlEscaped(), count(r.requests));
  if (decisions > 0)
    text +=
        QStringLiteral(
            " · rate limits: <span style='color:%1'>%2 allowed</span>, %3 delayed, "
            "<span style='color:%4'>%5 rejected</span>")
            .arg(palette::allowed().name(), formatShare(r.allowed() / decisions), formatShare(r.delayed() / decisions),
                 palette::rejected().name(), formatShare(r.rejected() / decisions));
  if (const QString truth = truthText(r.truth); !truth.isEmpty()) text += QStringLiteral(" · ") + truth;
  if (!run->live)
    text += QStringLiteral(" · p99 %1 · errors %2 · breaker opens %3 · ejections %4 · checks failed %5/%6")
                .arg(formatMs(r.p99Ms), formatShare(r.errorRate), count(r.breakerOpens), count(r.ejections),
                     count(r.checksFailed), count(r.checks));
  if (!windows.empty())
    text += QStringLiteral(" · <span style='background:#ffe0b0'>&nbsp;shaded&nbsp;</span> failure injected");
  summary_->setText(text);
}

// ---- rate limits --------------------------------------------------------------------------------

RateLimitsView::RateLimitsView(TimeRange& range, QWidget* parent)
    : DashboardView(parent), range_(range), summary_(new QLabel(this)), grid_(new QGridLayout) {
  summary_->setWordWrap(true);
  summary_->setTextFormat(Qt::RichText);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(summary_);
  layout->addLayout(grid_, 1);
}

void RateLimitsView::setRun(const std::shared_ptr<const RunData>& run, std::size_t variantIndex) {
  if (!run || run->variants.empty()) return;
  const std::size_t n = run->variants.size();
  if (charts_.size() != n) {
    for (TimeChart* c : charts_) delete c;
    charts_.clear();
    // Side by side: up to 4 columns, so the variants of a compare run line up for reading across.
    const int columns = n <= 1 ? 1 : n <= 4 ? 2 : n <= 9 ? 3 : 4;
    for (std::size_t i = 0; i < n; ++i) {
      auto* chart = new TimeChart(QString(), QStringLiteral("decisions per bucket"), range_, this);
      chart->setMinimumSize(280, 180);
      grid_->addWidget(chart, static_cast<int>(i) / columns, static_cast<int>(i) % columns);
      charts_.push_back(chart);
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    const VariantData& v = run->variants[i];
    QString title = v.name;
    if (v.report.truth.present && v.report.truth.decisions > 0)
      title += QStringLiteral(" — false allows %1 · false blocks %2")
                   .arg(formatShare(v.report.truth.falseAllowShare), formatShare(v.report.truth.falseBlockShare));
    if (v.timeline.policies.empty()) title += QStringLiteral(" (no rate-limit policy)");
    charts_[i]->setTitle(title);
    charts_[i]->setLines(run, &v.timeline.startS, rateLimitLines(v), v.report.failureWindows);
  }
  const VariantData& v = run->variants[std::min(variantIndex, n - 1)];
  QString text = QStringLiteral("<b>%1</b>: ").arg(v.name.toHtmlEscaped());
  if (v.report.policies.empty()) text += QStringLiteral("no rate-limit policy");
  for (const PolicySummary& p : v.report.policies) {
    const double d = p.decisions > 0 ? p.decisions : 1;
    text +=
        QStringLiteral(
            "<br>%1/%2%3: <span style='color:%4'>%5 allowed (%6)</span>, %7 delayed (%8), "
            "<span style='color:%9'>%10 rejected (%11)</span>")
            .arg(p.route.toHtmlEscaped(), p.name.toHtmlEscaped(), p.shadow ? QStringLiteral(" (shadow)") : QString(),
                 palette::allowed().name(), count(p.allowed), formatShare(p.allowed / d), count(p.delayed),
                 formatShare(p.delayed / d), palette::rejected().name())
            .arg(count(p.rejected), formatShare(p.rejected / d));
    if (const QString truth = truthText(p.truth); !truth.isEmpty()) text += QStringLiteral("; ") + truth;
  }
  summary_->setText(text);
}

// ---- breakers -----------------------------------------------------------------------------------

BreakersView::BreakersView(TimeRange& range, QWidget* parent)
    : DashboardView(parent),
      timeline_(new ResilienceTimeline(range, this)),
      counts_(new TimeChart(QStringLiteral("Resilience per bucket"), QStringLiteral("per bucket"), range, this)),
      eventModel_(new EventTableModel(this)),
      events_(new QTableView(this)) {
  // Events arrive in time order; no sort proxy, so replacing them per live batch costs only the
  // rows on screen (a sorted proxy would re-sort thousands of rows ten times a second).
  events_->setModel(eventModel_);
  events_->setAlternatingRowColors(true);
  events_->setSelectionBehavior(QAbstractItemView::SelectRows);
  events_->verticalHeader()->hide();
  events_->horizontalHeader()->setStretchLastSection(true);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(timeline_);
  split->addWidget(counts_);
  split->addWidget(events_);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  split->setStretchFactor(2, 2);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(split);
}

void BreakersView::setRun(const std::shared_ptr<const RunData>& run, std::size_t variantIndex) {
  const VariantData* v = pick(run, variantIndex);
  if (!v) return;
  const Timeline& tl = v->timeline;
  timeline_->setVariant(run, v);
  counts_->setLines(run, &tl.startS,
                    {ChartLine{QStringLiteral("breaker opens"), palette::rejected(), Qt::SolidLine, &tl.breakerOpens},
                     ChartLine{QStringLiteral("ejections"), palette::ejected(), Qt::SolidLine, &tl.ejections},
                     ChartLine{QStringLiteral("answered by an open breaker"), palette::breakerRejected(), Qt::DashLine,
                               &tl.breakerRejected}},
                    v->report.failureWindows);
  const bool atEnd = events_->verticalScrollBar()->value() == events_->verticalScrollBar()->maximum();
  eventModel_->setVariant(run, v);
  if (run->live && atEnd) events_->scrollToBottom();  // follow the newest, unless the user scrolled up
  if (!run->live) events_->resizeColumnsToContents();
}

// ---- latency ------------------------------------------------------------------------------------

LatencyView::LatencyView(TimeRange& range, QWidget* parent)
    : DashboardView(parent),
      percentiles_(new TimeChart(QStringLiteral("Latency percentiles per bucket"), QStringLiteral("ms"), range, this)),
      byVariant_(new TimeChart(QStringLiteral("p99 latency by variant"), QStringLiteral("ms"), range, this)) {
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(percentiles_, 3);
  layout->addWidget(byVariant_, 2);
}

void LatencyView::setRun(const std::shared_ptr<const RunData>& run, std::size_t variantIndex) {
  const VariantData* v = pick(run, variantIndex);
  if (!v) return;
  const Timeline& tl = v->timeline;
  percentiles_->setTitle(QStringLiteral("Latency percentiles per bucket — %1").arg(v->name));
  percentiles_->setLines(run, &tl.startS,
                         {ChartLine{QStringLiteral("p50"), palette::p50(), Qt::SolidLine, &tl.p50Ms},
                          ChartLine{QStringLiteral("p90"), palette::p90(), Qt::SolidLine, &tl.p90Ms},
                          ChartLine{QStringLiteral("p99"), palette::p99(), Qt::SolidLine, &tl.p99Ms}},
                         v->report.failureWindows);
  std::vector<ChartLine> lines;
  for (std::size_t i = 0; i < run->variants.size(); ++i) {
    const VariantData& other = run->variants[i];
    lines.push_back(
        ChartLine{other.name, palette::series(i), Qt::SolidLine, &other.timeline.p99Ms, 1.2, &other.timeline.startS});
  }
  byVariant_->setVisible(run->variants.size() > 1);
  byVariant_->setLines(run, &tl.startS, std::move(lines), v->report.failureWindows);
}

// ---- variants -----------------------------------------------------------------------------------

VariantsView::VariantsView(TimeRange& range, QWidget* parent)
    : DashboardView(parent),
      model_(new VariantTableModel(this)),
      table_(makeTable(model_, this)),
      rejected_(new TimeChart(QStringLiteral("Rate-limited answers per bucket, by variant"), QStringLiteral("answers"),
                              range, this)) {
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(table_, 2);
  layout->addWidget(rejected_, 3);
}

void VariantsView::setRun(const std::shared_ptr<const RunData>& run, std::size_t variantIndex) {
  model_->setRun(run);
  const VariantData* v = pick(run, variantIndex);
  if (!v) return;
  std::vector<ChartLine> lines;
  for (std::size_t i = 0; i < run->variants.size(); ++i) {
    const VariantData& other = run->variants[i];
    lines.push_back(ChartLine{other.name, palette::series(i), Qt::SolidLine, &other.timeline.rateLimited, 1.2,
                              &other.timeline.startS});
  }
  rejected_->setLines(run, &v->timeline.startS, std::move(lines), v->report.failureWindows);
}

// ---- clients ------------------------------------------------------------------------------------

ClientsView::ClientsView(QWidget* parent)
    : DashboardView(parent),
      summary_(new QLabel(this)),
      model_(new ClientTableModel(this)),
      table_(makeTable(model_, this)),
      chart_(new QChartView(this)) {
  summary_->setWordWrap(true);
  summary_->setTextFormat(Qt::RichText);
  table_->horizontalHeader()->setStretchLastSection(false);
  chart_->setRenderHint(QPainter::Antialiasing);
  chart_->setMinimumWidth(420);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(table_);
  split->addWidget(chart_);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 3);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(summary_);
  layout->addWidget(split, 1);
}

void ClientsView::setRun(const std::shared_ptr<const RunData>& run, std::size_t variantIndex) {
  const VariantData* v = pick(run, variantIndex);
  model_->setVariant(run, v);
  if (!v) return;
  table_->sortByColumn(ClientTableModel::kRejected, Qt::DescendingOrder);
  const ReportSummary& r = v->report;
  // The ten most rejected clients as stacked bars: what each sent, split into admitted / delayed /
  // rejected, so a client that is throttled hard stands out next to equally busy ones.
  const bool byRejections = !r.topRejectedClients.empty();
  std::vector<ClientRow> top = byRejections ? r.topRejectedClients : r.topClients;
  std::stable_sort(top.begin(), top.end(),
                   [](const ClientRow& a, const ClientRow& b) { return a.rejected > b.rejected; });
  if (top.size() > 10) top.resize(10);
  std::reverse(top.begin(), top.end());  // horizontal bars draw bottom-up: most rejected on top
  auto* admitted = new QBarSet(QStringLiteral("admitted"));
  auto* delayed = new QBarSet(QStringLiteral("delayed"));
  auto* rejected = new QBarSet(QStringLiteral("rejected"));
  admitted->setColor(palette::allowed());
  delayed->setColor(palette::delayed());
  rejected->setColor(palette::rejected());
  QStringList names;
  for (const ClientRow& c : top) {
    names << c.name;
    *admitted << std::max(0.0, c.requests - c.rejected - c.delayed);
    *delayed << c.delayed;
    *rejected << c.rejected;
  }
  auto* series = new QHorizontalStackedBarSeries;
  series->append({admitted, delayed, rejected});
  auto* chart = new QChart;
  chart->setTitle(QStringLiteral("Top rejected clients — %1").arg(v->name));
  chart->setAnimationOptions(QChart::NoAnimation);
  chart->addSeries(series);
  auto* axisY = new QBarCategoryAxis;
  axisY->append(names);
  chart->addAxis(axisY, Qt::AlignLeft);
  series->attachAxis(axisY);
  auto* axisX = new QValueAxis;
  axisX->setTitleText(QStringLiteral("requests"));
  axisX->setLabelFormat(QStringLiteral("%.0f"));
  chart->addAxis(axisX, Qt::AlignBottom);
  series->attachAxis(axisX);
  chart->legend()->setAlignment(Qt::AlignBottom);
  QChart* old = chart_->chart();
  chart_->setChart(chart);
  delete old;
  if (run->live) {
    summary_->setText(
        QStringLiteral("The live feed carries no per-client figures: open a simulator run to see clients."));
    return;
  }
  summary_->setText(
      QStringLiteral("<b>%1</b>: the report's %2 of %3 clients, most rejected first. "
                     "Rejected share: busiest 1% of clients %4, the rest %5.")
          .arg(v->name.toHtmlEscaped())
          .arg(byRejections ? QStringLiteral("%1 most rejected").arg(r.topRejectedClients.size())
                            : QStringLiteral("%1 busiest").arg(r.topClients.size()))
          .arg(count(r.clientCount), formatShare(r.heavyRejectedShare), formatShare(r.lightRejectedShare)));
}

}  // namespace gatelab::gui
