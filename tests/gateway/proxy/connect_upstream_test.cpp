// finishFirst/resolveUntil (gateway/proxy/resolve.hpp): an operation raced by a deadline. Then
// connectUpstream (gateway/proxy/server_impl.hpp): connecting a try's upstream connection under
// the connection's expiry. The expiry closes the socket when it passes; while a name is resolved
// the socket is not open yet, so the resolve is guarded separately: a deadline that passed by the
// time the resolve ends is a timeout, and the connect never starts (it would open the socket anew,
// with no deadline left to close it). IP literals are connected to without resolving.
// Loopback only, port 0. The race tests stand a timer that is never due in for a resolve that
// hangs (a DNS server that does not answer), since a test may not reach one.

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <optional>

#include "gateway/proxy/server_impl.hpp"

namespace gatelab::proxy {
namespace {

using namespace std::chrono_literals;
using Clock = TimedSocket::Clock;

/// Runs connectUpstream to `url` with the connection's expiry at `expiry` (max: none).
struct Attempt {
  asio::io_context ioc;
  std::unique_ptr<upstream::Conn> conn = upstream::Conn::make(ioc, nullptr);
  std::optional<std::optional<ConnectFailure>> result;  // outer: finished

  void run(const TargetAddress& target, Clock::time_point expiry) {
    if (expiry != Clock::time_point::max()) conn->lowest().expires_at(expiry);
    asio::co_spawn(
        ioc, [&]() -> Task<void> { result = co_await connectUpstream(ioc, target, *conn); }, asio::detached);
    // Until the attempt is done (the expiry's timer stays pending after it), bounded.
    const auto giveUp = Clock::now() + 10s;
    while (!result && Clock::now() < giveUp && ioc.run_one_until(giveUp) > 0) {
    }
  }
};

/// A listener on loopback (port 0) that is never accepted from: the kernel completes connects.
struct Listener {
  asio::io_context ioc;
  Acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::string port() const { return std::to_string(acceptor.local_endpoint().port()); }
};

/// `url` validated as the config does, then as the proxy connects to it.
TargetAddress target(const std::string& url) {
  const auto parsed = config::parseTargetUrl(url);
  if (!parsed.ok()) {
    ADD_FAILURE() << "not a target URL: " << url;
    return {};
  }
  return targetAddress(parsed.value());
}

/// An operation for finishFirst that completes only when `slow` fires or is cancelled.
auto slowOperation(SteadyTimer& slow) {
  return [&slow](auto callback) {
    slow.async_wait([callback = std::move(callback)](const boost::system::error_code& ec) mutable { callback(ec, 7); });
  };
}

TEST(FinishFirst, TheDeadlineEndsAnOperationThatHangs) {
  asio::io_context ioc;
  SteadyTimer slow(ioc);
  slow.expires_after(std::chrono::hours(1));
  int calls = 0;
  boost::system::error_code got;
  const auto start = Clock::now();
  finishFirst<int>(ioc, start + 30ms, slowOperation(slow), [&](const boost::system::error_code& ec, int) {
    ++calls;
    got = ec;
    slow.cancel();  // the operation ends now too: its late completion must be dropped
  });
  ioc.run_for(10s);  // returns once nothing is pending
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got, asio::error::timed_out);
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 30ms);
  EXPECT_LT(took, 5s) << "the deadline did not end the operation";
}

TEST(FinishFirst, AnOperationThatEndsFirstGivesItsResultAndStopsTheDeadline) {
  asio::io_context ioc;
  SteadyTimer quick(ioc);
  quick.expires_after(0ms);
  int calls = 0;
  int value = 0;
  boost::system::error_code got = asio::error::timed_out;
  const auto start = Clock::now();
  finishFirst<int>(ioc, start + std::chrono::hours(1), slowOperation(quick), [&](const boost::system::error_code& ec, int v) {
    ++calls;
    got = ec;
    value = v;
  });
  ioc.run_for(10s);  // returns at once: the deadline's timer was cancelled, nothing is pending
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(got) << got.message();
  EXPECT_EQ(value, 7);
  EXPECT_LT(Clock::now() - start, 5s) << "the deadline's timer was left waiting";
}

