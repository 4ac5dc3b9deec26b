#pragma once
// A one-line progress indicator on stderr for long simulation runs. It appears only when stderr is
// a terminal and only once a run has taken more than a second of wall time, so pipes, CI logs and
// short runs stay clean. The CLI may read the wall clock (the simulator never does).

#include <chrono>
#include <cstdint>
#include <string>

namespace gatelab::cli {

class ProgressLine {
 public:
  /// `enabled`: false turns it off entirely (--quiet, --json).
  explicit ProgressLine(bool enabled);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  /// A new run starts (resets the one-second grace period).
  void start(std::string label);
  /// `records` submitted so far, `simulatedSeconds` reached; `fraction` in [0, 1] or < 0 if unknown.
  void update(std::uint64_t records, double simulatedSeconds, double fraction);
  /// Clears the line (if it was drawn).
  void finish();

 private:
  bool enabled_;
  bool drawn_ = false;
  std::string label_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace gatelab::cli
