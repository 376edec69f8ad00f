// Channel names: which are valid, and the parts that carry a meaning (the
// namespace, "$" for private channels, the "#" user boundary), plus the
// glob match of the API's `channels` pattern.
#include "push/channel_name.hpp"

#include <gtest/gtest.h>

#include <string>

namespace duplex::test {
namespace {

using push::ChannelNameProblem;
using push::check_channel_name;

TEST(PushChannelName, OrdinaryNamesAreValid) {
  for (const char* name : {"news", "chat:lobby", "$secret", "dm#alice,bob", "a", "a-b_c.d/e"}) {
    EXPECT_EQ(check_channel_name(name, 255), ChannelNameProblem::none) << name;
  }
}

TEST(PushChannelName, EmptyIsRefused) {
  EXPECT_EQ(check_channel_name("", 255), ChannelNameProblem::empty);
}

TEST(PushChannelName, TheLengthLimitIsInclusive) {
  EXPECT_EQ(check_channel_name(std::string(255, 'x'), 255), ChannelNameProblem::none);
  EXPECT_EQ(check_channel_name(std::string(256, 'x'), 255), ChannelNameProblem::too_long);
  EXPECT_EQ(check_channel_name("abcd", 3), ChannelNameProblem::too_long);
}

TEST(PushChannelName, ControlCharactersSpaceAndDeleteAreRefused) {
  for (int c = 0; c <= 0x20; ++c) {
    std::string name = "ab";
    name.insert(1, 1, static_cast<char>(c));
    EXPECT_EQ(check_channel_name(name, 255), ChannelNameProblem::bad_character) << c;
  }
  EXPECT_EQ(check_channel_name("a\x7f", 255), ChannelNameProblem::bad_character);
  EXPECT_EQ(check_channel_name(" ", 255), ChannelNameProblem::bad_character);
  EXPECT_EQ(check_channel_name("news\n", 255), ChannelNameProblem::bad_character);
  // A NUL inside the view counts, it does not end the name.
  EXPECT_EQ(check_channel_name(std::string_view("a\0b", 3), 255),
            ChannelNameProblem::bad_character);
}

TEST(PushChannelName, Utf8BytesAreAllowed) {
  // Names come out of JSON, so they are valid UTF-8; bytes >= 0x80 pass.
  EXPECT_EQ(check_channel_name("caf\xc3\xa9", 255), ChannelNameProblem::none);
  EXPECT_EQ(check_channel_name("\xe6\x97\xa5\xe6\x9c\xac", 255), ChannelNameProblem::none);
  EXPECT_EQ(check_channel_name("\xf0\x9f\x98\x80", 255), ChannelNameProblem::none);
  // The limit counts bytes: four bytes do not fit in three.
  EXPECT_EQ(check_channel_name("\xf0\x9f\x98\x80", 3), ChannelNameProblem::too_long);
}

TEST(PushChannelName, TheNamespaceIsBeforeTheFirstColon) {
  EXPECT_EQ(push::channel_namespace("chat:lobby"), "chat");
  EXPECT_EQ(push::channel_namespace("news"), "");
  EXPECT_EQ(push::channel_namespace("a:b:c"), "a");
  EXPECT_EQ(push::channel_namespace(":x"), "");
  EXPECT_EQ(push::channel_namespace("x:"), "x");
  EXPECT_EQ(push::channel_namespace(""), "");
}

TEST(PushChannelName, ThePrivatePrefixIsNotPartOfTheNamespace) {
  EXPECT_EQ(push::channel_namespace("$chat:lobby"), "chat");
  EXPECT_EQ(push::channel_namespace("$secret"), "");
  EXPECT_EQ(push::channel_namespace("$"), "");
  // Only one leading "$" is the prefix.
  EXPECT_EQ(push::channel_namespace("$$a:b"), "$a");
}

TEST(PushChannelName, PrivateChannelsStartWithADollar) {
  EXPECT_TRUE(push::is_private_channel("$secret"));
  EXPECT_TRUE(push::is_private_channel("$chat:x"));
  EXPECT_TRUE(push::is_private_channel("$"));
  EXPECT_FALSE(push::is_private_channel("chat:$x"));
  EXPECT_FALSE(push::is_private_channel("news"));
  EXPECT_FALSE(push::is_private_channel(""));
}

TEST(PushChannelName, TheUserBoundaryListsWhoMaySubscribe) {
  EXPECT_TRUE(push::user_allowed_by_name("dm#alice,bob", "alice"));
  EXPECT_TRUE(push::user_allowed_by_name("dm#alice,bob", "bob"));
  EXPECT_FALSE(push::user_allowed_by_name("dm#alice,bob", "carol"));
  // Whole names only, not prefixes or pieces.
  EXPECT_FALSE(push::user_allowed_by_name("dm#alice,bob", "ali"));
  EXPECT_FALSE(push::user_allowed_by_name("dm#alice,bob", "alice,bob"));
  EXPECT_TRUE(push::user_allowed_by_name("personal#42", "42"));
  EXPECT_FALSE(push::user_allowed_by_name("personal#42", "4"));
  // The part after the last "#" is the list.
  EXPECT_TRUE(push::user_allowed_by_name("a#b#carol", "carol"));
  EXPECT_FALSE(push::user_allowed_by_name("a#b#carol", "b"));
}

TEST(PushChannelName, WithoutABoundaryEveryoneMaySubscribe) {
  EXPECT_TRUE(push::user_allowed_by_name("news", "alice"));
  EXPECT_TRUE(push::user_allowed_by_name("news", ""));
  EXPECT_TRUE(push::user_allowed_by_name("chat:lobby", ""));
}

TEST(PushChannelName, AnonymousUsersNeverPassABoundary) {
  EXPECT_FALSE(push::user_allowed_by_name("dm#alice,bob", ""));
  // Not even an empty entry in the list lets them in.
  EXPECT_FALSE(push::user_allowed_by_name("dm#", ""));
  EXPECT_FALSE(push::user_allowed_by_name("dm#alice,", ""));
  EXPECT_FALSE(push::user_allowed_by_name("dm#,alice", ""));
  EXPECT_FALSE(push::user_allowed_by_name("dm#", "alice"));
}

TEST(PushChannelName, GlobStarMatchesAnyRun) {
  EXPECT_TRUE(push::glob_match("*", ""));
  EXPECT_TRUE(push::glob_match("*", "anything"));
  EXPECT_TRUE(push::glob_match("chat:*", "chat:lobby"));
  EXPECT_TRUE(push::glob_match("chat:*", "chat:"));
  EXPECT_TRUE(push::glob_match("*:lobby", "chat:lobby"));
  EXPECT_TRUE(push::glob_match("a*b*c", "aXXbYYc"));
  EXPECT_TRUE(push::glob_match("a*b*c", "abc"));
  // Backtracking: the first "b" is not the one that leads to a match.
  EXPECT_TRUE(push::glob_match("a*bc", "abbbc"));
  EXPECT_TRUE(push::glob_match("*ab", "aab"));
}

TEST(PushChannelName, GlobQuestionMarkMatchesOneCharacter) {
  EXPECT_TRUE(push::glob_match("user:?", "user:1"));
  EXPECT_FALSE(push::glob_match("user:?", "user:"));
  EXPECT_FALSE(push::glob_match("user:?", "user:12"));
  EXPECT_TRUE(push::glob_match("???", "abc"));
  EXPECT_TRUE(push::glob_match("?*?", "ab"));
  EXPECT_FALSE(push::glob_match("?*?", "a"));
}

TEST(PushChannelName, GlobTrailingStarsMatchTheEmptyRest) {
  EXPECT_TRUE(push::glob_match("news***", "news"));
  EXPECT_TRUE(push::glob_match("**", ""));
  EXPECT_TRUE(push::glob_match("n*e*w*s*", "news"));
}

TEST(PushChannelName, GlobEmptyPatternMatchesOnlyEmptyText) {
  EXPECT_TRUE(push::glob_match("", ""));
  EXPECT_FALSE(push::glob_match("", "a"));
}

TEST(PushChannelName, GlobMismatches) {
  EXPECT_FALSE(push::glob_match("news", "new"));
  EXPECT_FALSE(push::glob_match("new", "news"));
  EXPECT_FALSE(push::glob_match("chat:*", "chatter"));
  EXPECT_FALSE(push::glob_match("*:lobby", "chat:lobbyist"));
  EXPECT_FALSE(push::glob_match("a*b", "acd"));
  EXPECT_FALSE(push::glob_match("abc", ""));
  EXPECT_FALSE(push::glob_match("?", ""));
  // Case matters.
  EXPECT_FALSE(push::glob_match("News", "news"));
}

TEST(PushChannelName, GlobWithManyStarsAgainstALongText) {
  // The matcher backtracks to the last star only (no recursion to blow the
  // stack or go exponential).
  const std::string text(2000, 'a');
  EXPECT_FALSE(push::glob_match("*a*a*a*a*a*a*a*a*a*a*b", text));
  EXPECT_TRUE(push::glob_match("*a*a*a*a*a*a*a*a*a*a*", text));
}

}  // namespace
}  // namespace duplex::test
