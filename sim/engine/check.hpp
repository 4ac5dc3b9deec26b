#pragma once
// Always-on checks for states the engine believes impossible (time going backwards, an event
// scheduled in the past): they abort with a message in every build type, as a programming error
// must never turn into a silently wrong simulation. Input errors never reach these; they are
// reported as values by the validate functions.

namespace gatelab::sim::detail {

/// Prints "gatelab sim: <what>" to stderr and aborts.
[[noreturn]] void fatal(const char* what) noexcept;

inline void check(bool condition, const char* what) noexcept {
  if (!condition) [[unlikely]]
    fatal(what);
}

}  // namespace gatelab::sim::detail
