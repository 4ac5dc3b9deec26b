#include "gateway/core/shaping/header_transform.hpp"

#include <algorithm>
#include <array>

#include "gateway/core/request.hpp"

namespace gatelab::core::shaping {

namespace {

constexpr std::array<std::string_view, 8> kProxyOwned = {"Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive",
                                                         "Proxy-Connection", "TE", "Trailer", "Upgrade"};

void checkName(const std::string& name, const std::string& field, SpecErrors& errors) {
  if (!isToken(name)) {
    errors.push_back({field, "a field name must be a non-empty RFC 9110 token, got \"" + name + "\""});
  } else if (isProxyOwnedField(name)) {
    errors.push_back({field, "\"" + name + "\" is a framing or hop-by-hop field the proxy manages; it cannot be edited"});
  }
}

}  // namespace

const char* toString(HeaderOp op) noexcept {
  switch (op) {
    case HeaderOp::kAdd: return "add";
    case HeaderOp::kSet: return "set";
    case HeaderOp::kAppend: return "append";
    case HeaderOp::kRemove: return "remove";
    case HeaderOp::kRename: return "rename";
  }
  return "?";
}

std::optional<HeaderOp> headerOpFromName(std::string_view name) noexcept {
  for (HeaderOp op : {HeaderOp::kAdd, HeaderOp::kSet, HeaderOp::kAppend, HeaderOp::kRemove, HeaderOp::kRename}) {
    if (name == toString(op)) return op;
  }
  return std::nullopt;
}

bool isProxyOwnedField(std::string_view name) noexcept {
  return std::any_of(kProxyOwned.begin(), kProxyOwned.end(), [&](std::string_view n) { return equalsIgnoreCase(n, name); });
}

std::optional<HeaderTransform> HeaderTransform::create(HeaderTransformSpec spec, SpecErrors& errors) {
  const std::size_t before = errors.size();
  if (spec.operations.size() > kMaxHeaderOperations) {
    errors.push_back({"operations", "at most " + std::to_string(kMaxHeaderOperations) + " operations are allowed, got " +
                                        std::to_string(spec.operations.size())});
  }
  HeaderTransform t;
  t.ops_.reserve(spec.operations.size());
  for (std::size_t i = 0; i < spec.operations.size(); ++i) {
    HeaderOpSpec& s = spec.operations[i];
    const std::string field = "operations[" + std::to_string(i) + "]";
    checkName(s.name, field + ".name", errors);
    Op op{s.op, s.name, {}, std::nullopt};
    switch (s.op) {
      case HeaderOp::kAdd:
      case HeaderOp::kSet:
      case HeaderOp::kAppend: {
        TemplateError error;
        op.value = ValueTemplate::compile(s.value, error);
        if (!op.value) {
          errors.push_back({field + ".value", error.message});
        } else if (op.value->usesUuid()) {
          t.usesUuid_ = true;
        }
        break;
      }
      case HeaderOp::kRemove:
        if (!s.value.empty()) errors.push_back({field + ".value", "remove takes no value"});
        break;
      case HeaderOp::kRename:
        checkName(s.value, field + ".value", errors);
        if (equalsIgnoreCase(s.name, s.value)) {
          errors.push_back({field + ".value", "rename to the same name (\"" + s.value + "\") does nothing"});
        }
        op.newName = s.value;
        break;
    }
    t.ops_.push_back(std::move(op));
  }
  if (errors.size() != before) return std::nullopt;
  return t;
}

TransformReport HeaderTransform::apply(HeaderList& fields, const TemplateContext& ctx) const {
  TransformReport report;
  std::string value;
  for (std::size_t i = 0; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    RenderResult rendered;
    if (op.value) {
      rendered = op.value->render(ctx, value);
      if (!rendered.ok()) {
        report.failures.push_back({static_cast<std::uint16_t>(i), rendered.status, rendered.variable});
      }
    }
    switch (op.op) {
      case HeaderOp::kAdd:
        if (rendered.ok() && !value.empty()) fields.push_back({op.name, value});
        break;
      case HeaderOp::kSet: {
        if (!rendered.ok() || value.empty()) {
          removeFields(fields, op.name);
          break;
        }
        const std::optional<std::size_t> first = findField(fields, op.name);
        if (!first) {
          fields.push_back({op.name, value});
          break;
        }
        fields[*first].value = value;
        // Drop the later lines of NAME, keeping the first (now replaced) one in place.
        std::size_t out = *first + 1;
        for (std::size_t k = *first + 1; k < fields.size(); ++k) {
          if (equalsIgnoreCase(fields[k].name, op.name)) continue;
          if (out != k) fields[out] = std::move(fields[k]);
          ++out;
        }
        fields.resize(out);
        break;
      }
      case HeaderOp::kAppend: {
        if (!rendered.ok() || value.empty()) break;
        std::optional<std::size_t> last;
        if (!equalsIgnoreCase(op.name, "Set-Cookie")) {
          for (std::size_t k = fields.size(); k-- > 0;) {
            if (equalsIgnoreCase(fields[k].name, op.name)) {
              last = k;
              break;
            }
          }
        }
        if (!last) {
          fields.push_back({op.name, value});
        } else if (fields[*last].value.empty()) {
          fields[*last].value = value;
        } else {
          fields[*last].value += ", ";
          fields[*last].value += value;
        }
        break;
      }
      case HeaderOp::kRemove:
        removeFields(fields, op.name);
        break;
      case HeaderOp::kRename:
        if (!findField(fields, op.name)) break;
        removeFields(fields, op.newName);
        for (HeaderField& f : fields) {
          if (equalsIgnoreCase(f.name, op.name)) f.name = op.newName;
        }
        break;
    }
  }
  return report;
}

}  // namespace gatelab::core::shaping
