// The memory broker's streams through a file and back, as a restart with
// --history-file does: the epoch, the offsets and the kept publications
// (with their info and age) come back; a missing file is a first start; a
// damaged line is skipped, not fatal.
#include "push/history_file.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace duplex::test {
namespace {

using push::HistoryPolicy;
using push::HistoryQuery;
using push::MemoryBroker;
using push::Publication;

class NullSink final : public push::Broker::Sink {
 public:
  void deliver(std::string_view, const Publication&) override {}
};

class HistoryFile : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove(path_); }
  const std::string path_ =
      (std::filesystem::temp_directory_path() / ("duplex-history-" + std::to_string(::getpid())))
          .string();
  const HistoryPolicy policy_{10, std::chrono::seconds(300)};
};

Publication pub(std::string data, std::string info = {}) {
  Publication p;
  p.data = std::move(data);
  p.info = std::move(info);
  return p;
}

TEST_F(HistoryFile, StreamsComeBackWithTheirEpochOffsetsAndPublications) {
  NullSink sink;
  MemoryBroker before(sink);
  for (int i = 1; i <= 12; ++i)
    before.publish("news", pub("{\"n\":" + std::to_string(i) + "}"), policy_);
  const auto position =
      before.publish("chat:1", pub("\"hi\"", R"({"user":"u","client":"c"})"), policy_);
  ASSERT_TRUE(push::save_history(before, path_));

  MemoryBroker after(sink);
  std::size_t skipped = 99;
  ASSERT_TRUE(push::load_history(after, path_, skipped));
  EXPECT_EQ(skipped, 0u);
  const auto news = after.history("news", {.limit = -1}, policy_);
  const auto old = before.history("news", {.limit = -1}, policy_);
  EXPECT_EQ(news.top.epoch, old.top.epoch);
  EXPECT_EQ(news.top.offset, 12u);
  ASSERT_EQ(news.publications.size(), 10u);  // the history's size, as before
  EXPECT_EQ(news.publications.front().offset, 3u);
  EXPECT_EQ(news.publications.back().data, "{\"n\":12}");
  const auto chat = after.history("chat:1", {.limit = -1}, policy_);
  EXPECT_EQ(chat.top.epoch, position.epoch);
  ASSERT_EQ(chat.publications.size(), 1u);
  EXPECT_EQ(chat.publications[0].info, R"({"client":"c","user":"u"})");

  // A client that was at offset 5 before the restart recovers after it.
  const auto caught =
      after.subscribe("news", push::StreamPosition{5, old.top.epoch}, policy_, 300, [] {});
  EXPECT_TRUE(caught.recovered);
  EXPECT_EQ(caught.publications.size(), 7u);
  // And the stream goes on from where it was.
  EXPECT_EQ(after.publish("news", pub("13"), policy_).offset, 13u);
}

TEST_F(HistoryFile, AMissingFileIsAFirstStartAndDamagedLinesAreSkipped) {
  NullSink sink;
  MemoryBroker broker(sink);
  std::size_t skipped = 0;
  EXPECT_TRUE(push::load_history(broker, path_ + ".none", skipped));
  EXPECT_EQ(broker.stream_count(), 0u);

  std::ofstream(path_)
      << "not json\n"
      << R"({"channel":"a","epoch":"e","top":1,"publications":[{"offset":7,"data":1,"at":0}]})"
      << "\n"
      << R"({"channel":"b","epoch":"e","top":2,"size":5,"ttl":60,"publications":[]})"
      << "\n";
  ASSERT_TRUE(push::load_history(broker, path_, skipped));
  EXPECT_EQ(skipped, 2u);  // not JSON; an offset past the top
  EXPECT_EQ(broker.stream_count(), 1u);
  EXPECT_EQ(broker.history("b", {}, {5, std::chrono::seconds(60)}).top.offset, 2u);
}

TEST_F(HistoryFile, PublicationsOlderThanTheirTimeToLiveStayGone) {
  std::ofstream(path_)
      << R"({"channel":"old","epoch":"e","top":2,"size":5,"ttl":60,"publications":[)"
      << R"({"offset":1,"data":1,"at":1000},)"  // 1970: long expired
      << R"({"offset":2,"data":2,"at":)"
      << std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count()
      << "}]}\n";
  NullSink sink;
  MemoryBroker broker(sink);
  std::size_t skipped = 0;
  ASSERT_TRUE(push::load_history(broker, path_, skipped));
  const auto h = broker.history("old", {.limit = -1}, {5, std::chrono::seconds(60)});
  ASSERT_EQ(h.publications.size(), 1u);
  EXPECT_EQ(h.publications[0].offset, 2u);
}

}  // namespace
}  // namespace duplex::test
