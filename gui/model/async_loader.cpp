#include "gui/model/async_loader.hpp"

#include <QCoreApplication>
#include <QMetaObject>
#include <QPointer>
#include <QThreadPool>

namespace gatelab::gui {

void AsyncRunLoader::load(const QString& path) {
  qRegisterMetaType<LoadResult>();
  const quint64 generation = ++generation_;
  ++pending_;
  QPointer<AsyncRunLoader> self(this);
  QThreadPool::globalInstance()->start([self, path, generation] {
    LoadResult result = loadRun(path);
    // Back on the application's thread through the application object (which outlives every
    // loader): `self` is only looked at there, where it lives, so a loader destroyed meanwhile is
    // seen as gone instead of being touched from this thread.
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [self, result = std::move(result), path, generation]() mutable {
          if (!self) return;
          --self->pending_;
          if (generation == self->generation_) emit self->loaded(std::move(result), path);
        },
        Qt::QueuedConnection);
  });
}

}  // namespace gatelab::gui
