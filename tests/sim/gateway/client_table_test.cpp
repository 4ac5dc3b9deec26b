#include <string>

#include <gtest/gtest.h>

#include "sim/gateway/observer.hpp"

namespace gatelab::sim {
namespace {

TEST(ClientTable, FirstSeenOrderGivesTheIds) {
  ClientTable t;
  EXPECT_EQ(t.intern("10.0.0.1"), 0u);
  EXPECT_EQ(t.intern("10.0.0.2"), 1u);
  EXPECT_EQ(t.intern("10.0.0.1"), 0u);
  EXPECT_EQ(t.intern(""), 2u);  // an empty identity is a client like any other
  EXPECT_EQ(t.intern(""), 2u);
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.name(0), "10.0.0.1");
  EXPECT_EQ(t.name(1), "10.0.0.2");
  EXPECT_EQ(t.name(2), "");
}

TEST(ClientTable, FindDoesNotInsert) {
  ClientTable t;
  EXPECT_FALSE(t.find("a").has_value());
  t.intern("a");
  EXPECT_EQ(t.find("a"), 0u);
  EXPECT_FALSE(t.find("b").has_value());
  EXPECT_EQ(t.size(), 1u);
}

TEST(ClientTable, ManyIdentitiesSurviveGrowth) {
  // Enough identities for several index doublings, short (inline strings) and long (heap) alike,
  // including ones that differ only in their last byte.
  ClientTable t;
  const int n = 50'000;
  auto identity = [](int i) {
    return i % 3 == 0 ? "key-" + std::string(40, 'x') + std::to_string(i) : "192.168." + std::to_string(i);
  };
  for (int i = 0; i < n; ++i) ASSERT_EQ(t.intern(identity(i)), static_cast<ClientId>(i));
  EXPECT_EQ(t.size(), static_cast<std::size_t>(n));
  for (int i = n - 1; i >= 0; --i) {
    ASSERT_EQ(t.intern(identity(i)), static_cast<ClientId>(i));
    ASSERT_EQ(t.name(static_cast<ClientId>(i)), identity(i));
  }
  EXPECT_FALSE(t.find("192.168.x").has_value());
  EXPECT_EQ(t.size(), static_cast<std::size_t>(n));
}

}  // namespace
}  // namespace gatelab::sim
