// TLS in the live proxy, on loopback with certificates made by the test (tests/support/test_certs):
// termination with the right certificate per SNI name, TLS 1.2/1.3 only, X-Forwarded-Proto https,
// the plain listener's redirect to https, certificates re-read on reload (and a reload with a bad
// certificate refused), a bad certificate refusing the start, and TLS to https:// upstreams with
// verification of the chain and the name, WebSocket tunnels included.

#include <gtest/gtest.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <string>
#include <thread>

#include "tests/gateway/proxy/proxy_test_support.hpp"
#include "tests/support/test_certs.hpp"

namespace gatelab::proxy {
namespace {

using namespace testing;
using TestCerts = gatelab::testing::TestCerts;
namespace ssl = asio::ssl;

/// One HTTPS exchange with the proxy: what came back, and the certificate's common name.
struct TlsResult {
  bool handshake = false;
  std::string error;
  std::string commonName;
  Response response;
};

TlsResult httpsGet(std::uint16_t port, const std::string& caFile, const std::string& sni, const std::string& target,
                   int maxVersion = 0) {
  TlsResult out;
  asio::io_context ioc;
  ssl::context ctx(ssl::context::tls_client);
  ctx.load_verify_file(caFile);
  ctx.set_verify_mode(ssl::verify_peer);
  if (maxVersion != 0) {
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx.native_handle(), maxVersion);
    SSL_CTX_set_security_level(ctx.native_handle(), 0);  // let the client offer old versions
  }
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  if (!sni.empty())  // SSL_set_tlsext_host_name without the macro's C cast
    SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(sni.c_str()));
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
  beast::error_code ec;
  beast::get_lowest_layer(stream).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) {
    out.error = ec.message();
    return out;
  }
  stream.handshake(ssl::stream_base::client, ec);
  if (ec) {
    out.error = ec.message();
    return out;
  }
  out.handshake = true;
  if (X509* peer = SSL_get1_peer_certificate(stream.native_handle())) {
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
    out.commonName = cn;
    X509_free(peer);
  }
  Request req{http::verb::get, target, 11};
  req.set(http::field::host, sni.empty() ? "gateway.test" : sni);
  http::write(stream, req, ec);
  if (ec) {
    out.error = ec.message();
    return out;
  }
  beast::flat_buffer buffer;
  http::read(stream, buffer, out.response, ec);
  if (ec) out.error = ec.message();
  return out;
}

std::string tlsConfig(const std::string& upstream, const std::string& tls, const std::string& extraTop = "") {
  return "version: 1\n" + extraTop + "tls:\n" + tls + "services:\n  - name: app\n    targets: [" + upstream +
         "]\nroutes:\n  - name: all\n    match: { path_prefix: / }\n    service: app\n";
}

TEST(ProxyTls, TerminatesTlsWithTheCertificateTheClientAskedFor) {
  TestCerts certs;
  const auto a = certs.issue("a", {"DNS:a.test"});
  const auto b = certs.issue("b", {"DNS:b.test", "DNS:*.b.test"});
  std::atomic<int> httpsSeen{0};
  TestUpstream up([&](const Request& r) {
    if (r["X-Forwarded-Proto"] == "https") ++httpsSeen;
    return Reply::ok("hello over tls");
  });
  TestProxy proxy(tlsConfig(up.url(), "  listen: 127.0.0.1:0\n  certificates:\n    - { cert: " + a.cert + ", key: " + a.key +
                                          " }\n    - { cert: " + b.cert + ", key: " + b.key + " }\n"));
  ASSERT_NE(proxy.server->tlsPort(), 0);

  TlsResult r = httpsGet(proxy.server->tlsPort(), certs.caFile(), "a.test", "/x");
  ASSERT_TRUE(r.handshake) << r.error;
  EXPECT_EQ(r.commonName, "a.test");
  EXPECT_EQ(r.response.result_int(), 200);
  EXPECT_EQ(r.response.body(), "hello over tls");

  r = httpsGet(proxy.server->tlsPort(), certs.caFile(), "b.test", "/x");
  ASSERT_TRUE(r.handshake) << r.error;
  EXPECT_EQ(r.commonName, "b.test");
  r = httpsGet(proxy.server->tlsPort(), certs.caFile(), "api.b.test", "/x");  // the wildcard name
  ASSERT_TRUE(r.handshake) << r.error;
  EXPECT_EQ(r.commonName, "b.test");
  // An unknown name gets the first certificate (and fails the client's own name check; here the
  // client checks the chain only).
  r = httpsGet(proxy.server->tlsPort(), certs.caFile(), "", "/x");
  ASSERT_TRUE(r.handshake) << r.error;
  EXPECT_EQ(r.commonName, "a.test");
  EXPECT_EQ(httpsSeen.load(), 4);

  // The plain listener still serves plain HTTP (no redirect configured).
  TestClient plain(proxy.port());
  EXPECT_EQ(plain.get("/x").result_int(), 200);
  EXPECT_EQ(httpsSeen.load(), 4);
}

