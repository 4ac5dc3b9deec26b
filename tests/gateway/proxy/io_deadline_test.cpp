// IoDeadline (gateway/proxy/io_deadline.hpp) on a real loopback connection: a read that outlives
// its deadline is cancelled (or the socket closed) at the deadline, a deadline moved later or
// cleared does not fire early, a deadline moved earlier fires at the earlier time, and the pending
// wait outliving its owner is harmless. Deadlines are tens of milliseconds; the io_context runs
// until the read completes (bounded by run_for), nothing sleeps.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <memory>
#include <optional>

#include "gateway/proxy/io_deadline.hpp"

namespace gatelab::proxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// A connected loopback pair; `near` is the socket under test, `far` never writes.
struct Pair {
  asio::io_context ioc;
  Socket near{ioc};  // the proxy's socket type (its io_context's executor)
  Socket far{ioc};
  Pair() {
    Acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    near.connect(acceptor.local_endpoint());
    acceptor.accept(far);
  }
};

/// Starts a one-byte read on `p.near`; returns where its result and completion time go.
struct PendingRead {
  std::optional<boost::system::error_code> result;
  Clock::time_point at{};
  char byte = 0;
};
std::shared_ptr<PendingRead> startRead(Pair& p) {
  auto r = std::make_shared<PendingRead>();
  asio::async_read(p.near, asio::buffer(&r->byte, 1), [r](const boost::system::error_code& ec, std::size_t) {
    r->result = ec;
    r->at = Clock::now();
  });
  return r;
}

TEST(IoDeadline, CancelsAReadAtItsDeadline) {
  Pair p;
  IoDeadline d(p.ioc, p.near, IoDeadline::Action::kCancel);
  const auto start = Clock::now();
  d.expiresAfter(30ms);
  auto r = startRead(p);
  p.ioc.run_for(5s);
  ASSERT_TRUE(r->result.has_value());
  EXPECT_EQ(*r->result, asio::error::operation_aborted);
  EXPECT_TRUE(d.fired());
  EXPECT_GE(r->at - start, 30ms);
  EXPECT_TRUE(p.near.is_open()) << "kCancel keeps the socket: the connection can still answer";
  d.clear();
  EXPECT_TRUE(d.fired()) << "clear() keeps the verdict for the caller to read";
  d.expiresAfter(1s);
  EXPECT_FALSE(d.fired()) << "a new deadline starts afresh";
}

TEST(IoDeadline, CloseActionClosesTheSocket) {
  Pair p;
  IoDeadline d(p.ioc, p.near, IoDeadline::Action::kClose);
  d.expiresAfter(20ms);
  auto r = startRead(p);
  p.ioc.run_for(5s);
  ASSERT_TRUE(r->result.has_value());
  EXPECT_TRUE(*r->result);
  EXPECT_TRUE(d.fired());
  EXPECT_FALSE(p.near.is_open());
}

// The pending wait is for 30ms; the deadline moves to 150ms: the wait fires, finds the deadline
// ahead, waits again, and the read ends at 150ms, not 30ms.
TEST(IoDeadline, ADeadlineMovedLaterIsKeptExactly) {
  Pair p;
  IoDeadline d(p.ioc, p.near, IoDeadline::Action::kCancel);
  const auto start = Clock::now();
  d.expiresAfter(30ms);
  d.expiresAt(start + 150ms);
  auto r = startRead(p);
  p.ioc.run_for(5s);
  ASSERT_TRUE(r->result.has_value());
  EXPECT_EQ(*r->result, asio::error::operation_aborted);
  EXPECT_GE(r->at - start, 150ms);
  EXPECT_TRUE(d.fired());
}

TEST(IoDeadline, ADeadlineMovedEarlierFiresEarlier) {
  Pair p;
  IoDeadline d(p.ioc, p.near, IoDeadline::Action::kCancel);
  const auto start = Clock::now();
  d.expiresAfter(10s);
  d.expiresAfter(30ms);
  auto r = startRead(p);
  p.ioc.run_for(5s);
  ASSERT_TRUE(r->result.has_value());
  EXPECT_LT(r->at - start, 5s);
  EXPECT_GE(r->at - start, 30ms);
  EXPECT_TRUE(d.fired());
}

// Cleared while its wait is pending: the wait fires and does nothing; the read is still pending
// (the peer then writes a byte to end it).
TEST(IoDeadline, ClearedDeadlineDoesNotFire) {
  Pair p;
  IoDeadline d(p.ioc, p.near, IoDeadline::Action::kCancel);
  d.expiresAfter(20ms);
  d.clear();
  auto r = startRead(p);
  p.ioc.run_for(120ms);  // well past the wait's expiry
  EXPECT_FALSE(r->result.has_value()) << "the read must still be pending";
  EXPECT_FALSE(d.fired());
  asio::write(p.far, asio::buffer("x", 1));
  p.ioc.run_for(5s);
  ASSERT_TRUE(r->result.has_value());
  EXPECT_FALSE(*r->result);
}

// The owner goes away with a wait pending (a connection closed mid-request): the wait's handler
// runs later against shared state only.
TEST(IoDeadline, DestroyedWithAWaitPending) {
  Pair p;
  {
    IoDeadline d(p.ioc, p.near, IoDeadline::Action::kClose);
    d.expiresAfter(10ms);
  }
  p.ioc.run_for(100ms);
  EXPECT_TRUE(p.near.is_open()) << "a gone deadline touches nothing";
}

}  // namespace
}  // namespace gatelab::proxy
