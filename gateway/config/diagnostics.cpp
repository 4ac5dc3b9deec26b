#include "gateway/config/diagnostics.hpp"

namespace gatelab::config {

std::string formatDiagnostic(const Diagnostic& d) {
  std::string out = d.file;
  if (d.line > 0) {
    out += ':' + std::to_string(d.line);
    if (d.column > 0) out += ':' + std::to_string(d.column);
  }
  out += ": ";
  if (!d.path.empty()) out += d.path + ": ";
  out += d.message;
  if (!d.allowed.empty()) out += "; allowed: " + d.allowed;
  return out;
}

std::string formatDiagnostics(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics) {
    out += formatDiagnostic(d);
    out += '\n';
  }
  return out;
}

}  // namespace gatelab::config
