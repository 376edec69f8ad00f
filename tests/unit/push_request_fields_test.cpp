// Reading request fields forgivingly (a field of the wrong type counts as
// absent, as Centrifugo decodes), and a history request's query: the
// limit's defaults and cap, `since` and `reverse`.
#include "push/request_fields.hpp"

#include <gtest/gtest.h>

namespace duplex::test {
namespace {

using nlohmann::json;

TEST(PushRequestFields, FieldsOfTheRightType) {
  const json o = json::parse(R"({"channel":"news","recover":true,"offset":17})");
  EXPECT_EQ(push::string_field(o, "channel"), "news");
  EXPECT_TRUE(push::bool_field(o, "recover"));
  EXPECT_EQ(push::offset_field(o, "offset"), 17u);
}

TEST(PushRequestFields, FieldsOfTheWrongTypeOrMissingAreAbsent) {
  const json o = json::parse(R"({"channel":5,"recover":"yes","offset":-3,"epoch":null})");
  EXPECT_EQ(push::string_field(o, "channel"), "");
  EXPECT_FALSE(push::bool_field(o, "recover"));
  EXPECT_EQ(push::offset_field(o, "offset"), 0u);
  EXPECT_EQ(push::string_field(o, "epoch"), "");
  EXPECT_EQ(push::string_field(o, "missing"), "");
  EXPECT_EQ(push::offset_field(json::parse(R"({"offset":1.5})"), "offset"), 0u);
  EXPECT_EQ(push::offset_field(json::parse(R"({"offset":"3"})"), "offset"), 0u);
}

TEST(PushRequestFields, TheLargestOffsetIsRead) {
  const json o = json::parse(R"({"offset":18446744073709551615})");
  EXPECT_EQ(push::offset_field(o, "offset"), 18446744073709551615u);
}

TEST(PushRequestFields, HistoryLimitDefaultsToTheTopOnly) {
  EXPECT_EQ(push::history_query(json::object(), 300).limit, 0);
  EXPECT_EQ(push::history_query(json::parse(R"({"limit":0})"), 300).limit, 0);
  // Not an integer: absent.
  EXPECT_EQ(push::history_query(json::parse(R"({"limit":2.5})"), 300).limit, 0);
  EXPECT_EQ(push::history_query(json::parse(R"({"limit":"10"})"), 300).limit, 0);
}

TEST(PushRequestFields, HistoryLimitIsCapped) {
  EXPECT_EQ(push::history_query(json::parse(R"({"limit":10})"), 300).limit, 10);
  EXPECT_EQ(push::history_query(json::parse(R"({"limit":300})"), 300).limit, 300);
  EXPECT_EQ(push::history_query(json::parse(R"({"limit":301})"), 300).limit, 300);
  // -1 means all there is, which is the cap too.
  EXPECT_EQ(push::history_query(json::parse(R"({"limit":-1})"), 300).limit, 300);
  EXPECT_EQ(push::history_query(json::parse(R"({"limit":-5})"), 300).limit, 300);
  // Beyond long long: still capped, never negative.
  EXPECT_EQ(push::history_query(json::parse(R"({"limit":18446744073709551615})"), 300).limit, 300);
}

TEST(PushRequestFields, HistorySinceAndReverse) {
  const auto q = push::history_query(
      json::parse(R"({"limit":5,"since":{"offset":12,"epoch":"abcd"},"reverse":true})"), 300);
  ASSERT_TRUE(q.since.has_value());
  EXPECT_EQ(q.since->offset, 12u);
  EXPECT_EQ(q.since->epoch, "abcd");
  EXPECT_TRUE(q.reverse);
  // `since` that is not an object is absent; inside it, forgiving fields.
  EXPECT_FALSE(push::history_query(json::parse(R"({"since":12})"), 300).since.has_value());
  const auto loose = push::history_query(json::parse(R"({"since":{"offset":"12"}})"), 300);
  ASSERT_TRUE(loose.since.has_value());
  EXPECT_EQ(loose.since->offset, 0u);
  EXPECT_EQ(loose.since->epoch, "");
  EXPECT_FALSE(loose.reverse);
}

}  // namespace
}  // namespace duplex::test
