// gatelab-dashboard: composition root. Opens a simulator run directory or follows a live gateway;
// with --screenshot it renders one view to a PNG without a display and exits (reports, docs,
// tests).
//
//   gatelab-dashboard [RUN_DIR | --live URL]
//   gatelab-dashboard --screenshot FILE.png [--view NAME] [--size WxH] [--range FROM-TO] RUN_DIR
//   gatelab-dashboard --screenshot FILE.png [--view NAME] [--size WxH] --live URL [--wait SECONDS]
//
// Exit status: 0 success, 1 the run could not be loaded or the image not written, 2 usage error.

#include <QApplication>
#include <QCommandLineParser>
#include <QImage>
#include <QPixmap>
#include <QTimer>
#include <cstdio>

#include "gui/app/main_window.hpp"

namespace {

bool hasDisplay() { return !qEnvironmentVariableIsEmpty("DISPLAY") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"); }

/// The offscreen platform warns about window-manager hints it cannot honour on every window (and
/// about a missing XDG_RUNTIME_DIR, which it does not use); that
/// noise would bury real messages on stderr in scripts and CI.
void quietOffscreen(QtMsgType type, const QMessageLogContext& context, const QString& message) {
  if (message.contains(QStringLiteral("propagateSizeHints")) || message.contains(QStringLiteral("XDG_RUNTIME_DIR")))
    return;
  std::fprintf(stderr, "%s\n", qPrintable(qFormatLogMessage(type, context, message)));
}

void fail(const QString& message) { std::fprintf(stderr, "gatelab-dashboard: %s\n", qPrintable(message)); }

}  // namespace

int main(int argc, char** argv) {
  // Without a display, start on the offscreen platform (unless the user chose one): a screenshot
  // needs nothing else, and --help or a usage error is still answered instead of Qt aborting.
  const bool forcedOffscreen = !hasDisplay() && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM");
  if (forcedOffscreen) qputenv("QT_QPA_PLATFORM", "offscreen");
  if (forcedOffscreen || qgetenv("QT_QPA_PLATFORM") == "offscreen") qInstallMessageHandler(quietOffscreen);
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("gatelab-dashboard"));
  QApplication::setApplicationVersion(QStringLiteral("0.1.0"));

  QCommandLineParser parser;
  parser.setApplicationDescription(
      QStringLiteral("Shows what gateway policies did: rate-limit decisions, circuit breakers, ejections, latency.\n"
                     "Opens a run directory written by `gatelab sim|compare|rehearse --out DIR`, or follows a live\n"
                     "gateway's /admin/events stream."));
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption live(QStringLiteral("live"),
                                QStringLiteral("Follow a live gateway's admin address or /admin/events URL."),
                                QStringLiteral("URL"));
  const QCommandLineOption screenshot(
      QStringLiteral("screenshot"),
      QStringLiteral("Render one view of RUN_DIR (or of --live) to a PNG file and exit (no display needed)."),
      QStringLiteral("FILE.png"));
  const QCommandLineOption view(QStringLiteral("view"),
                                QStringLiteral("The view to show: %1 (default overview).")
                                    .arg(gatelab::gui::MainWindow::viewNames().join(QStringLiteral(", "))),
                                QStringLiteral("NAME"), QStringLiteral("overview"));
  const QCommandLineOption size(QStringLiteral("size"),
                                QStringLiteral("Window size for --screenshot (default 1400x900)."),
                                QStringLiteral("WxH"), QStringLiteral("1400x900"));
  const QCommandLineOption range(
      QStringLiteral("range"),
      QStringLiteral("Time range to show, in seconds since the start (e.g. 110-220); default the whole run."),
      QStringLiteral("FROM-TO"));
  const QCommandLineOption wait(
      QStringLiteral("wait"),
      QStringLiteral("With --screenshot and --live: seconds to follow the gateway before the picture (default 5)."),
      QStringLiteral("SECONDS"), QStringLiteral("5"));
  parser.addOptions({live, screenshot, view, size, range, wait});
  parser.addPositionalArgument(QStringLiteral("RUN_DIR"),
                               QStringLiteral("A run directory (or one variant's directory, or its report.json)."));
  if (!parser.parse(QApplication::arguments())) {
    fail(parser.errorText());
    return 2;
  }
  if (parser.isSet(QStringLiteral("help"))) parser.showHelp(0);
  if (parser.isSet(QStringLiteral("version"))) parser.showVersion();

