#include "gateway/proxy/http_fields.hpp"


#include <zlib.h>

#include "gateway/core/http_field.hpp"
#include "gateway/core/request.hpp"

namespace gatelab::proxy {
namespace {

bool isHex(std::string_view s) noexcept {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool allZero(std::string_view s) noexcept { return s.find_first_not_of('0') == std::string_view::npos; }

}  // namespace

bool isHopByHop(std::string_view name) noexcept {
  // Asked for every field of every message: the length picks the one candidate to compare.
  switch (name.size()) {
    case 2: return core::equalsIgnoreCase(name, "te");
    case 7: return core::equalsIgnoreCase(name, "trailer") || core::equalsIgnoreCase(name, "upgrade");
    case 10: return core::equalsIgnoreCase(name, "connection") || core::equalsIgnoreCase(name, "keep-alive");
    case 16: return core::equalsIgnoreCase(name, "proxy-connection");
    case 17: return core::equalsIgnoreCase(name, "transfer-encoding");
    case 18: return core::equalsIgnoreCase(name, "proxy-authenticate");
    case 19: return core::equalsIgnoreCase(name, "proxy-authorization");
    default: return false;
  }
}

bool listedInConnection(std::string_view value, std::string_view name) noexcept {
  return !name.empty() && core::hasListMember(value, name);
}

ConnectionOptions::ConnectionOptions(std::string_view value) noexcept {
  while (!value.empty()) {
    if (count_ == members_.size()) {
      rest_ = value;
      return;
    }
    const std::size_t comma = value.find(',');
    const std::string_view member = core::trimOws(value.substr(0, comma));
    if (!member.empty()) members_[count_++] = member;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

bool ConnectionOptions::lists(std::string_view name) const noexcept {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < count_; ++i) {
    if (core::equalsIgnoreCase(members_[i], name)) return true;
  }
  return !rest_.empty() && listedInConnection(rest_, name);
}

std::optional<TraceParent> parseTraceParent(std::string_view v) {
  v = core::trimOws(v);
  // version "-" trace-id "-" parent-id "-" flags; later versions may append "-..." fields.
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
  const std::string_view version = v.substr(0, 2);
  if (!isHex(version) || version == "ff") return std::nullopt;
  if (version == "00" && v.size() != 55) return std::nullopt;
  if (version != "00" && v.size() > 55 && v[55] != '-') return std::nullopt;
  TraceParent t;
  const std::string_view trace = v.substr(3, 32);
  const std::string_view parent = v.substr(36, 16);
  const std::string_view flags = v.substr(53, 2);
  if (!isHex(trace) || !isHex(parent) || !isHex(flags) || allZero(trace) || allZero(parent)) return std::nullopt;
  t.traceId = std::string(trace);
  t.parentId = std::string(parent);
  const auto nibble = [](char c) { return static_cast<std::uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
  t.flags = static_cast<std::uint8_t>(nibble(flags[0]) << 4 | nibble(flags[1]));
  return t;
}

std::string formatTraceParent(const TraceParent& t) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "00-" + t.traceId + "-" + t.parentId + "-";
  out += kDigits[t.flags >> 4];
  out += kDigits[t.flags & 0xF];
  return out;
}

std::string appendForwardedFor(std::string_view existing, std::string_view peer) {
  existing = core::trimOws(existing);
  if (existing.empty()) return std::string(peer);
  return std::string(existing) + ", " + std::string(peer);
}

bool acceptableRequestId(std::string_view id) noexcept {
  if (id.empty() || id.size() > 200) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

bool acceptsEncoding(std::string_view value, std::string_view coding) noexcept {
  bool star = false;
  bool starQ = false;
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    std::string_view item = core::trimOws(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    const std::size_t semi = item.find(';');
    const std::string_view name = core::trimOws(item.substr(0, semi));
    bool positive = true;
    if (semi != std::string_view::npos) {
      std::string_view params = item.substr(semi + 1);
      const std::size_t q = params.find_first_of("qQ");
      if (q != std::string_view::npos) {
        std::string_view v = core::trimOws(params.substr(q + 1));
        if (!v.empty() && v.front() == '=') v = core::trimOws(v.substr(1));
        // q=0, q=0.0, q=0.000: refused; anything else above zero accepts.
        positive = !(v.size() >= 1 && v.front() == '0' && v.find_first_not_of("0.", 0) == std::string_view::npos);
      }
    }
    if (core::equalsIgnoreCase(name, coding)) return positive;
    if (name == "*") {
      star = true;
      starQ = positive;
    }
  }
  return star && starQ;
}

std::string mediaType(std::string_view contentType) {
  std::string out(core::trimOws(contentType.substr(0, contentType.find(';'))));
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

std::optional<std::string> gzipCompress(std::string_view data, int level) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return std::nullopt;
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const auto produced = static_cast<std::size_t>(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return std::nullopt;
  out.resize(produced);
  return out;
}

struct GzipStream::State {
  z_stream zs{};
};

GzipStream::GzipStream(int level) : state_(std::make_unique<State>()) {
  ok_ = deflateInit2(&state_->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

GzipStream::~GzipStream() {
  if (ok_) deflateEnd(&state_->zs);
}

bool GzipStream::write(std::string_view data, bool last, std::string& out) {
  if (!ok_) return false;
  z_stream& zs = state_->zs;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  const int flush = last ? Z_FINISH : Z_SYNC_FLUSH;
  char chunk[16 * 1024];
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof chunk;
    const int rc = deflate(&zs, flush);
    if (rc == Z_STREAM_ERROR) return false;
    out.append(chunk, sizeof chunk - zs.avail_out);
    if (last ? rc == Z_STREAM_END : (zs.avail_in == 0 && zs.avail_out != 0)) return true;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && !last) return true;  // nothing left to flush
  }
}

void splitTarget(std::string_view target, std::string_view& path, std::string_view& query) noexcept {
  path = {};
  query = {};
  if (target.empty()) return;
  if (target.front() != '/') {
    // absolute form: scheme "://" authority [path-abempty] ["?" query]
    const std::size_t scheme = target.find("://");
    if (scheme == std::string_view::npos) return;
    const std::size_t start = target.find_first_of("/?", scheme + 3);
    if (start == std::string_view::npos) {
      path = "/";
      return;
    }
    target.remove_prefix(start);
    if (target.front() == '?') {
      path = "/";
      query = target.substr(1);
      return;
    }
  }
  const std::size_t q = target.find('?');
  path = target.substr(0, q);
  if (q != std::string_view::npos) query = target.substr(q + 1);
}

bool isJsonMediaType(std::string_view contentType) {
  const std::string type = mediaType(contentType);
  if (type == "application/json") return true;
  return type.size() > 5 && type.compare(type.size() - 5, 5, "+json") == 0 && type.rfind("application/", 0) == 0;
}

}  // namespace gatelab::proxy
