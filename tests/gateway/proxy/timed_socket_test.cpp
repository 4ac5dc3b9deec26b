// TimedSocket::sendNow (gateway/proxy/timed_socket.hpp): the one non-blocking send the proxy tries
// before starting an asynchronous write. On a real loopback connection: bytes that fit go at once,
// a full send buffer gives 0 without an error (the caller then writes the rest asynchronously), and
// a closed socket or a connection the peer reset gives an error. Nothing sleeps.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/socket_base.hpp>

#include <string>

#include "gateway/proxy/timed_socket.hpp"

namespace gatelab::proxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/// A connected loopback pair: `near` is the TimedSocket under test, `far` the peer.
struct Pair {
  asio::io_context ioc;
  TimedSocket near{ioc};
  Socket far{ioc};
  Pair() {
    Acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    near.socket().connect(acceptor.local_endpoint());
    acceptor.accept(far);
  }
};

TEST(TimedSocketSendNow, SendsWhatFitsAtOnce) {
  Pair p;
  boost::system::error_code ec;
  const std::string message = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  EXPECT_EQ(p.near.sendNow(message, ec), message.size());
  EXPECT_FALSE(ec) << ec.message();
  std::string got(message.size(), '\0');
  asio::read(p.far, asio::buffer(got));
  EXPECT_EQ(got, message);
}

TEST(TimedSocketSendNow, AFullSendBufferGivesZeroWithoutAnError) {
  Pair p;
  p.near.socket().set_option(asio::socket_base::send_buffer_size(4096));
  p.far.set_option(asio::socket_base::receive_buffer_size(4096));
  const std::string block(64 * 1024, 'x');
  boost::system::error_code ec;
  std::size_t total = 0;
  std::size_t last = 1;
  // The peer reads nothing: the buffers fill within a few blocks (bounded: 64 MiB).
  for (int i = 0; i < 1024 && last != 0; ++i) {
    last = p.near.sendNow(block, ec);
    ASSERT_FALSE(ec) << ec.message();
    total += last;
  }
  EXPECT_EQ(last, 0u) << "the send buffer never filled";
  EXPECT_GT(total, 0u);
}

TEST(TimedSocketSendNow, AClosedSocketIsAnError) {
  Pair p;
  boost::system::error_code ignored;
  p.near.socket().close(ignored);
  boost::system::error_code ec;
  EXPECT_EQ(p.near.sendNow("x", ec), 0u);
  EXPECT_EQ(ec, asio::error::bad_descriptor);
}

TEST(TimedSocketSendNow, AConnectionResetByThePeerIsAnError) {
  Pair p;
  p.far.set_option(asio::socket_base::linger(true, 0));  // close sends a reset
  boost::system::error_code ignored;
  p.far.close(ignored);
  boost::system::error_code ec;
  // The reset has arrived by the time close() returns on loopback; a send or two see it.
  for (int i = 0; i < 4 && !ec; ++i) (void)p.near.sendNow("x", ec);
  EXPECT_TRUE(ec == asio::error::connection_reset || ec == asio::error::broken_pipe) << ec.message();
}

}  // namespace
}  // namespace gatelab::proxy
