// Mapping request paths onto files under a root, with a real directory: no
// way out through "..", encoded dots or symbolic links; directories map to
// their index.html; Content-Type by extension.
#include "server/static_files.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <string>

namespace duplex::test {
namespace {

class StaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/duplex-static-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    base_ = dir;
    root_ = base_ + "/root";
    ASSERT_EQ(::mkdir(root_.c_str(), 0700), 0);
    ASSERT_EQ(::mkdir((root_ + "/docs").c_str(), 0700), 0);
    write(root_ + "/index.html", "home");
    write(root_ + "/docs/index.html", "docs");
    write(root_ + "/docs/a b.txt", "spaced");
    write(base_ + "/secret.txt", "outside");
    ASSERT_EQ(::symlink((base_ + "/secret.txt").c_str(), (root_ + "/leak.txt").c_str()), 0);
    ASSERT_EQ(::symlink((root_ + "/docs/index.html").c_str(), (root_ + "/inside.html").c_str()), 0);
    char real[PATH_MAX];
    ASSERT_NE(::realpath(root_.c_str(), real), nullptr);
    root_ = real;
  }
  void TearDown() override {
    const std::string rm = "rm -rf '" + base_ + "'";
    ASSERT_EQ(std::system(rm.c_str()), 0);
  }
  static void write(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  }
  std::string resolve(std::string_view request) {
    return server::resolve_static_path(root_, request);
  }

  std::string base_, root_;
};

TEST_F(StaticFiles, FilesAndDirectoryIndexes) {
  EXPECT_EQ(resolve("/"), root_ + "/index.html");
  EXPECT_EQ(resolve("/index.html"), root_ + "/index.html");
  EXPECT_EQ(resolve("/docs"), root_ + "/docs/index.html");
  EXPECT_EQ(resolve("/docs/"), root_ + "/docs/index.html");
  EXPECT_EQ(resolve("/docs/a%20b.txt"), root_ + "/docs/a b.txt");
  EXPECT_EQ(resolve("/inside.html"), root_ + "/docs/index.html");  // a link that stays inside
  EXPECT_EQ(resolve("/missing.html"), "");
}

TEST_F(StaticFiles, NoWayOutOfTheRoot) {
  for (std::string_view bad : {"/../secret.txt", "/docs/../../secret.txt", "/%2e%2e/secret.txt",
                               "/%2E%2E/secret.txt", "/docs/%2e%2e/%2e%2e/secret.txt", "/leak.txt",
                               "/..", "/%00", "/%zz", "/%2", "relative.html"}) {
    EXPECT_EQ(resolve(bad), "") << bad;
  }
}

TEST_F(StaticFiles, ContentTypesByExtension) {
  EXPECT_EQ(server::content_type_for("a.html"), "text/html; charset=utf-8");
  EXPECT_EQ(server::content_type_for("a.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(server::content_type_for("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(server::content_type_for("a.png"), "image/png");
  EXPECT_EQ(server::content_type_for("noext"), "application/octet-stream");
}

struct RangeCase {
  std::string_view value;
  server::RangeAnswer answer;
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};

TEST(StaticRanges, OneRangeOfBytesOfTheThreeForms) {
  using server::RangeAnswer;
  const RangeCase cases[] = {
      {"bytes=0-0", RangeAnswer::partial, 0, 1},
      {"bytes=2-5", RangeAnswer::partial, 2, 4},
      {" bytes = 2 - 5 ", RangeAnswer::whole},  // no space before '=' in the grammar
      {"bytes=2 - 5", RangeAnswer::partial, 2, 4},
      {"Bytes=10-", RangeAnswer::partial, 10, 90},
      {"bytes=-10", RangeAnswer::partial, 90, 10},
      {"bytes=-1000", RangeAnswer::partial, 0, 100},
      {"bytes=90-1000", RangeAnswer::partial, 90, 10},
      {"bytes=99-99999999999999999999999", RangeAnswer::partial, 99, 1},
      {"bytes=100-", RangeAnswer::unsatisfiable},
      {"bytes=99999999999999999999999-", RangeAnswer::unsatisfiable},
      {"bytes=-0", RangeAnswer::unsatisfiable},
      {"bytes=5-4", RangeAnswer::whole},
      {"bytes=0-1,5-6", RangeAnswer::whole},
      {"bytes=-", RangeAnswer::whole},
      {"bytes=a-b", RangeAnswer::whole},
      {"bytes=+1-2", RangeAnswer::whole},
      {"bytes 0-1", RangeAnswer::whole},
      {"lines=0-1", RangeAnswer::whole},
      {"", RangeAnswer::whole},
  };
  for (const RangeCase& c : cases) {
    server::ByteRange range{7, 7};
    EXPECT_EQ(server::parse_range(c.value, 100, range), c.answer) << c.value;
    if (c.answer == RangeAnswer::partial) {
      EXPECT_EQ(range.first, c.first) << c.value;
      EXPECT_EQ(range.length, c.length) << c.value;
    }
  }
  server::ByteRange range;
  EXPECT_EQ(server::parse_range("bytes=0-", 0, range), RangeAnswer::unsatisfiable);
  EXPECT_EQ(server::parse_range("bytes=-5", 0, range), RangeAnswer::unsatisfiable);
}

TEST(StaticDates, ImfFixdateBothWays) {
  EXPECT_EQ(server::format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(server::format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(server::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(server::parse_http_date(server::format_http_date(1'700'000'123)), 1'700'000'123);
  for (std::string_view bad : {"Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
                               "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Xyz 1994 08:49:37 GMT",
                               "Sun, 36 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
                               "Abc, 06 Nov 1994 08:49:37 GMT", "", "yesterday"}) {
    EXPECT_FALSE(server::parse_http_date(bad)) << bad;
  }
}

}  // namespace
}  // namespace duplex::test
