// Fuzz target: the proxy's own reader of upstream answer heads (gateway/proxy/response_head.hpp)
// against Beast's parser, which reads every other shape. For any bytes, as the answer to a GET and
// to a HEAD: when the reader says kParsed, Beast must accept the same head with the same version,
// status, reason, fields (names, trimmed values, in the order Beast keeps them), length, keep-alive, Retry-After and head
// size; when it says kIncomplete, Beast must not have a complete head either. So the fast path
// never accepts what Beast would refuse, nor reads an answer differently.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "gateway/proxy/response_head.hpp"

namespace {

namespace http = boost::beast::http;
using gatelab::proxy::HeadParse;
using gatelab::proxy::ResponseHead;

[[noreturn]] void fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "fuzz_response_head: %s for input of %zu bytes: %.*s\n", what, input.size(),
               static_cast<int>(input.size() < 400 ? input.size() : 400), input.data());
  std::abort();
}

void check(std::string_view input, bool bodyless) {
  ResponseHead head;
  const HeadParse fast = gatelab::proxy::parseResponseHead(input, bodyless, gatelab::proxy::kUpstreamHeadLimit, head);
  http::response_parser<http::string_body> beast;
  beast.body_limit(boost::none);
  beast.header_limit(static_cast<std::uint32_t>(gatelab::proxy::kUpstreamHeadLimit));
  if (bodyless) beast.skip(true);
  boost::beast::error_code ec;
  const std::size_t used = beast.put(boost::asio::buffer(input.data(), input.size()), ec);
  if (fast == HeadParse::kIncomplete && beast.is_header_done()) fail("incomplete, Beast has the head", input);
  if (fast != HeadParse::kParsed) return;
  if (ec && ec != http::error::need_more) fail("parsed, Beast refuses it", input);
  if (!beast.is_header_done()) fail("parsed, Beast has no head", input);
  if (used != head.size) fail("head sizes differ", input);
  // Each field's line: inside the head, its name first, CRLF last.
  for (std::size_t i = 0; i < head.fieldCount; ++i) {
    const ResponseHead::Field& f = head.fields[i];
    if (f.line.data() < input.data() || f.line.data() + f.line.size() > input.data() + head.size)
      fail("a field line outside the head", input);
    if (!f.line.starts_with(f.name) || !f.line.ends_with("\r\n") || f.line[f.name.size()] != ':')
      fail("a field line that is not the field's", input);
  }
  const auto& m = beast.get();
  if (static_cast<unsigned>(m.version()) != head.version) fail("versions differ", input);
  if (m.result_int() != head.status) fail("statuses differ", input);
  std::string_view reason = head.reason;
  if (reason.empty()) reason = http::obsolete_reason(static_cast<http::status>(head.status));
  if (std::string_view(m.reason()) != reason) fail("reasons differ", input);
  // The fields as the proxy stores them (inserted in order; Beast keeps same-name fields together)
  // against Beast's own.
  http::fields inserted;
  for (std::size_t i = 0; i < head.fieldCount; ++i) inserted.insert(head.fields[i].name, head.fields[i].value);
  auto a = m.begin();
  auto b = inserted.begin();
  for (; a != m.end() && b != inserted.end(); ++a, ++b) {
    if (a->name_string() != b->name_string() || a->value() != b->value() || a->name() != b->name())
      fail("fields differ", input);
  }
  if (a != m.end() || b != inserted.end()) fail("field counts differ", input);
  if (m.keep_alive() != head.keepAlive) fail("keep-alive differs", input);
  const bool noBody = bodyless || head.status == 204 || head.status == 304;
  if (!noBody && beast.content_length() != boost::optional<std::uint64_t>(head.contentLength.value_or(~0ull)))
    fail("lengths differ", input);
  const auto ra = m.find(http::field::retry_after);
  std::optional<std::chrono::seconds> expected;
  if (ra != m.end()) expected = gatelab::proxy::delaySeconds(std::string_view(ra->value()));
  if (expected != head.retryAfter) fail("Retry-After differs", input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check(input, false);
  check(input, true);
  return 0;
}
