#include "gateway/core/request.hpp"

namespace gatelab::core {

namespace {
constexpr char lowerAscii(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  }
  return true;
}

std::optional<std::string_view> RequestView::header(std::string_view name) const noexcept {
  for (const Header& h : headers) {
    if (equalsIgnoreCase(h.name, name)) return h.value;
  }
  return std::nullopt;
}

std::optional<std::string_view> RequestView::claim(std::string_view name) const noexcept {
  for (const Header& c : claims) {
    if (c.name == name) return c.value;
  }
  return std::nullopt;
}

}  // namespace gatelab::core