TEST(ProxyTls, OnlyTls12AndNewerAreOfferedAndFailuresAreCounted) {
  TestCerts certs;
  const auto a = certs.issue("a", {"DNS:a.test"});
  TestUpstream up;
  TestProxy proxy(
      tlsConfig(up.url(), "  listen: 127.0.0.1:0\n  certificates: [{ cert: " + a.cert + ", key: " + a.key + " }]\n"));
  EXPECT_FALSE(httpsGet(proxy.server->tlsPort(), certs.caFile(), "a.test", "/", TLS1_1_VERSION).handshake);
  EXPECT_TRUE(httpsGet(proxy.server->tlsPort(), certs.caFile(), "a.test", "/", TLS1_2_VERSION).handshake);

  TestProxy strict(tlsConfig(up.url(), "  listen: 127.0.0.1:0\n  min_version: '1.3'\n  certificates: [{ cert: " + a.cert +
                                           ", key: " + a.key + " }]\n"));
  EXPECT_FALSE(httpsGet(strict.server->tlsPort(), certs.caFile(), "a.test", "/", TLS1_2_VERSION).handshake);
  EXPECT_TRUE(httpsGet(strict.server->tlsPort(), certs.caFile(), "a.test", "/").handshake);
  // A client that speaks no TLS at all.
  TestClient garbage(strict.server->tlsPort());
  (void)garbage.raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string m = strict.server->metricsText();
  EXPECT_NE(m.find("gatelab_tls_handshake_failures_total 2\n"), std::string::npos) << m;
}

TEST(ProxyTls, ThePlainListenerRedirectsToHttpsWhenAsked) {
  TestCerts certs;
  const auto a = certs.issue("a", {"DNS:a.test"});
  TestUpstream up;
  TestProxy proxy(tlsConfig(up.url(), "  listen: 127.0.0.1:0\n  redirect_http: true\n  certificates: [{ cert: " +
                                          a.cert + ", key: " + a.key + " }]\n"));
  TestClient plain(proxy.port());
  const Response r = plain.get("/orders/7?expand=items", {{"Host", "a.test:8080"}});
  EXPECT_EQ(r.result_int(), 308);
  EXPECT_EQ(r[http::field::location],
            "https://a.test:" + std::to_string(proxy.server->tlsPort()) + "/orders/7?expand=items");
  EXPECT_TRUE(up.received().empty());
  EXPECT_EQ(httpsGet(proxy.server->tlsPort(), certs.caFile(), "a.test", "/orders/7").response.result_int(), 200);
}

