#include "gui/model/sse_parser.hpp"

namespace gatelab::gui {

void SseParser::reset() {
  pending_.clear();
  type_.clear();
  data_.clear();
  hasData_ = false;
  skipping_ = false;
}

void SseParser::feed(QByteArrayView bytes, std::vector<SseEvent>& out) {
  qsizetype begin = 0;
  while (begin < bytes.size()) {
    const qsizetype nl = bytes.indexOf('\n', begin);
    if (nl < 0) {
      if (pending_.size() + (bytes.size() - begin) > maxEventBytes_) {
        // An endless line: drop it (and the event it belongs to) instead of buffering it.
        pending_.clear();
        if (!skipping_) ++oversized_;
        skipping_ = true;
      } else if (!skipping_ || !pending_.isEmpty()) {
        pending_.append(bytes.sliced(begin));
      }
      return;
    }
    QByteArrayView text = bytes.sliced(begin, nl - begin);
    if (!pending_.isEmpty()) {
      pending_.append(text);
      text = pending_;
    }
    if (text.endsWith('\r')) text.chop(1);
    line(text, out);
    pending_.clear();
    begin = nl + 1;
  }
}

void SseParser::line(QByteArrayView text, std::vector<SseEvent>& out) {
  if (text.isEmpty()) {  // blank line: dispatch
    if (hasData_ && !skipping_) out.push_back(SseEvent{type_.isEmpty() ? QByteArray("message") : type_, data_});
    type_.clear();
    data_.clear();
    hasData_ = false;
    skipping_ = false;
    return;
  }
  if (skipping_ || text.startsWith(':')) return;
  const qsizetype colon = text.indexOf(':');
  QByteArrayView field = colon < 0 ? text : text.first(colon);
  QByteArrayView value = colon < 0 ? QByteArrayView() : text.sliced(colon + 1);
  if (value.startsWith(' ')) value = value.sliced(1);
  if (field == "event") {
    type_ = value.toByteArray();
  } else if (field == "data") {
    if (data_.size() + value.size() > maxEventBytes_) {
      ++oversized_;
      skipping_ = true;
      data_.clear();
      hasData_ = false;
      return;
    }
    if (hasData_) data_.append('\n');
    data_.append(value);
    hasData_ = true;
  }
}

}  // namespace gatelab::gui
