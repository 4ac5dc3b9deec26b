#include "sim/trace/log_format.hpp"

#include <array>
#include <utility>

namespace gatelab::sim::trace {
namespace {

bool isNameChar(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

struct Known {
  std::string_view name;
  LogVariable variable;
};

constexpr std::array<Known, 22> kKnown{{
    {"remote_addr", LogVariable::kRemoteAddr},
    {"remote_user", LogVariable::kRemoteUser},
    {"time_local", LogVariable::kTimeLocal},
    {"time_iso8601", LogVariable::kTimeIso8601},
    {"msec", LogVariable::kMsec},
    {"time", LogVariable::kTime},
    {"request", LogVariable::kRequest},
    {"request_method", LogVariable::kRequestMethod},
    {"request_uri", LogVariable::kRequestUri},
    {"uri", LogVariable::kUri},
    {"document_uri", LogVariable::kUri},
    {"args", LogVariable::kArgs},
    {"query_string", LogVariable::kArgs},
    {"server_protocol", LogVariable::kServerProtocol},
    {"status", LogVariable::kStatus},
    {"body_bytes_sent", LogVariable::kBodyBytesSent},
    {"bytes_sent", LogVariable::kBytesSent},
    {"host", LogVariable::kHost},
    {"http_host", LogVariable::kHost},
    {"http_referer", LogVariable::kHttpReferer},
    {"http_user_agent", LogVariable::kHttpUserAgent},
    {"request_time", LogVariable::kRequestTime},
}};

void classify(LogFormatItem& item) {
  for (const Known& k : kKnown) {
    if (k.name == item.name) {
      item.variable = k.variable;
      return;
    }
  }
  const std::string_view n = item.name;
  if (n.starts_with("http_") && n.size() > 5) {
    item.variable = LogVariable::kHeader;
    for (const char c : n.substr(5)) item.header.push_back(c == '_' ? '-' : c);
  } else {
    item.variable = LogVariable::kOther;
  }
}

}  // namespace

std::optional<LogFormatPieces> splitLogFormat(std::string_view text, std::string* error) {
  LogFormatPieces out;
  std::string* literal = &out.prefix;  // where literal text currently goes
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] != '$') {
      literal->push_back(text[i++]);
      continue;
    }
    std::string name;
    if (i + 1 < text.size() && text[i + 1] == '{') {
      const std::size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) {
        if (error != nullptr) *error = "unclosed ${ at offset " + std::to_string(i);
        return std::nullopt;
      }
      name = std::string(text.substr(i + 2, close - i - 2));
      for (const char c : name) {
        if (!isNameChar(c)) {
          if (error != nullptr) *error = "bad variable name ${" + name + "}";
          return std::nullopt;
        }
      }
      i = close + 1;
    } else {
      std::size_t j = i + 1;
      while (j < text.size() && isNameChar(text[j])) ++j;
      name = std::string(text.substr(i + 1, j - i - 1));
      i = j;
    }
    if (name.empty()) {  // a '$' that starts no name is literal text
      literal->push_back('$');
      continue;
    }
    LogFormatItem item;
    item.name = std::move(name);
    classify(item);
    out.items.push_back(std::move(item));
    literal = &out.items.back().after;
  }
  return out;
}

}  // namespace gatelab::sim::trace