TEST(ProxyTls, AReloadReadsTheCertificatesAgainAndABadOneIsRefused) {
  TestCerts certs;
  const auto first = certs.issue("first", {"DNS:first.test"});
  const auto second = certs.issue("second", {"DNS:second.test"});
  TestUpstream up;
  const auto yamlFor = [&](const TestCerts::Files& f) {
    return tlsConfig(up.url(), "  listen: 127.0.0.1:0\n  certificates: [{ cert: " + f.cert + ", key: " + f.key + " }]\n");
  };
  TestProxy proxy(yamlFor(first));
  EXPECT_EQ(httpsGet(proxy.server->tlsPort(), certs.caFile(), "", "/").commonName, "first.test");

  const auto next = config::loadConfigString(yamlFor(second), "reload.yaml");
  ASSERT_TRUE(next.ok()) << next.errorText();
  const Server::ReloadResult ok = proxy.server->reload(next.config);
  EXPECT_TRUE(ok.ok) << ok.message;
  EXPECT_EQ(httpsGet(proxy.server->tlsPort(), certs.caFile(), "", "/").commonName, "second.test");

  // The key of another certificate: refused with the reason; the running certificate stays.
  const auto broken = config::loadConfigString(
      tlsConfig(up.url(), "  listen: 127.0.0.1:0\n  certificates: [{ cert: " + first.cert + ", key: " + second.key + " }]\n"),
      "broken.yaml");
  ASSERT_TRUE(broken.ok());
  const Server::ReloadResult refused = proxy.server->reload(broken.config);
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.message.find("does not belong to the certificate"), std::string::npos) << refused.message;
  EXPECT_EQ(httpsGet(proxy.server->tlsPort(), certs.caFile(), "", "/").commonName, "second.test");
}

TEST(ProxyTls, AMissingCertificateRefusesTheStartWithThePath) {
  TestUpstream up;
  try {
    TestProxy proxy(tlsConfig(up.url(), "  listen: 127.0.0.1:0\n  certificates: [{ cert: /nonexistent/x.pem, key: /nonexistent/x.key }]\n"));
    FAIL() << "started without its certificate";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("tls.certificates[0].cert: cannot read /nonexistent/x.pem"), std::string::npos)
        << e.what();
  }
}

/// An HTTPS upstream on loopback answering every request with 200 "secure upstream".
class TlsUpstream {
 public:
  explicit TlsUpstream(const TestCerts::Files& files)
      : ctx_(ssl::context::tls_server), acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    ctx_.use_certificate_chain_file(files.cert);
    ctx_.use_private_key_file(files.key, ssl::context::pem);
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] {
      while (!stopping_) {
        tcp::socket socket(ioc_);
        beast::error_code ec;
        acceptor_.accept(socket, ec);
        if (ec || stopping_) return;
        beast::ssl_stream<tcp::socket> stream(std::move(socket), ctx_);
        stream.handshake(ssl::stream_base::server, ec);
        if (ec) continue;  // the proxy refused our certificate
        beast::flat_buffer buffer;
        Request req;
        while (true) {
          http::read(stream, buffer, req, ec);
          if (ec) break;
          ++served_;
          Response res{http::status::ok, 11};
          res.body() = "secure upstream";
          res.prepare_payload();
          http::write(stream, res, ec);
          if (ec) break;
          req = {};
        }
      }
    });
  }
  ~TlsUpstream() {
    stopping_ = true;
    wakeAcceptor(acceptor_);
    thread_.join();
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] int served() const { return served_.load(); }

 private:
  asio::io_context ioc_;
  ssl::context ctx_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> served_{0};
  std::thread thread_;
};

std::string upstreamTlsConfig(std::uint16_t port, const std::string& tls) {
  return "version: 1\nservices:\n  - name: secure\n    targets: ['https://127.0.0.1:" + std::to_string(port) +
         "']\n    timeouts: { per_try: 5s }\n" + (tls.empty() ? "" : "    tls: " + tls + "\n") +
         "routes:\n  - name: all\n    match: { path_prefix: / }\n    service: secure\n";
}

