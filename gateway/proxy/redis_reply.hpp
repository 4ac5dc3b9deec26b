#pragma once
// Replies from the bytes a Redis connection reads (RESP2), for RedisClient. hiredis's reader does
// the protocol, but through our own object functions into one reused Reply instead of its
// redisReply tree (one calloc per element); and the script's replies, arrays of integers that are
// most of what a connection reads, are read in place while hiredis holds nothing (hiredis spends a
// few hundred instructions per element on them). Either way the replies come out in order, each
// as hiredis would have given it.
//
//   ReplyReader r;
//   r.feed(bytes);                       // what one read returned
//   const Reply* reply;
//   while (r.next(reply) == ReplyReader::Next::kReply) use(*reply);   // until kNeedMore
//
// Not thread-safe (one per connection).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct redisReader;

namespace gatelab::proxy {

/// One reply: its type (REDIS_REPLY_* of hiredis/read.h), its text (string, status, error) or
/// integer, and an array's elements when all of them are integers.
struct Reply {
  int type = 0;
  std::string text;
  long long integer = 0;
  std::vector<std::int64_t> values;  ///< an array's elements, when all of them are integers
  bool otherElement = false;         ///< an array held a non-integer (or nested) element
};

/// The length of the reply at the start of `data` when it is a complete array of integers ("*N"
/// CRLF, then N times ":<integer>" CRLF, at most 18 digits each), with its elements put in `out`
/// as hiredis's reader puts them; 0 for anything else or a reply not complete yet.
[[nodiscard]] std::size_t takeIntegerArray(std::string_view data, Reply& out);

class ReplyReader {
 public:
  ReplyReader();
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  /// The bytes of the next read; they must stay valid until next() says kNeedMore (or kError).
  void feed(std::string_view data) noexcept { data_ = data; }

  enum class Next : std::uint8_t {
    kReply,     ///< `out` points at the next reply, valid until the next call
    kNeedMore,  ///< every byte fed so far is taken: feed the next read
    kError,     ///< the bytes are not RESP (error() says why); the connection is unusable
  };
  Next next(const Reply*& out);
  [[nodiscard]] const char* error() const noexcept;
  /// How many replies were read in place, without hiredis (for tests and statistics).
  [[nodiscard]] std::uint64_t takenInPlace() const noexcept { return takenInPlace_; }

 private:
  struct Free {
    void operator()(redisReader* r) const noexcept;
  };
  std::unique_ptr<redisReader, Free> reader_;
  Reply reply_;
  std::string_view data_;
  std::uint64_t takenInPlace_ = 0;
};

}  // namespace gatelab::proxy
