#pragma once
// Runs the real `gatelab` binary to produce simulator output for the dashboard tests.

#include <QDir>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

namespace gatelab::gui::testing {

/// `gatelab COMMAND SCENARIO --out DIR`; returns "" on success, else what went wrong.
inline QString runGatelab(const QString& command, const QString& scenario, const QString& outDir) {
  QProcess p;
  p.setProcessChannelMode(QProcess::MergedChannels);
  p.start(QStringLiteral(GATELAB_BIN),
          {command, QStringLiteral(GATELAB_SOURCE_DIR "/") + scenario, QStringLiteral("--out"), outDir});
  if (!p.waitForFinished(120'000)) return QStringLiteral("gatelab did not finish");
  // rehearse exits 1 on a breached check: output is still written.
  if (p.exitStatus() != QProcess::NormalExit || (p.exitCode() != 0 && command != QStringLiteral("rehearse")))
    return QStringLiteral("gatelab %1 failed (%2): %3")
        .arg(command)
        .arg(p.exitCode())
        .arg(QString::fromUtf8(p.readAll()));
  return {};
}

}  // namespace gatelab::gui::testing
