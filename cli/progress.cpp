#include "cli/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace gatelab::cli {

ProgressLine::ProgressLine(bool enabled) : enabled_(enabled && ::isatty(STDERR_FILENO) == 1) {}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::start(std::string label) {
  finish();
  label_ = std::move(label);
  started_ = std::chrono::steady_clock::now();
}

void ProgressLine::update(std::uint64_t records, double simulatedSeconds, double fraction) {
  if (!enabled_) return;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  if (wall < 1.0) return;
  constexpr int kWidth = 24;
  char bar[kWidth + 4] = "";
  if (fraction >= 0) {
    const int filled = static_cast<int>((fraction > 1 ? 1 : fraction) * kWidth + 0.5);
    bar[0] = '[';
    for (int i = 0; i < kWidth; ++i) bar[i + 1] = i < filled ? '#' : '.';
    bar[kWidth + 1] = ']';
    bar[kWidth + 2] = ' ';
    bar[kWidth + 3] = '\0';
  }
  const double rate = wall > 0 ? static_cast<double>(records) / wall : 0.0;
  std::fprintf(stderr, "\r\033[K%s %s%llu requests, %.0fs simulated, %.2fM req/s", label_.c_str(), bar,
               static_cast<unsigned long long>(records), simulatedSeconds, rate / 1e6);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressLine::finish() {
  if (drawn_) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    drawn_ = false;
  }
}

}  // namespace gatelab::cli
