// ReplyReader: the replies of a Redis connection's bytes, the script's integer arrays read in
// place while hiredis holds nothing and everything else by hiredis. Whatever way the bytes are cut
// into reads, the replies come out in order and as hiredis alone gives them.

#include "gateway/proxy/redis_reply.hpp"

#include <gtest/gtest.h>
#include <hiredis/read.h>

#include <string>
#include <string_view>
#include <vector>

namespace gatelab::proxy {
namespace {

// Every kind of reply a connection may see, the script's and others, with the shapes that must not
// be taken in place: a cut-off integer, a 19-digit integer, a non-integer or nested element, a nil
// array.
const std::string kStream = std::string("$40\r\n0123456789abcdef0123456789abcdef01234567\r\n") +  // SCRIPT LOAD
                            "+OK\r\n" +                                                          // a status
                            "*8\r\n:1\r\n:0\r\n:0\r\n:1000000\r\n:999999\r\n:1000000000\r\n:1000\r\n:0\r\n" +
                            "*0\r\n" +                                                           // an empty array
                            "-NOSCRIPT No matching script. Please use EVAL.\r\n" +              // an error
                            "*3\r\n:-5\r\n:9007199254740991\r\n:0\r\n" +                        // signs, 2^53 - 1
                            "*2\r\n:1\r\n$3\r\nabc\r\n" +                                      // a string element
                            "*1\r\n:1234567890123456789\r\n" +                                  // 19 digits
                            "*2\r\n*1\r\n:1\r\n:2\r\n" +                                       // nested
                            "*-1\r\n" +                                                          // nil array
                            ":42\r\n" +                                                          // an integer
                            "*6\r\n:1\r\n:0\r\n:0\r\n:5\r\n:4\r\n:200000000\r\n";

struct Seen {
  int type;
  std::string text;
  long long integer;
  std::vector<std::int64_t> values;
  bool otherElement;
  friend bool operator==(const Seen&, const Seen&) = default;
};

std::ostream& operator<<(std::ostream& os, const Seen& s) {
  os << "{type " << s.type << ", \"" << s.text << "\", " << s.integer << ", [";
  for (const auto v : s.values) os << v << ' ';
  return os << "], other " << s.otherElement << "}";
}

// The replies of `stream` read in pieces of `cuts` (positions where a read ends).
std::vector<Seen> readAll(std::string_view stream, const std::vector<std::size_t>& cuts, bool& failed) {
  ReplyReader reader;
  std::vector<Seen> seen;
  std::size_t from = 0;
  failed = false;
  auto drain = [&] {
    while (true) {
      const Reply* r = nullptr;
      const auto got = reader.next(r);
      if (got == ReplyReader::Next::kError) {
        failed = true;
        return;
      }
      if (got == ReplyReader::Next::kNeedMore) return;
      // Only an array's own fields are meaningful for it; only a scalar's for a scalar.
      const bool array = r->type == REDIS_REPLY_ARRAY;
      seen.push_back(Seen{r->type, array ? "" : r->text, array ? 0 : r->integer,
                          array ? r->values : std::vector<std::int64_t>{}, array && r->otherElement});
    }
  };
  for (const std::size_t cut : cuts) {
    reader.feed(stream.substr(from, cut - from));
    drain();
    if (failed) return seen;
    from = cut;
  }
  reader.feed(stream.substr(from));
  drain();
  return seen;
}

TEST(RedisReply, TakesAnIntegerArrayOnlyWhenItIsWhole) {
  Reply r;
  const std::string_view one = "*3\r\n:7\r\n:-2\r\n:0\r\n";
  EXPECT_EQ(takeIntegerArray(std::string(one) + "+OK\r\n", r), one.size());
  EXPECT_EQ(r.type, REDIS_REPLY_ARRAY);
  EXPECT_EQ(r.values, (std::vector<std::int64_t>{7, -2, 0}));
  EXPECT_FALSE(r.otherElement);
  for (std::size_t n = 0; n < one.size(); ++n) EXPECT_EQ(takeIntegerArray(one.substr(0, n), r), 0u) << n;
  EXPECT_EQ(takeIntegerArray("*1\r\n$1\r\na\r\n", r), 0u);
  EXPECT_EQ(takeIntegerArray("*1\r\n:12a\r\n", r), 0u);
  EXPECT_EQ(takeIntegerArray("*1\r\n:\r\n", r), 0u);
  EXPECT_EQ(takeIntegerArray("*1\n:1\n", r), 0u);
  EXPECT_EQ(takeIntegerArray("*-1\r\n", r), 0u);
  EXPECT_EQ(takeIntegerArray(":5\r\n", r), 0u);
  EXPECT_EQ(takeIntegerArray("*1\r\n:1234567890123456789\r\n", r), 0u) << "19 digits: hiredis's to read";
  EXPECT_EQ(takeIntegerArray("*1\r\n:-0\r\n", r), 0u) << "hiredis refuses -0";
  EXPECT_EQ(takeIntegerArray("*1\r\n:01\r\n", r), 0u) << "hiredis refuses a leading zero";
  EXPECT_EQ(takeIntegerArray("*1\r\n:+1\r\n", r), 0u);
  EXPECT_EQ(takeIntegerArray("*1\r\n:123456789012345678\r\n", r), 25u);
  EXPECT_EQ(r.values, (std::vector<std::int64_t>{123456789012345678}));
}

TEST(RedisReply, EveryWayOfCuttingTheBytesGivesWhatHiredisAloneGives) {
  // One byte per read: no reply is ever whole in one read, so every reply is hiredis's.
  std::vector<std::size_t> bytewise;
  for (std::size_t i = 1; i < kStream.size(); ++i) bytewise.push_back(i);
  bool failed = false;
  const std::vector<Seen> reference = readAll(kStream, bytewise, failed);
  ASSERT_FALSE(failed);
  ASSERT_EQ(reference.size(), 12u);
  EXPECT_EQ(reference[2].values, (std::vector<std::int64_t>{1, 0, 0, 1000000, 999999, 1000000000, 1000, 0}));
  EXPECT_TRUE(reference[6].otherElement);
  EXPECT_EQ(reference[7].values, (std::vector<std::int64_t>{1234567890123456789}));

  EXPECT_EQ(readAll(kStream, {}, failed), reference) << "one read";
  for (std::size_t cut = 1; cut < kStream.size(); ++cut) {
    ASSERT_EQ(readAll(kStream, {cut}, failed), reference) << "two reads, cut at " << cut;
    ASSERT_FALSE(failed);
  }
  for (std::size_t step = 2; step < 40; ++step) {
    std::vector<std::size_t> cuts;
    for (std::size_t i = step; i < kStream.size(); i += step) cuts.push_back(i);
    ASSERT_EQ(readAll(kStream, cuts, failed), reference) << "reads of " << step << " bytes";
  }
}

TEST(RedisReply, IntegerArraysAreReadInPlaceAgainOnceHiredisHasGivenItsReplies) {
  // The connection's first reply (SCRIPT LOAD's) is hiredis's; the script's replies after it, each
  // whole in its read, are read in place, also after a reply cut between two reads.
  ReplyReader reader;
  const Reply* r = nullptr;
  reader.feed("$40\r\n0123456789abcdef0123456789abcdef01234567\r\n");
  ASSERT_EQ(reader.next(r), ReplyReader::Next::kReply);
  EXPECT_EQ(r->type, REDIS_REPLY_STRING);
  ASSERT_EQ(reader.next(r), ReplyReader::Next::kNeedMore);
  for (int i = 0; i < 5; ++i) {
    reader.feed("*2\r\n:1\r\n:2\r\n");
    ASSERT_EQ(reader.next(r), ReplyReader::Next::kReply);
    EXPECT_EQ(r->values, (std::vector<std::int64_t>{1, 2}));
    ASSERT_EQ(reader.next(r), ReplyReader::Next::kNeedMore);
  }
  EXPECT_EQ(reader.takenInPlace(), 5u);
  reader.feed("*2\r\n:3\r");  // cut: hiredis keeps the start
  ASSERT_EQ(reader.next(r), ReplyReader::Next::kNeedMore);
  reader.feed("\n:4\r\n");
  ASSERT_EQ(reader.next(r), ReplyReader::Next::kReply);
  EXPECT_EQ(r->values, (std::vector<std::int64_t>{3, 4}));
  ASSERT_EQ(reader.next(r), ReplyReader::Next::kNeedMore);
  reader.feed("*1\r\n:5\r\n");
  ASSERT_EQ(reader.next(r), ReplyReader::Next::kReply);
  EXPECT_EQ(r->values, (std::vector<std::int64_t>{5}));
  EXPECT_EQ(reader.takenInPlace(), 6u) << "in place again once hiredis has given the cut reply";
}

TEST(RedisReply, BytesThatAreNotRespAreAnError) {
  bool failed = false;
  const auto seen = readAll("*2\r\n:1\r\n:1\r\n*1\r\n:x\r\n", {}, failed);
  EXPECT_TRUE(failed);
  ASSERT_EQ(seen.size(), 1u) << "the whole reply before the bad one still comes out";
  EXPECT_EQ(seen[0].values, (std::vector<std::int64_t>{1, 1}));
  readAll("?what\r\n", {}, failed);
  EXPECT_TRUE(failed);
  readAll("*1\r\n:-0\r\n", {}, failed);
  EXPECT_TRUE(failed) << "what hiredis refuses is refused, not read in place";
}

}  // namespace
}  // namespace gatelab::proxy
