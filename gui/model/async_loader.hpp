#pragma once
// Loads runs off the GUI thread: load() returns at once, the file reading and parsing run on a
// pool thread, and `loaded` is emitted on the main thread (queued). A newer load() makes
// the result of an older one be discarded, so the views never flip back to a stale run.
// A loader lives on the application's main thread (results are delivered there).

#include <QObject>
#include <QString>
#include <memory>

#include "gui/model/run_loader.hpp"

namespace gatelab::gui {

class AsyncRunLoader : public QObject {
  Q_OBJECT
 public:
  using QObject::QObject;
  void load(const QString& path);
  [[nodiscard]] bool busy() const { return pending_ > 0; }

 signals:
  /// result.run is null on error, with result.error saying why.
  void loaded(gatelab::gui::LoadResult result, QString path);

 private:
  quint64 generation_ = 0;
  int pending_ = 0;
};

}  // namespace gatelab::gui

Q_DECLARE_METATYPE(gatelab::gui::LoadResult)
