#include "gui/app/main_window.hpp"

#include <QComboBox>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QInputDialog>
#include <QLabel>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolBar>

#include "gui/app/views.hpp"

namespace gatelab::gui {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      tabs_(new QTabWidget(this)),
      variantBox_(new QComboBox(this)),
      status_(new QLabel(this)),
      liveStatus_(new QLabel(this)),
      overview_(new OverviewView(range_, this)),
      rateLimits_(new RateLimitsView(range_, this)),
      breakers_(new BreakersView(range_, this)),
      latency_(new LatencyView(range_, this)),
      variants_(new VariantsView(range_, this)),
      clients_(new ClientsView(this)),
      rateClock_(std::make_unique<QElapsedTimer>()) {
  setWindowTitle(QStringLiteral("gatelab dashboard"));
  views_ = {overview_, rateLimits_, breakers_, latency_, variants_, clients_};
  const QStringList titles = {
      QStringLiteral("Overview"), QStringLiteral("Rate limits"), QStringLiteral("Breakers && ejections"),
      QStringLiteral("Latency"),  QStringLiteral("Variants"),    QStringLiteral("Clients")};
  for (std::size_t i = 0; i < views_.size(); ++i) tabs_->addTab(views_[i], titles[static_cast<qsizetype>(i)]);
  setCentralWidget(tabs_);

  QToolBar* bar = addToolBar(QStringLiteral("Run"));
  bar->setMovable(false);
  bar->addAction(QStringLiteral("Open run…"), this, &MainWindow::askOpenRun);
  bar->addAction(QStringLiteral("Follow live…"), this, &MainWindow::askFollowLive);
  bar->addAction(QStringLiteral("Stop live"), this, [this] { live_.stop(); });
  bar->addSeparator();
  bar->addWidget(new QLabel(QStringLiteral(" variant "), this));
  variantBox_->setMinimumContentsLength(14);
  variantBox_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  bar->addWidget(variantBox_);
  bar->addSeparator();
  bar->addAction(QStringLiteral("Show whole run"), this, [this] { range_.reset(); });
  connect(variantBox_, &QComboBox::currentIndexChanged, this, [this] { refreshViews(); });

  statusBar()->addWidget(status_, 1);
  statusBar()->addPermanentWidget(liveStatus_);
  status_->setText(
      QStringLiteral("Open a run directory (gatelab sim/compare/rehearse --out DIR) or follow a live gateway."));

  connect(&range_, &TimeRange::changed, this, [this](double from, double to) {
    if (run_)
      status_->setText(statusText() + QStringLiteral(" · showing %1 s – %2 s").arg(from, 0, 'f', 0).arg(to, 0, 'f', 0));
  });
  connect(&loader_, &AsyncRunLoader::loaded, this, &MainWindow::onLoaded);
  connect(&live_, &LiveModel::updated, this, &MainWindow::onLiveUpdated);
  connect(&live_, &LiveModel::stateChanged, this, &MainWindow::onLiveState);
}

MainWindow::~MainWindow() = default;

QStringList MainWindow::viewNames() {
  return {QStringLiteral("overview"), QStringLiteral("rate-limits"), QStringLiteral("breakers"),
          QStringLiteral("latency"),  QStringLiteral("variants"),    QStringLiteral("clients")};
}

bool MainWindow::showView(const QString& name) {
  const qsizetype i = viewNames().indexOf(name);
  if (i < 0) return false;
  tabs_->setCurrentIndex(static_cast<int>(i));
  return true;
}

void MainWindow::openRun(const QString& path) {
  live_.stop();
  status_->setText(QStringLiteral("loading %1 …").arg(path));
  loader_.load(path);
}

void MainWindow::followLive(const QString& url) {
  live_.follow(url);
  rateClock_->start();
  eventsAtRateStart_ = 0;
  eventsPerSecond_ = 0;
  status_->setText(QStringLiteral("following %1").arg(live_.url()));
}

void MainWindow::onLoaded(const LoadResult& result, const QString& path) {
  if (!result.run) {
    status_->setText(QStringLiteral("could not open %1: %2").arg(path, result.error));
    emit runLoaded(false, result.error);
    return;
  }
  showRun(result.run, true);
  emit runLoaded(true, {});
}

void MainWindow::showRun(std::shared_ptr<const RunData> run, bool newRun) {
  run_ = std::move(run);
  QStringList names;
  for (const VariantData& v : run_->variants) names << v.name;
  QStringList current;
  for (int i = 0; i < variantBox_->count(); ++i) current << variantBox_->itemText(i);
  if (names != current) {
    const QSignalBlocker block(variantBox_);
    variantBox_->clear();
    variantBox_->addItems(names);
  }
  double from = 0;
  for (const VariantData& v : run_->variants)
    if (!v.timeline.startS.empty()) from = run_->live ? v.timeline.startS.front() : 0.0;
  // Set the extent before the views take the run, so each chart downsamples once for it.
  {
    const QSignalBlocker block(&range_);
    range_.setExtent(from, run_->endSeconds(), newRun);
  }
  refreshViews();
  if (newRun) status_->setText(statusText());
}

void MainWindow::refreshViews() {
  if (!run_) return;
  const auto variant = static_cast<std::size_t>(std::max(0, variantBox_->currentIndex()));
  for (DashboardView* view : views_) view->setRun(run_, variant);
}

QString MainWindow::statusText() const {
  if (!run_) return {};
  if (run_->live) return QStringLiteral("live: %1").arg(run_->source);
  std::size_t buckets = 0;
  for (const VariantData& v : run_->variants) buckets += v.timeline.size();
  return QStringLiteral("%1: %2 variant(s), %3 timeline buckets, %4 s")
      .arg(run_->source)
      .arg(run_->variants.size())
      .arg(buckets)
      .arg(run_->endSeconds(), 0, 'f', 0);
}

void MainWindow::onLiveUpdated() {
  // Batches arrive at most every 100 ms (LiveFeed): one snapshot and one redraw per batch.
  showRun(live_.snapshot(), false);
  const qint64 ms = rateClock_->elapsed();
  if (ms >= 1000) {
    eventsPerSecond_ =
        static_cast<double>(live_.eventsReceived() - eventsAtRateStart_) * 1000.0 / static_cast<double>(ms);
    eventsAtRateStart_ = live_.eventsReceived();
    rateClock_->restart();
  }
  QString text = QStringLiteral("live %1 · %2 buckets · %3 requests · %4 resilience events/s")
                     .arg(live_.url())
                     .arg(live_.bucketsReceived())
                     .arg(live_.totalRequests(), 0, 'f', 0)
                     .arg(eventsPerSecond_, 0, 'f', 0);
  if (live_.restartsSeen() > 0) text += QStringLiteral(" · gateway restarted %1×").arg(live_.restartsSeen());
  if (live_.malformed() > 0)
    text += QStringLiteral(" · %1 malformed events (first: %2)").arg(live_.malformed()).arg(live_.firstMalformed());
  if (live_.eventsDropped() > 0) text += QStringLiteral(" · %1 dropped (too fast)").arg(live_.eventsDropped());
  status_->setText(text);
}

void MainWindow::onLiveState(LiveState state, const QString& detail) {
  switch (state) {
    case LiveState::kConnecting:
      liveStatus_->setText(QStringLiteral("● connecting"));
      break;
    case LiveState::kConnected:
      liveStatus_->setText(QStringLiteral("<span style='color:#2e9d4f'>● connected</span>"));
      break;
    case LiveState::kWaitingToReconnect:
      liveStatus_->setText(
          QStringLiteral("<span style='color:#d62728'>● disconnected</span>: %1").arg(detail.toHtmlEscaped()));
      break;
    case LiveState::kStopped:
      liveStatus_->setText(QString());
      break;
  }
}

void MainWindow::askOpenRun() {
  const QString dir =
      QFileDialog::getExistingDirectory(this, QStringLiteral("Open a gatelab run (the --out directory)"));
  if (!dir.isEmpty()) openRun(dir);
}

void MainWindow::askFollowLive() {
  bool ok = false;
  const QString url = QInputDialog::getText(this, QStringLiteral("Follow a live gateway"),
                                            QStringLiteral("Admin address (its /admin/events is followed):"),
                                            QLineEdit::Normal, QStringLiteral("http://127.0.0.1:9901"), &ok);
  if (ok && !url.trimmed().isEmpty()) followLive(url);
}

}  // namespace gatelab::gui
