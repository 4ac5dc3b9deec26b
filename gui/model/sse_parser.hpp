#pragma once
// Incremental parser for a text/event-stream body (the WHATWG server-sent events format): bytes
// arrive in arbitrary pieces; complete events come out. Handles "event:", "data:" (several lines
// joined with '\n'), comments (":"), CRLF or LF line ends; other fields (id, retry) are ignored.
//
// Bounded: a single line or event longer than `maxEventBytes` is dropped and counted, so a broken
// or hostile server cannot grow memory without limit. Not thread-safe: one parser per stream.

#include <QByteArray>
#include <QByteArrayView>
#include <cstddef>
#include <vector>

namespace gatelab::gui {

struct SseEvent {
  QByteArray type;  // "message" when the event had no "event:" field
  QByteArray data;
};

class SseParser {
 public:
  explicit SseParser(qsizetype maxEventBytes = 4 * 1024 * 1024) : maxEventBytes_(maxEventBytes) {}

  /// Consumes `bytes`; appends every event they complete to `out`.
  void feed(QByteArrayView bytes, std::vector<SseEvent>& out);
  /// Forgets a partial event (a new connection starts clean).
  void reset();
  [[nodiscard]] std::size_t oversizedDropped() const { return oversized_; }

 private:
  void line(QByteArrayView text, std::vector<SseEvent>& out);

  qsizetype maxEventBytes_;
  QByteArray pending_;  // an incomplete line
  QByteArray type_;
  QByteArray data_;
  bool hasData_ = false;
  bool skipping_ = false;  // inside an oversized line or event: drop until its end
  std::size_t oversized_ = 0;
};

}  // namespace gatelab::gui
