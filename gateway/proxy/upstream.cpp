#include "gateway/proxy/upstream.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/stream.hpp>

namespace gatelab::proxy::upstream {

/// TLS to an upstream after the TCP connect: SNI (not for IP literals), then the name check when
/// verifying. Returns the handshake's error.
Task<beast::error_code> handshake(beast::ssl_stream<TimedSocket>& stream, const std::string& serverName,
                                             bool verify) {
  beast::error_code addrEc;
  (void)asio::ip::make_address(serverName, addrEc);
  SSL* ssl = stream.native_handle();
  if (addrEc && !serverName.empty())  // SSL_set_tlsext_host_name, without the macro's C cast
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(serverName.c_str()));
  if (verify) {
    if (!addrEc) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName.c_str());
    } else {
      SSL_set1_host(ssl, serverName.c_str());
    }
  }
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, kAwait);
  co_return ec;
}

void appendFramed(std::string& out, std::string_view data, Framing framing) {
  if (framing != Framing::kChunked) {
    out += data;
    return;
  }
  if (data.empty()) return;
  char size[20];
  int len = 0;
  for (std::size_t n = data.size(); n != 0; n >>= 4) size[len++] = "0123456789abcdef"[n & 0xF];
  while (len > 0) out += size[--len];
  out += "\r\n";
  out += data;
  out += "\r\n";
}

std::string_view bodyEnd(Framing framing) noexcept { return framing == Framing::kChunked ? "0\r\n\r\n" : ""; }

Task<std::pair<beast::error_code, std::size_t>> PendingBody::readSome(char* data, std::size_t capacity) {
  if (conn->tls) co_return co_await readBodySome(*conn->tls, buffer, parser, data, capacity);
  co_return co_await readBodySome(*conn->plain, buffer, parser, data, capacity);
}

}  // namespace gatelab::proxy::upstream
