#pragma once
// The gatelab subcommands. Each returns the process exit status: 0 success, 1 the input was
// invalid (or a check failed), 2 usage error.

#include <string>
#include <vector>

namespace gatelab::cli {

struct ValidateOptions {
  std::vector<std::string> files;
  bool quiet = false;  ///< print nothing for valid files
};
int runValidate(const ValidateOptions& options);

struct DemoOptions {
  bool json = false;  ///< machine-readable output instead of the table
};
int runDemo(const DemoOptions& options);

}  // namespace gatelab::cli