TEST(ProxyTls, HttpsTargetsAreReachedOverVerifiedTls) {
  TestCerts certs;
  const auto server = certs.issue("upstream", {"DNS:upstream.test"});
  TlsUpstream up(server);
  {
    TestProxy proxy(upstreamTlsConfig(up.port(), "{ ca_file: " + certs.caFile() + ", server_name: upstream.test }"));
    TestClient client(proxy.port());
    const Response r = client.get("/a");
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_EQ(r.body(), "secure upstream");
    EXPECT_EQ(client.get("/b").result_int(), 200);  // over the pooled TLS connection
  }
  const int servedVerified = up.served();
  EXPECT_EQ(servedVerified, 2);
  {
    // The certificate names upstream.test, not 127.0.0.1: verification fails, the try is a 502.
    TestProxy proxy(upstreamTlsConfig(up.port(), "{ ca_file: " + certs.caFile() + " }"));
    TestClient client(proxy.port());
    EXPECT_EQ(client.get("/a").result_int(), 502);
  }
  {
    // Verification off: any certificate is accepted (for test setups; documented as unsafe).
    TestProxy proxy(upstreamTlsConfig(up.port(), "{ verify: false }"));
    TestClient client(proxy.port());
    EXPECT_EQ(client.get("/a").result_int(), 200);
  }
  {
    // The system's store does not know the test CA.
    TestProxy proxy(upstreamTlsConfig(up.port(), ""));
    TestClient client(proxy.port());
    EXPECT_EQ(client.get("/a").result_int(), 502);
  }
  EXPECT_EQ(up.served(), servedVerified + 1);
}

/// A WebSocket echo server over TLS (wss) on loopback, one connection at a time.
class TlsEchoWebSocket {
 public:
  explicit TlsEchoWebSocket(const TestCerts::Files& files)
      : ctx_(ssl::context::tls_server), acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    ctx_.use_certificate_chain_file(files.cert);
    ctx_.use_private_key_file(files.key, ssl::context::pem);
    thread_ = std::thread([this] {
      while (!stopping_) {
        tcp::socket socket(ioc_);
        beast::error_code ec;
        acceptor_.accept(socket, ec);
        if (ec || stopping_) return;
        beast::websocket::stream<beast::ssl_stream<tcp::socket>> ws(std::move(socket), ctx_);
        ws.next_layer().handshake(ssl::stream_base::server, ec);
        if (ec) continue;
        ws.accept(ec);
        if (ec) continue;
        ++handshakes_;
        while (true) {
          beast::flat_buffer b;
          ws.read(b, ec);
          if (ec) break;
          ws.text(ws.got_text());
          ws.write(b.data(), ec);
          if (ec) break;
        }
      }
    });
  }
  ~TlsEchoWebSocket() {
    stopping_ = true;
    wakeAcceptor(acceptor_);
    thread_.join();
  }
  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  [[nodiscard]] int handshakes() const { return handshakes_.load(); }

 private:
  asio::io_context ioc_;
  ssl::context ctx_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> handshakes_{0};
  std::thread thread_;
};

// A WebSocket upgrade to an https:// target goes over verified TLS, then frames flow both ways
// through the TLS tunnel.
TEST(ProxyTls, WebSocketUpgradesReachHttpsTargetsOverTls) {
  TestCerts certs;
  const auto server = certs.issue("upstream", {"DNS:upstream.test"});
  TlsEchoWebSocket echo(server);
  TestProxy proxy(upstreamTlsConfig(echo.port(), "{ ca_file: " + certs.caFile() + ", server_name: upstream.test }"));
  asio::io_context ioc;
  beast::websocket::stream<tcp::socket> ws(ioc);
  ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), proxy.port()));
  timeval tv{10, 0};  // a test that goes wrong fails instead of hanging
  ::setsockopt(ws.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  beast::websocket::response_type handshake;
  ws.handshake(handshake, "gateway.test", "/chat");
  EXPECT_EQ(handshake.result_int(), 101);
  for (const std::string& msg : std::vector<std::string>{"hello", std::string(70'000, 's'), "bye"}) {
    ws.write(asio::buffer(msg));
    beast::flat_buffer b;
    ws.read(b);
    EXPECT_EQ(beast::buffers_to_string(b.data()), msg);
  }
  ws.close(beast::websocket::close_code::normal);
  EXPECT_EQ(echo.handshakes(), 1);
}

}  // namespace
}  // namespace gatelab::proxy
