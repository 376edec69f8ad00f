// Text from a peer on its way to a terminal or a log line: nothing in it
// may start a line of its own or drive the terminal.
#include <duplex/log.hpp>

#include <gtest/gtest.h>

namespace duplex::test {
namespace {

TEST(EscapeForLog, PrintableTextStaysAsItIs) {
  EXPECT_EQ(escape_for_log("hello, world: 1000"), "hello, world: 1000");
  EXPECT_EQ(escape_for_log("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(escape_for_log(""), "");
}

TEST(EscapeForLog, ControlsNewlinesAndBadBytesAreEscaped) {
  EXPECT_EQ(escape_for_log("a\nduplex: forged line"), "a\\nduplex: forged line");
  EXPECT_EQ(escape_for_log("\x1b]0;pwned\x07"), "\\x1b]0;pwned\\x07");
  EXPECT_EQ(escape_for_log("tab\there\r"), "tab\\there\\r");
  EXPECT_EQ(escape_for_log("back\\slash"), "back\\\\slash");
  EXPECT_EQ(escape_for_log("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(escape_for_log("\xc3"), "\\xc3");  // truncated sequence
  EXPECT_EQ(escape_for_log("\xc2\x9b"
                           "31m"),
            "\\xc2\\x9b"
            "31m");  // C1 control (CSI)
  EXPECT_EQ(escape_for_log(std::string_view("nul\0", 4)), "nul\\x00");
  EXPECT_EQ(escape_for_log("\x7f"), "\\x7f");
}

}  // namespace
}  // namespace duplex::test
