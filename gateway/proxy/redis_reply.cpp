#include "gateway/proxy/redis_reply.hpp"

#include <hiredis/read.h>

#include <new>

namespace gatelab::proxy {
namespace {

/// hiredis's reader object functions building the one Reply (found through the root task's
/// privdata); they return that Reply for every object, which hiredis only passes back to them.
Reply& replyOf(const redisReadTask* task) {
  while (task->parent != nullptr) task = task->parent;
  return *static_cast<Reply*>(task->privdata);
}
void* createString(const redisReadTask* task, char* str, size_t len) {
  Reply& r = replyOf(task);
  if (task->parent != nullptr) {
    r.otherElement = true;
  } else {
    r.type = task->type;
    r.text.assign(str, len);
  }
  return &r;
}
void* createArray(const redisReadTask* task, int elements) {
  Reply& r = replyOf(task);
  if (task->parent != nullptr) {
    r.otherElement = true;
  } else {
    r.type = REDIS_REPLY_ARRAY;
    r.values.clear();
    r.otherElement = false;
    if (elements > 0) r.values.reserve(static_cast<std::size_t>(elements));
  }
  return &r;
}
void* createInteger(const redisReadTask* task, long long value) {
  Reply& r = replyOf(task);
  if (task->parent != nullptr) {
    r.values.push_back(static_cast<std::int64_t>(value));
  } else {
    r.type = REDIS_REPLY_INTEGER;
    r.integer = value;
  }
  return &r;
}
void* createNil(const redisReadTask* task) {
  Reply& r = replyOf(task);
  if (task->parent != nullptr) {
    r.otherElement = true;
  } else {
    r.type = REDIS_REPLY_NIL;
  }
  return &r;
}
void freeObject(void*) {}  // nothing of hiredis's own to free
redisReplyObjectFunctions kReplyFunctions{createString, createArray, createInteger, createNil, freeObject};

/// Whether hiredis's reader holds nothing: no reply begun, no bytes left unread (the fields of
/// read.h's redisReader, the same in hiredis 0.14 and 1.x).
bool readerIdle(const redisReader& r) noexcept { return r.ridx == -1 && r.pos == r.len; }

}  // namespace

std::size_t takeIntegerArray(std::string_view data, Reply& out) {
  std::size_t i = 0;
  // A decimal integer ending in CRLF at i, in the form hiredis accepts ("0", or an optional '-'
  // and digits not starting with 0: it refuses "-0" and "01"), at most 18 digits (anything longer
  // goes to hiredis).
  auto integer = [&](std::int64_t& v) {
    const bool negative = i < data.size() && data[i] == '-';
    if (negative) ++i;
    const std::size_t first = i;
    if (i < data.size() && data[i] == '0' && (negative || (i + 1 < data.size() && data[i + 1] != '\r'))) return false;
    std::int64_t x = 0;
    for (; i < data.size() && data[i] >= '0' && data[i] <= '9'; ++i) {
      if (i - first == 18) return false;
      x = x * 10 + (data[i] - '0');
    }
    if (i == first || i + 1 >= data.size() || data[i] != '\r' || data[i + 1] != '\n') return false;
    i += 2;
    v = negative ? -x : x;
    return true;
  };
  if (data.empty() || data[0] != '*') return 0;
  i = 1;
  std::int64_t n = 0;
  if (!integer(n) || n < 0 || n > 1024) return 0;
  out.type = REDIS_REPLY_ARRAY;
  out.otherElement = false;
  out.values.clear();
  for (std::int64_t k = 0; k < n; ++k) {
    std::int64_t v = 0;
    if (i >= data.size() || data[i] != ':') return 0;
    ++i;
    if (!integer(v)) return 0;
    out.values.push_back(v);
  }
  return i;
}

ReplyReader::ReplyReader() : reader_(redisReaderCreateWithFunctions(&kReplyFunctions)) {
  if (!reader_) throw std::bad_alloc();
  reader_->privdata = &reply_;
}

ReplyReader::~ReplyReader() = default;

void ReplyReader::Free::operator()(redisReader* r) const noexcept { redisReaderFree(r); }

ReplyReader::Next ReplyReader::next(const Reply*& out) {
  // In place while hiredis holds nothing; the first reply that is not an integer array (or is cut
  // by the end of the read) and everything after it go to hiredis, which keeps a cut reply's start.
  if (readerIdle(*reader_)) {
    // (Asking hiredis for a reply now would begin an empty one and leave it not idle until its
    // buffer is next compacted: nothing to ask it.)
    if (data_.empty()) return Next::kNeedMore;
    if (const std::size_t used = takeIntegerArray(data_, reply_); used != 0) {
      data_.remove_prefix(used);
      ++takenInPlace_;
      out = &reply_;
      return Next::kReply;
    }
  }
  if (!data_.empty()) {
    if (redisReaderFeed(reader_.get(), data_.data(), data_.size()) != REDIS_OK) return Next::kError;
    data_ = {};
  }
  void* raw = nullptr;
  if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) return Next::kError;
  if (raw == nullptr) return Next::kNeedMore;
  out = static_cast<const Reply*>(raw);
  return Next::kReply;
}

const char* ReplyReader::error() const noexcept { return reader_->errstr; }

}  // namespace gatelab::proxy
