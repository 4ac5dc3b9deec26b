#pragma once
// AccessLog: one JSON object per answered request, one per line, appended to a file by a
// background thread so the I/O threads never wait on the disk.
//
// The field names are the simulator's trace field names (time, client, method, url, host,
// protocol, status, bytes, request_time, user_agent, referer), so `format: jsonl` replays a
// gateway's own log as is (docs/operations.md, "Access log"). The rest says what the gateway did:
// route, service, upstream (the last try's target), upstream_status, tries, outcome, request_id,
// rate_limit (every applied policy decision: policy, result, shadow).
//
// Lines are buffered and written every 200 ms or when 64 KiB are pending, and on close(). A failed
// write (disk full) is reported once on stderr and retried with the next batch; nothing is lost
// while less than 64 MiB is waiting, beyond that new lines are dropped and counted (dropped()).
// Thread safety: add() from any thread.

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace gatelab::proxy {

class AccessLog {
 public:
  AccessLog() = default;
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  /// Opens `path` for appending ("-": standard output) and starts the writer. Error text or "".
  [[nodiscard]] std::string open(const std::string& path);
  [[nodiscard]] bool isOpen() const noexcept { return file_ != nullptr; }
  /// Queues one line (without its newline).
  void add(std::string_view line);
  /// Writes what is pending and stops the writer. Idempotent.
  void close();

  [[nodiscard]] std::uint64_t dropped() const;

 private:
  void run();
  bool flush(std::string& batch);

  std::FILE* file_ = nullptr;
  bool ownsFile_ = false;
  std::thread writer_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::string pending_;
  bool closing_ = false;
  std::uint64_t dropped_ = 0;
};

/// `s` as the inside of a JSON string (quotes not included): ", \, control characters escaped;
/// bytes >= 0x80 passed through (a log line is as UTF-8 as the request was).
void appendJsonEscaped(std::string& out, std::string_view s);

}  // namespace gatelab::proxy