  const QStringList positional = parser.positionalArguments();
  if (positional.size() > 1) {
    fail(QStringLiteral("one RUN_DIR at most (got %1)").arg(positional.size()));
    return 2;
  }
  const QString viewName = parser.value(view);
  if (!gatelab::gui::MainWindow::viewNames().contains(viewName)) {
    fail(QStringLiteral("unknown view \"%1\"; allowed: %2")
             .arg(viewName, gatelab::gui::MainWindow::viewNames().join(QStringLiteral(", "))));
    return 2;
  }
  QSize windowSize(1400, 900);
  {
    const QStringList wh = parser.value(size).split(QLatin1Char('x'));
    bool okW = false, okH = false;
    if (wh.size() == 2) windowSize = QSize(wh[0].toInt(&okW), wh[1].toInt(&okH));
    if (!okW || !okH || windowSize.width() < 200 || windowSize.height() < 150 || windowSize.width() > 8000 ||
        windowSize.height() > 8000) {
      fail(QStringLiteral("--size: expected WxH between 200x150 and 8000x8000, got \"%1\"").arg(parser.value(size)));
      return 2;
    }
  }

  double rangeFrom = 0, rangeTo = 0;
  if (parser.isSet(range)) {
    const QStringList parts = parser.value(range).split(QLatin1Char('-'));
    bool okFrom = false, okTo = false;
    if (parts.size() == 2) {
      rangeFrom = parts[0].toDouble(&okFrom);
      rangeTo = parts[1].toDouble(&okTo);
    }
    if (!okFrom || !okTo || !(rangeTo > rangeFrom)) {
      fail(QStringLiteral("--range: expected FROM-TO in seconds with FROM < TO, got \"%1\"").arg(parser.value(range)));
      return 2;
    }
  }

  if (forcedOffscreen && !parser.isSet(screenshot)) {
    fail(
        QStringLiteral("no display (DISPLAY and WAYLAND_DISPLAY are unset): the window cannot be shown; "
                       "--screenshot FILE.png renders without one"));
    return 1;
  }

  gatelab::gui::MainWindow window;
  window.resize(windowSize);
  window.showView(viewName);

  if (parser.isSet(screenshot)) {
    const bool fromLive = parser.isSet(live);
    if (positional.size() != (fromLive ? 0 : 1)) {
      fail(fromLive ? QStringLiteral("--screenshot with --live takes no RUN_DIR")
                    : QStringLiteral("--screenshot needs a RUN_DIR"));
      return 2;
    }
    bool okWait = false;
    const double waitSeconds = parser.value(wait).toDouble(&okWait);
    if (!okWait || waitSeconds < 0 || waitSeconds > 3600) {
      fail(QStringLiteral("--wait: expected seconds between 0 and 3600, got \"%1\"").arg(parser.value(wait)));
      return 2;
    }
    const QString file = parser.value(screenshot);
    const bool selectRange = parser.isSet(range);
    // Let layouts and charts settle (one pass of queued events), then grab the window.
    const auto grabAndExit = [&window, file] {
      QApplication::processEvents();
      const QImage image = window.grab().toImage();
      if (image.isNull() || !image.save(file, "PNG")) {
        fail(QStringLiteral("%1: could not write the image").arg(file));
        QApplication::exit(1);
        return;
      }
      QApplication::exit(0);
    };
    window.show();
    if (fromLive) {
      // A live window has no end to wait for: follow for --wait seconds, then take what is shown.
      window.followLive(parser.value(live));
      QTimer::singleShot(static_cast<int>(waitSeconds * 1000), &window, [&window, grabAndExit] {
        if (window.live().bucketsReceived() == 0) {
          fail(QStringLiteral("%1: no timeline bucket received (%2)")
                   .arg(window.live().url(), window.live().stateDetail()));
          QApplication::exit(1);
          return;
        }
        grabAndExit();
      });
      return QApplication::exec();
    }
    QObject::connect(&window, &gatelab::gui::MainWindow::runLoaded, &app,
                     [&window, grabAndExit, selectRange, rangeFrom, rangeTo](bool ok, const QString& error) {
                       if (!ok) {
                         fail(error);
                         QApplication::exit(1);
                         return;
                       }
                       if (selectRange) window.timeRange().select(rangeFrom, rangeTo);
                       QTimer::singleShot(0, &window, grabAndExit);
                     });
    window.show();
    window.openRun(positional.front());
    return QApplication::exec();
  }

  if (parser.isSet(range))
    QObject::connect(
        &window, &gatelab::gui::MainWindow::runLoaded, &window,
        [&window, rangeFrom, rangeTo](bool ok) {
          if (ok) window.timeRange().select(rangeFrom, rangeTo);
        },
        Qt::SingleShotConnection);
  window.show();
  if (parser.isSet(live))
    window.followLive(parser.value(live));
  else if (!positional.isEmpty())
    window.openRun(positional.front());
  return QApplication::exec();
}
