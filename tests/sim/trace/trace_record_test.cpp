// OwnedRecord: a deep copy of a record that survives copies, moves and reuse.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/trace/trace_record.hpp"

namespace gatelab::sim::trace {
namespace {

struct Source {
  // Backing strings for a TraceRecord view; overwritten after the copy to prove it is deep.
  std::string method = "POST", path = "/api/orders", query = "a=1", client = "10.0.0.7", agent = "curl/8.0";
  std::string h1 = "x-tenant-id", v1 = "t-42", e1 = "tag", x1 = "blue";
  std::vector<Field> headers, extras;
  TraceRecord record() {
    headers = {Field{h1, v1}};
    extras = {Field{e1, x1}};
    TraceRecord r;
    r.time = TraceTime{std::chrono::seconds{1700000000}};
    r.method = method;
    r.path = path;
    r.query = query;
    r.client = client;
    r.userAgent = agent;
    r.status = 201;
    r.bytes = 99;
    r.line = 12;
    r.headers = headers;
    r.extras = extras;
    return r;
  }
  void scribble() {
    for (std::string* s : {&method, &path, &query, &client, &agent, &h1, &v1, &e1, &x1}) std::fill(s->begin(), s->end(), '#');
  }
};

void expectOriginal(const TraceRecord& r) {
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/api/orders");
  EXPECT_EQ(r.query, "a=1");
  EXPECT_EQ(r.client, "10.0.0.7");
  EXPECT_EQ(r.userAgent, "curl/8.0");
  EXPECT_EQ(r.host, "");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.bytes, 99u);
  EXPECT_EQ(r.line, 12u);
  EXPECT_EQ(r.header("X-Tenant-ID"), "t-42");
  EXPECT_EQ(r.extra("tag"), "blue");
  EXPECT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.extras.size(), 1u);
}

TEST(OwnedRecord, CopiesEveryFieldDeeply) {
  Source src;
  OwnedRecord owned(src.record());
  src.scribble();
  expectOriginal(owned.view());
}

TEST(OwnedRecord, SurvivesCopiesMovesAndVectorGrowth) {
  Source src;
  std::vector<OwnedRecord> many;
  for (int i = 0; i < 100; ++i) many.emplace_back(src.record());  // growth moves the records
  src.scribble();
  for (const OwnedRecord& o : many) expectOriginal(o.view());
  OwnedRecord copy = many[3];
  OwnedRecord moved = std::move(many[4]);
  many.clear();
  expectOriginal(copy.view());
  expectOriginal(moved.view());
  OwnedRecord assigned;
  assigned = std::move(moved);
  expectOriginal(assigned.view());
  EXPECT_EQ(moved.view().path, "");  // NOLINT(bugprone-use-after-move): a moved-from record is empty
}

TEST(OwnedRecord, ReuseForSmallerAndLargerRecords) {
  Source big;
  OwnedRecord owned(big.record());
  TraceRecord small;
  small.path = "/";
  owned.assign(small);
  EXPECT_EQ(owned.view().path, "/");
  EXPECT_EQ(owned.view().method, "");
  EXPECT_TRUE(owned.view().headers.empty());
  Source again;
  again.path = std::string(5000, 'p');
  owned.assign(again.record());
  again.scribble();
  EXPECT_EQ(owned.view().path, std::string(5000, 'p'));
  EXPECT_EQ(owned.view().extra("tag"), "blue");
}

}  // namespace
}  // namespace gatelab::sim::trace
