#pragma once
// Table models over a RunData snapshot: the variant comparison (one row per variant, the compare
// table's figures from each report.json) and the top rejected clients of one variant. Display
// text is formatted here; Qt::UserRole gives the raw number so sorting is numeric. GUI thread only.

#include <QAbstractTableModel>
#include <memory>

#include "gui/model/run_data.hpp"

namespace gatelab::gui {

class VariantTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column {
    kVariant,
    kRequests,
    kAllowed,
    kDelayed,
    kRejected,
    kFalseAllows,
    kFalseBlocks,
    kWronglyBlocked,
    kWorstOvershoot,
    kP50,
    kP99,
    kP999,
    kErrorRate,
    kBreakerOpens,
    kEjections,
    kChecks,
    kColumnCount
  };
  using QAbstractTableModel::QAbstractTableModel;
  void setRun(std::shared_ptr<const RunData> run);
  [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
  [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
  [[nodiscard]] QVariant data(const QModelIndex& index, int role) const override;
  [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 private:
  std::shared_ptr<const RunData> run_;
};

class ClientTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kClient, kRequests, kRejected, kRejectedShare, kDelayed, kErrors, kColumnCount };
  using QAbstractTableModel::QAbstractTableModel;
  /// The variant's clients.top_rejected (clients.top when the report has none), most rejected
  /// first. The rows are copied: `run` need not outlive the call (same signature as the others).
  void setVariant(std::shared_ptr<const RunData> run, const VariantData* variant);
  [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
  [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
  [[nodiscard]] QVariant data(const QModelIndex& index, int role) const override;
  [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 private:
  std::vector<ClientRow> rows_;
};

/// Resilience events (breaker transitions, ejections, returns), newest last. Resetting it is cheap:
/// the view asks only for the rows on screen, so a live feed can replace it on every batch.
class EventTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kAt, kKind, kService, kTarget, kTransition, kFor, kReason, kColumnCount };
  using QAbstractTableModel::QAbstractTableModel;
  void setVariant(std::shared_ptr<const RunData> run, const VariantData* variant);
  [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
  [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
  [[nodiscard]] QVariant data(const QModelIndex& index, int role) const override;
  [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 private:
  std::shared_ptr<const RunData> run_;
  const std::vector<ResilienceEvent>* events_ = nullptr;
};

/// "12.3%" for a share in [0, 1]; "–" for NaN (no denominator).
QString formatShare(double share);
/// Milliseconds as "12.3 ms" / "1.25 s"; "–" for NaN.
QString formatMs(double ms);

}  // namespace gatelab::gui
