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

}  // namespace
}  // namespace duplex::test
