#include "gateway/core/http_field.hpp"

#include <algorithm>
#include <cstdio>

#include "gateway/core/request.hpp"

namespace gatelab::core {

bool isToken(std::string_view s) noexcept {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return isTchar(static_cast<unsigned char>(c)); });
}

std::optional<std::size_t> findUnsafeFieldByte(std::string_view value) noexcept {
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7F) return i;
  }
  return std::nullopt;
}

std::string describeUnsafeByte(char c) {
  switch (c) {
    case '\r': return "CR";
    case '\n': return "LF";
    case '\0': return "NUL";
    default: {
      char buf[24];
      std::snprintf(buf, sizeof buf, "control byte 0x%02X", static_cast<unsigned>(static_cast<unsigned char>(c)));
      return buf;
    }
  }
}

std::optional<std::size_t> findField(const HeaderList& fields, std::string_view name) noexcept {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (equalsIgnoreCase(fields[i].name, name)) return i;
  }
  return std::nullopt;
}

std::size_t countFields(const HeaderList& fields, std::string_view name) noexcept {
  return static_cast<std::size_t>(std::count_if(fields.begin(), fields.end(),
                                                [&](const HeaderField& f) { return equalsIgnoreCase(f.name, name); }));
}

std::size_t removeFields(HeaderList& fields, std::string_view name) {
  const auto end = std::remove_if(fields.begin(), fields.end(),
                                  [&](const HeaderField& f) { return equalsIgnoreCase(f.name, name); });
  const auto removed = static_cast<std::size_t>(fields.end() - end);
  fields.erase(end, fields.end());
  return removed;
}

bool hasListMember(std::string_view value, std::string_view member) noexcept {
  while (true) {
    const std::size_t comma = value.find(',');
    if (equalsIgnoreCase(trimOws(value.substr(0, comma)), member)) return true;
    if (comma == std::string_view::npos) return false;
    value.remove_prefix(comma + 1);
  }
}

}  // namespace gatelab::core
