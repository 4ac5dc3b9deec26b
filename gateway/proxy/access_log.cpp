#include "gateway/proxy/access_log.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>

namespace gatelab::proxy {
namespace {

constexpr std::size_t kFlushBytes = 64 * 1024;
constexpr std::size_t kMaxPendingBytes = 64 * 1024 * 1024;
constexpr auto kFlushEvery = std::chrono::milliseconds(200);

}  // namespace

void appendJsonEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
}

AccessLog::~AccessLog() { close(); }

std::string AccessLog::open(const std::string& path) {
  if (path == "-") {
    file_ = stdout;
    ownsFile_ = false;
  } else {
    file_ = std::fopen(path.c_str(), "ae");
    if (file_ == nullptr) return "cannot open access log " + path + ": " + std::strerror(errno);
    ownsFile_ = true;
  }
  writer_ = std::thread([this] { run(); });
  return {};
}

void AccessLog::add(std::string_view line) {
  if (file_ == nullptr) return;
  bool wake = false;
  {
    const std::lock_guard lock(mutex_);
    if (pending_.size() + line.size() + 1 > kMaxPendingBytes) {
      ++dropped_;
      return;
    }
    pending_.append(line);
    pending_ += '\n';
    wake = pending_.size() >= kFlushBytes;
  }
  if (wake) wake_.notify_one();
}

bool AccessLog::flush(std::string& batch) {
  if (batch.empty()) return true;
  const std::size_t written = std::fwrite(batch.data(), 1, batch.size(), file_);
  const bool ok = written == batch.size() && std::fflush(file_) == 0;
  if (ok) {
    batch.clear();
  } else {
    batch.erase(0, written);  // keep what was not written for the next attempt
    std::clearerr(file_);
  }
  return ok;
}

void AccessLog::run() {
  std::string batch;
  bool reportedError = false;
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait_for(lock, kFlushEvery, [this] { return closing_ || pending_.size() >= kFlushBytes; });
    const bool last = closing_;
    if (batch.size() + pending_.size() <= kMaxPendingBytes) {
      batch += pending_;
    } else {
      ++dropped_;  // the disk has been failing long enough: keep the memory bounded
    }
    pending_.clear();
    lock.unlock();
    if (!flush(batch)) {
      if (!reportedError) std::cerr << "gatelab: access log write failed; retrying with the next batch\n";
      reportedError = true;
    } else {
      reportedError = false;
    }
    lock.lock();
    if (last) return;
  }
}

void AccessLog::close() {
  if (file_ == nullptr) return;
  {
    const std::lock_guard lock(mutex_);
    closing_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
  if (ownsFile_) std::fclose(file_);
  file_ = nullptr;
}

std::uint64_t AccessLog::dropped() const {
  const std::lock_guard lock(mutex_);
  return dropped_;
}

}  // namespace gatelab::proxy
