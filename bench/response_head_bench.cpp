// Reading an upstream answer's head (issue 5): the proxy's own reader (response_head.hpp) against
// Beast's response parser on the same bytes, and each followed by what the proxy does with the
// result (the fields into a Beast message). The answer is nginx's for `return 200 "ok\n"` (five
// fields), and a larger one of 12 fields as an API gateway's upstreams send.
// Run in Release: scripts/bench.sh (builds build-release/ and runs every *_bench).

#include <benchmark/benchmark.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include <string>

#include "gateway/proxy/response_head.hpp"

namespace {

namespace http = boost::beast::http;
using gatelab::proxy::ResponseHead;

const std::string kNginx =
    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 06:00:00 GMT\r\n"
    "Content-Type: application/octet-stream\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n";
const std::string kApi =
    "HTTP/1.1 200 OK\r\nDate: Mon, 07 Dec 2026 06:00:00 GMT\r\nContent-Type: application/json; charset=utf-8\r\n"
    "Content-Length: 2\r\nConnection: keep-alive\r\nCache-Control: private, max-age=0, no-cache\r\n"
    "ETag: W/\"5e1-3cVb0lqJtqLhZdHMJ3Aw2x0oKvE\"\r\nVary: Accept-Encoding, Origin\r\n"
    "X-Request-Id: 8f14e45fceea167a5a36dedd4bea2543\r\nX-Runtime: 0.012345\r\n"
    "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\nX-Content-Type-Options: nosniff\r\n"
    "Access-Control-Allow-Origin: *\r\n\r\n{}";

const std::string& wire(const benchmark::State& state) { return state.range(0) == 0 ? kNginx : kApi; }

void BM_OwnReader(benchmark::State& state) {
  const std::string& bytes = wire(state);
  ResponseHead head;
  for (auto _ : state) {
    benchmark::DoNotOptimize(gatelab::proxy::parseResponseHead(bytes, false, gatelab::proxy::kUpstreamHeadLimit, head));
    benchmark::DoNotOptimize(head.size);
  }
}
BENCHMARK(BM_OwnReader)->Arg(0)->Arg(1);

void BM_OwnReaderIntoMessage(benchmark::State& state) {
  const std::string& bytes = wire(state);
  ResponseHead head;
  for (auto _ : state) {
    (void)gatelab::proxy::parseResponseHead(bytes, false, gatelab::proxy::kUpstreamHeadLimit, head);
    http::response<http::string_body> m;
    m.version(head.version);
    m.result(head.status);
    for (std::size_t i = 0; i < head.fieldCount; ++i) m.insert(head.fields[i].name, head.fields[i].value);
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_OwnReaderIntoMessage)->Arg(0)->Arg(1);

void BM_BeastParser(benchmark::State& state) {
  const std::string& bytes = wire(state);
  for (auto _ : state) {
    http::response_parser<http::string_body> parser;
    boost::beast::error_code ec;
    benchmark::DoNotOptimize(parser.put(boost::asio::buffer(bytes), ec));
    benchmark::DoNotOptimize(parser.get());
  }
}
BENCHMARK(BM_BeastParser)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