TEST(ResolveUntil, ResolvesALiteralAndANameInTime) {
  asio::io_context ioc;
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    SCOPED_TRACE(host);
    boost::system::error_code got = asio::error::timed_out;
    std::size_t count = 0;
    resolveUntil(ioc, host, "80", Clock::now() + 30s,
                 [&](const boost::system::error_code& ec, const tcp::resolver::results_type& r) {
                   got = ec;
                   count = r.size();
                 });
    ioc.restart();
    ioc.run_for(10s);
    EXPECT_FALSE(got) << got.message();
    EXPECT_GT(count, 0U);
  }
}

TEST(TargetAddresses, IpLiteralsAreKeptAsAddressesAndNamesAreResolvedLater) {
  const TargetAddress v4 = target("http://127.0.0.1:8080");
  ASSERT_TRUE(v4.literal.has_value());
  EXPECT_EQ(v4.literal->address().to_string(), "127.0.0.1");
  EXPECT_EQ(v4.literal->port(), 8080);
  EXPECT_EQ(v4.hostHeader, "127.0.0.1:8080");

  const TargetAddress v6 = target("https://[::1]:8443");
  ASSERT_TRUE(v6.literal.has_value());
  EXPECT_TRUE(v6.literal->address().is_v6());
  EXPECT_EQ(v6.literal->port(), 8443);
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.hostHeader, "[::1]:8443");

  const TargetAddress name = target("http://localhost:9000");
  EXPECT_FALSE(name.literal.has_value());
  EXPECT_EQ(name.host, "localhost");
  EXPECT_EQ(name.port, "9000");
}

// A name times out at its resolve, a literal before its connect: either way no socket is opened.
TEST(ConnectUpstream, PastTheDeadlineANameOrALiteralIsATimeoutAndNoConnectStarts) {
  Listener listener;
  for (const auto& [host, stage] : {std::pair{"localhost", ConnectFailure::Stage::kResolve},
                                    std::pair{"127.0.0.1", ConnectFailure::Stage::kConnect}}) {
    SCOPED_TRACE(host);
    Attempt a;
    a.run(target(std::string("http://") + host + ":" + listener.port()), Clock::now() - 1ms);
    ASSERT_TRUE(a.result.has_value()) << "did not finish";
    ASSERT_TRUE(a.result->has_value()) << "connected although the deadline had passed";
    EXPECT_EQ((*a.result)->stage, stage);
    EXPECT_TRUE((*a.result)->timedOut);
    EXPECT_FALSE(a.conn->lowest().socket().is_open()) << "a socket was opened after the deadline";
  }
}

TEST(ConnectUpstream, ConnectsToANameOrALiteralWithinTheDeadlineAndKeepsTheDeadline) {
  Listener listener;
  for (const std::string host : {"localhost", "127.0.0.1"}) {
    SCOPED_TRACE(host);
    Attempt a;
    a.run(target("http://" + host + ":" + listener.port()), Clock::now() + 30s);
    ASSERT_TRUE(a.result.has_value()) << "did not finish";
    EXPECT_FALSE(a.result->has_value()) << "failed: " << (*a.result)->ec.message();
    TimedSocket& stream = a.conn->lowest();
    EXPECT_TRUE(stream.socket().is_open());
    EXPECT_EQ(stream.socket().remote_endpoint().port(), listener.acceptor.local_endpoint().port());
    EXPECT_FALSE(stream.expired());
    EXPECT_NE(stream.expiry(), Clock::time_point::max()) << "the try's deadline was lost";
  }
}

TEST(ConnectUpstream, ConnectsWithoutAnyDeadline) {
  Listener listener;
  Attempt a;
  a.run(target("http://localhost:" + listener.port()), Clock::time_point::max());
  ASSERT_TRUE(a.result.has_value()) << "did not finish";
  EXPECT_FALSE(a.result->has_value());
}

TEST(ConnectUpstream, AClosedPortIsAConnectFailureNotATimeout) {
  std::string port;
  {
    Listener closed;
    port = closed.port();
  }  // closed again: nothing listens there now
  Attempt a;
  a.run(target("http://127.0.0.1:" + port), Clock::now() + 30s);
  ASSERT_TRUE(a.result.has_value()) << "did not finish";
  ASSERT_TRUE(a.result->has_value());
  EXPECT_EQ((*a.result)->stage, ConnectFailure::Stage::kConnect);
  EXPECT_FALSE((*a.result)->timedOut);
}

}  // namespace
}  // namespace gatelab::proxy
