#pragma once
// EventStream: fan-out of the gateway's live events to the admin listener's server-sent-event
// clients (GET /admin/events) — the feed the dashboard follows.
//
// Each message is one SSE event, `event: NAME` and one `data:` line of JSON, in the shapes the
// simulator writes: `timeline` (a timeline.ndjson line: one bucket's requests, status classes,
// outcomes, latency percentiles, decisions per policy, breaker states) and `resilience` (a
// report.json event: breaker transitions, ejections, returns).
//
// A subscriber that does not keep up (more than 4 MiB waiting) is cut off; its client reconnects
// (SSE clients do by themselves). Thread safety: all members, from any thread.

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace gatelab::proxy {

class EventStream {
 public:
  struct Subscriber {
    std::deque<std::string> queue;
    std::size_t bytes = 0;
    bool cutOff = false;
    std::function<void()> wake;  ///< called (under no lock) when messages arrive
  };

  std::shared_ptr<Subscriber> subscribe(std::function<void()> wake);
  void unsubscribe(const std::shared_ptr<Subscriber>& s);
  /// Queues `event: name\ndata: json\n\n` for every subscriber.
  void publish(std::string_view name, std::string_view json);
  /// The subscriber's waiting messages, concatenated ("" when none); sets `cutOff` when it was.
  std::string take(Subscriber& s, bool& cutOff);
  [[nodiscard]] std::size_t subscribers() const;

 private:
  static constexpr std::size_t kMaxQueuedBytes = 4 * 1024 * 1024;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Subscriber>> subscribers_;
};

}  // namespace gatelab::proxy
