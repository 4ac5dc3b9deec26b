#include "gateway/config/detail/policy_support.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "gateway/config/detail/text_checks.hpp"

namespace gatelab::config::detail {

SpecFieldMap::SpecFieldMap(Node fallback, std::string allowed)
    : fallback_(std::move(fallback)), fallbackAllowed_(std::move(allowed)) {}

void SpecFieldMap::add(std::string field, const Node& node, std::string allowed) {
  entries_.push_back(Entry{std::move(field), node, std::move(allowed)});
}

void SpecFieldMap::renameInMessages(std::string from, std::string to) {
  renames_.emplace_back(std::move(from), std::move(to));
}

const SpecFieldMap::Entry* SpecFieldMap::find(std::string_view field) const noexcept {
  for (const Entry& e : entries_) {
    if (e.field == field) return &e;
  }
  return nullptr;
}

void SpecFieldMap::report(Sink& sink, const core::SpecErrors& errors) const {
  for (const core::SpecError& error : errors) {
    // The nearest recorded field: drop a trailing "[i]" or ".name" until one matches.
    std::string_view field = error.field;
    const Entry* entry = find(field);
    while (entry == nullptr && !field.empty()) {
      const std::size_t cut = field.back() == ']' ? field.rfind('[') : field.find_last_of(".[");
      field = field.substr(0, cut == std::string_view::npos ? 0 : cut);
      entry = find(field);
    }
    std::string message = error.message;
    for (const auto& [from, to] : renames_) {
      for (std::size_t at = message.find(from); at != std::string::npos; at = message.find(from, at + to.size())) {
        message.replace(at, from.size(), to);
      }
    }
    const Node& node = entry != nullptr ? entry->node : fallback_;
    sink.error(node.mark, node.path, std::move(message), entry != nullptr ? entry->allowed : fallbackAllowed_);
  }
}

std::optional<std::vector<StringItem>> readStringList(Sink& sink, const Node& node, std::string_view what,
                                                      std::string_view allowed, bool allowEmpty, const ItemCheck& check,
                                                      bool ignoreCase) {
  auto items = readList(sink, node, allowed, allowEmpty);
  if (!items) return std::nullopt;
  std::vector<StringItem> out;
  for (const Node& item : *items) {
    auto text = readString(sink, item, allowed);
    if (!text) continue;
    if (check) {
      if (std::string reason = check(*text); !reason.empty()) {
        sink.error(item.mark, item.path, reason, std::string(allowed));
        continue;
      }
    }
    const std::string key = ignoreCase ? toLowerAscii(*text) : *text;
    bool duplicate = false;
    for (const StringItem& prev : out) {
      if ((ignoreCase ? toLowerAscii(prev.value) : prev.value) != key) continue;
      sink.error(item.mark, item.path,
                 "duplicate " + std::string(what) + " " + inQuotes(*text) + "; first at " + at(prev.node.mark),
                 "each " + std::string(what) + " once");
      duplicate = true;
      break;
    }
    if (!duplicate) out.push_back(StringItem{std::move(*text), item});
  }
  return out;
}

std::vector<std::string> valuesOf(const std::vector<StringItem>& items) {
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const StringItem& i : items) out.push_back(i.value);
  return out;
}

FileText readConfigFile(const std::string& path, std::size_t maxBytes) {
  FileText out;
  try {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (status.type() == std::filesystem::file_type::not_found) {
      out.error = "no such file";
      return out;
    }
    if (ec) {
      out.error = ec.message();
      return out;
    }
    if (std::filesystem::is_directory(status)) {
      out.error = "it is a directory";
      return out;
    }
    if (!std::filesystem::is_regular_file(status)) {
      out.error = "not a regular file";
      return out;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      out.error = std::strerror(errno);
      return out;
    }
    std::string text;
    std::array<char, 16 * 1024> buffer{};
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      text.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
      if (text.size() > maxBytes) {
        out.error = "larger than the limit of " + std::to_string(maxBytes) + " bytes";
        return out;
      }
    }
    if (in.bad()) {
      out.error = "read error";
      return out;
    }
    out.text = std::move(text);
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

std::string checkFieldName(const std::string& name) {
  if (isToken(name)) return {};
  return "invalid header name " + inQuotes(name);
}

void addItems(SpecFieldMap& fields, const std::string& field, const Node& list, const std::vector<StringItem>& items,
              std::string_view allowed) {
  fields.add(field, list, std::string(allowed));
  for (std::size_t i = 0; i < items.size(); ++i) {
    fields.add(field + "[" + std::to_string(i) + "]", items[i].node, std::string(allowed));
  }
}

std::optional<std::string> readRealm(Sink& sink, const Node& node) {
  constexpr std::string_view kRealmAllowed = "1-128 printable ASCII characters without '\"' and '\\'";
  auto text = readString(sink, node, kRealmAllowed);
  if (!text) return std::nullopt;
  const bool ok = !text->empty() && text->size() <= 128 && std::all_of(text->begin(), text->end(), [](char c) {
                    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
                  });
  if (!ok) {
    sink.error(node.mark, node.path, "invalid realm " + inQuotes(*text), std::string(kRealmAllowed));
    return std::nullopt;
  }
  return text;
}

}  // namespace gatelab::config::detail
