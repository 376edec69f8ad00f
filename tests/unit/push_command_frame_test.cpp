// Reading a frame of the JSON client protocol into commands: one object per
// line, {"id":N,"<method>":{..}}, `send` without an id, {} a pong. A bad
// line stops the reading, keeps what came before it and says what was
// wrong, so that the connection can answer the good ones and disconnect.
#include "push/command_frame.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace duplex::push {
// Names in failure messages instead of the enum's bytes.
void PrintTo(FrameProblem p, std::ostream* os) {
  static constexpr const char* names[] = {"none", "no_commands", "not_json", "not_an_object",
                                          "bad_id"};
  *os << names[static_cast<int>(p)];
}
}  // namespace duplex::push

namespace duplex::test {
namespace {

using push::FrameProblem;
using push::json_depth_within;
using push::parse_command_frame;

TEST(PushCommandFrame, OneCommand) {
  const auto f = parse_command_frame(R"({"id":1,"subscribe":{"channel":"news"}})");
  EXPECT_EQ(f.problem, FrameProblem::none);
  ASSERT_EQ(f.commands.size(), 1u);
  EXPECT_EQ(f.commands[0].id, 1u);
  EXPECT_EQ(f.commands[0].method, "subscribe");
  EXPECT_EQ(f.commands[0].request, nlohmann::json::parse(R"({"channel":"news"})"));
}

TEST(PushCommandFrame, TheIdMayComeLast) {
  // centrifuge-js adds the id after building the object.
  const auto f = parse_command_frame(R"({"connect":{"token":"T","name":"js"},"id":7})");
  EXPECT_EQ(f.problem, FrameProblem::none);
  ASSERT_EQ(f.commands.size(), 1u);
  EXPECT_EQ(f.commands[0].id, 7u);
  EXPECT_EQ(f.commands[0].method, "connect");
  EXPECT_EQ(f.commands[0].request["token"], "T");
}

TEST(PushCommandFrame, SeveralLinesInOrder) {
  const auto f = parse_command_frame(
      "{\"id\":1,\"connect\":{}}\n"
      "{\"id\":2,\"subscribe\":{\"channel\":\"a\"}}\r\n"
      "\n"
      "\r\n"
      "{\"id\":3,\"subscribe\":{\"channel\":\"b\"}}\n");
  EXPECT_EQ(f.problem, FrameProblem::none);
  ASSERT_EQ(f.commands.size(), 3u);
  EXPECT_EQ(f.commands[0].method, "connect");
  EXPECT_EQ(f.commands[1].id, 2u);
  EXPECT_EQ(f.commands[1].request["channel"], "a");
  EXPECT_EQ(f.commands[2].id, 3u);
  EXPECT_EQ(f.commands[2].request["channel"], "b");
}

TEST(PushCommandFrame, TrailingSpacesAndCarriageReturnsAreIgnored) {
  const auto f = parse_command_frame("{\"id\":1,\"ping\":{}}  \r\n  \r\n");
  EXPECT_EQ(f.problem, FrameProblem::none);
  ASSERT_EQ(f.commands.size(), 1u);
  EXPECT_EQ(f.commands[0].method, "ping");
}

TEST(PushCommandFrame, AnEmptyObjectIsAPong) {
  const auto f = parse_command_frame("{}");
  EXPECT_EQ(f.problem, FrameProblem::none);
  ASSERT_EQ(f.commands.size(), 1u);
  EXPECT_EQ(f.commands[0].id, 0u);
  EXPECT_TRUE(f.commands[0].method.empty());
  EXPECT_EQ(f.commands[0].request, nlohmann::json::object());
}

TEST(PushCommandFrame, SendNeedsNoId) {
  const auto f = parse_command_frame(R"({"send":{"data":{"x":1}}})");
  EXPECT_EQ(f.problem, FrameProblem::none);
  ASSERT_EQ(f.commands.size(), 1u);
  EXPECT_EQ(f.commands[0].id, 0u);
  EXPECT_EQ(f.commands[0].method, "send");
  EXPECT_EQ(f.commands[0].request["data"]["x"], 1);
}

TEST(PushCommandFrame, TheLargestIdIsAccepted) {
  const auto f = parse_command_frame(R"({"id":4294967295,"ping":{}})");
  EXPECT_EQ(f.problem, FrameProblem::none);
  ASSERT_EQ(f.commands.size(), 1u);
  EXPECT_EQ(f.commands[0].id, 4294967295u);
}

TEST(PushCommandFrame, AMissingIdIsBad) {
  for (const char* line : {R"({"connect":{}})", R"({"subscribe":{"channel":"x"}})",
                           R"({"publish":{"channel":"x","data":{}}})", R"({"ping":{}})"}) {
    const auto f = parse_command_frame(line);
    EXPECT_EQ(f.problem, FrameProblem::bad_id) << line;
    EXPECT_TRUE(f.commands.empty()) << line;
  }
}

TEST(PushCommandFrame, IdsOutsideOneToUint32MaxOrNotIntegersAreBad) {
  for (const char* line :
       {R"({"id":0,"connect":{}})", R"({"id":-1,"connect":{}})", R"({"id":1.5,"connect":{}})",
        R"({"id":1.0,"connect":{}})", R"({"id":1e3,"connect":{}})",
        R"({"id":4294967296,"connect":{}})", R"({"id":18446744073709551616,"connect":{}})",
        R"({"id":"1","connect":{}})", R"({"id":null,"connect":{}})", R"({"id":true,"connect":{}})",
        R"({"id":[1],"connect":{}})", R"({"id":-1,"send":{}})", R"({"id":"x","send":{}})",
        R"({"id":4294967296})"}) {
    const auto f = parse_command_frame(line);
    EXPECT_EQ(f.problem, FrameProblem::bad_id) << line;
    EXPECT_TRUE(f.commands.empty()) << line;
  }
}

TEST(PushCommandFrame, NotJsonStopsTheFrameAndKeepsWhatCameBefore) {
  const auto f = parse_command_frame(
      "{\"id\":1,\"connect\":{}}\n"
      "{\"id\":2,\"subscribe\":{\"channel\":\"a\"}}\n"
      "{\"id\":3,\"subscribe\":\n"
      "{\"id\":4,\"subscribe\":{\"channel\":\"b\"}}");
  EXPECT_EQ(f.problem, FrameProblem::not_json);
  ASSERT_EQ(f.commands.size(), 2u);
  EXPECT_EQ(f.commands[0].id, 1u);
  EXPECT_EQ(f.commands[1].id, 2u);
}

TEST(PushCommandFrame, LinesThatAreNotJson) {
  for (const char* line :
       {"hello", "{", "{\"id\":1,}", "{\"id\":1 \"ping\":{}}", "{}{}", "{} x", "\x01",
        "{\"id\":1,\"publish\":{\"data\":\"\xff\"}}"}) {  // the last one: not UTF-8
    EXPECT_EQ(parse_command_frame(line).problem, FrameProblem::not_json) << line;
  }
}

TEST(PushCommandFrame, ALineThatIsNotAnObject) {
  for (const char* line :
       {"[]", R"([{"id":1,"connect":{}}])", "1", "\"connect\"", "null", "true"}) {
    const auto f = parse_command_frame(line);
    EXPECT_EQ(f.problem, FrameProblem::not_an_object) << line;
    EXPECT_TRUE(f.commands.empty()) << line;
  }
}

TEST(PushCommandFrame, ARequestThatIsNotAnObject) {
  for (const char* line : {R"({"id":1,"subscribe":"news"})", R"({"id":1,"subscribe":1})",
                           R"({"id":1,"subscribe":["news"]})", R"({"id":1,"subscribe":true})",
                           R"({"send":"hello"})"}) {
    const auto f = parse_command_frame(line);
    EXPECT_EQ(f.problem, FrameProblem::not_an_object) << line;
    EXPECT_TRUE(f.commands.empty()) << line;
  }
}

TEST(PushCommandFrame, ANullRequestIsAnEmptyOne) {
  const auto f = parse_command_frame(R"({"id":3,"ping":null})");
  EXPECT_EQ(f.problem, FrameProblem::none);
  ASSERT_EQ(f.commands.size(), 1u);
  EXPECT_EQ(f.commands[0].method, "ping");
  EXPECT_EQ(f.commands[0].request, nlohmann::json::object());
}

TEST(PushCommandFrame, AnEmptyFrameHasNoCommands) {
  for (const char* frame : {"", "\n", "\r\n", "\n\n\n", "  \r\n \n", "\r"}) {
    const auto f = parse_command_frame(frame);
    EXPECT_EQ(f.problem, FrameProblem::no_commands) << '"' << frame << '"';
    EXPECT_TRUE(f.commands.empty());
  }
}

TEST(PushCommandFrame, ABadLineAfterGoodOnesReportsItsOwnProblem) {
  const auto f = parse_command_frame("{\"id\":1,\"connect\":{}}\n{\"id\":0,\"ping\":{}}\n{}");
  EXPECT_EQ(f.problem, FrameProblem::bad_id);
  ASSERT_EQ(f.commands.size(), 1u);
  EXPECT_EQ(f.commands[0].method, "connect");
}

// The connection writes requests back out with nlohmann's dump(), which
// recurses once per level (client_protocol.cpp: `data->dump()` in publish;
// http_api.cpp does the same with 1 MB bodies). A frame within the 64 KB
// message limit can nest ~32000 levels: dump() then overflows a 2 MB thread
// stack (threads under `ulimit -s unlimited`) in a release build, and the
// 8 MB main stack under ASan. Such a frame has to be refused when it is
// read; any limit that leaves ordinary nesting alone will do (Go's
// encoding/json stops at 10000).
TEST(PushCommandFrame, NestingTooDeepToWriteBackIsRefused) {
  const int depth = 20000;  // a 40 KB frame
  const std::string frame = R"({"id":1,"publish":{"channel":"c","data":)" +
                            std::string(depth, '[') + std::string(depth, ']') + "}}";
  ASSERT_LT(frame.size(), 64u * 1024);
  const auto f = parse_command_frame(frame);
  EXPECT_NE(f.problem, FrameProblem::none);
  EXPECT_TRUE(f.commands.empty());
}

TEST(PushCommandFrame, TwoCommandsInOneObjectAreRefused) {
  const auto f = parse_command_frame(R"({"id":1,"connect":{},"subscribe":{"channel":"c"}})");
  EXPECT_EQ(f.problem, FrameProblem::several_methods);
  // A null one beside another is not a second command.
  const auto g = parse_command_frame(R"({"id":1,"connect":null,"subscribe":{"channel":"c"}})");
  EXPECT_EQ(g.problem, FrameProblem::none);
  ASSERT_EQ(g.commands.size(), 1u);
  EXPECT_EQ(g.commands[0].method, "subscribe");
}

TEST(PushJsonDepth, CountsBracketsOutsideStringsOnly) {
  EXPECT_TRUE(json_depth_within("[[[]]]", 3));
  EXPECT_FALSE(json_depth_within("[[[[]]]]", 3));
  EXPECT_TRUE(json_depth_within(R"({"a":"[[[[[[","b":[1]})", 2));
  EXPECT_TRUE(json_depth_within(R"(["\"[[[[", 1])", 1));  // an escaped quote stays in the string
  EXPECT_FALSE(json_depth_within(R"({"a":{"b":{"c":{}}}})", 3));
  EXPECT_TRUE(json_depth_within("", 0));
  EXPECT_TRUE(json_depth_within("]]]][", 1));  // not JSON: the parser says so later
}

TEST(PushCommandFrame, OrdinaryNestingIsAccepted) {
  const int depth = 64;
  const std::string frame = R"({"id":1,"publish":{"channel":"c","data":)" +
                            std::string(depth, '[') + std::string(depth, ']') + "}}";
  const auto f = parse_command_frame(frame);
  EXPECT_EQ(f.problem, FrameProblem::none);
  ASSERT_EQ(f.commands.size(), 1u);
  EXPECT_EQ(f.commands[0].request["data"].dump(),
            std::string(depth, '[') + std::string(depth, ']'));
}

}  // namespace
}  // namespace duplex::test
