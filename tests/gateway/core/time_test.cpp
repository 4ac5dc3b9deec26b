// Core value types: durations print exactly, rates print in their natural unit.
#include <gtest/gtest.h>

#include "gateway/core/rate.hpp"
#include "gateway/core/time.hpp"

namespace gatelab::core {
namespace {

using namespace std::chrono_literals;

TEST(FormatDuration, ShortestExactSpelling) {
  EXPECT_EQ(formatDuration(0ns), "0s");
  EXPECT_EQ(formatDuration(250ms), "250ms");
  EXPECT_EQ(formatDuration(90s), "1m30s");
  EXPECT_EQ(formatDuration(1s + 1ns), "1s1ns");
  EXPECT_EQ(formatDuration(-2h), "-2h");
}

TEST(FormatRate, NaturalUnits) {
  EXPECT_EQ(formatRate(Rate{100, 1min}), "100/min");
  EXPECT_EQ(formatRate(Rate{10, 1s}), "10/s");
  EXPECT_EQ(formatRate(Rate{5000, 1h}), "5000/h");
  EXPECT_EQ(formatRate(Rate{3, 500ms}), "3/500ms");
  EXPECT_EQ(Rate({10, 1s}).interval(), 100ms);
}

}  // namespace
}  // namespace gatelab::core
