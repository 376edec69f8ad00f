// Socket streams on every backend, over loopback and without the WebSocket
// layers: echo and orderly ends, backpressure in both directions, input
// held while paused, failed connects, closing with bytes still unsent, and
// many connections receiving at once (more than the buffers the io_uring
// backend provides at first).
#include "backend_params.hpp"
#include "transport/event_loop.hpp"
#include "transport/socket.hpp"
#include "transport/stream.hpp"

#include <gtest/gtest.h>
#include <duplex/protocol/output_queue.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace duplex::test {
namespace {

using namespace std::chrono_literals;
using transport::Stream;

// One end of a connection: what it received and heard, and its output.
struct End final : transport::StreamHandler {
  transport::SocketSlot slot;
  protocol::OutputQueue out;
  std::string received;
  bool ended = false;
  bool connected = false;
  bool close_on_end = false;  // as a server does once the peer is done
  int writable = 0;
  std::error_code error;
  std::function<void(End&)> on_data;
  std::function<void(End&)> on_writable;

  void on_stream_data(std::span<std::uint8_t> bytes) override {
    received.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (on_data) on_data(*this);
  }
  void on_stream_end() override {
    ended = true;
    if (close_on_end) slot.reset();
  }
  void on_stream_error(std::error_code ec, std::string_view) override { error = ec; }
  void on_stream_writable() override {
    ++writable;
    if (!out.empty()) stream().write(out);
    if (on_writable) on_writable(*this);
  }
  void on_stream_connected() override { connected = true; }

  Stream& stream() { return *slot.get(); }
  Stream::Write send(std::string_view bytes) {
    out.append(bytes);
    return stream().write(out);
  }
};

// Bytes that show where they were cut or reordered.
std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

class Streams : public ::testing::TestWithParam<BackendParam>, public transport::AcceptHandler {
 protected:
  void SetUp() override {
    loop_ = transport::make_event_loop(GetParam().backend, GetParam().single_thread);
    transport::Address any;
    ASSERT_TRUE(transport::parse_numeric_address("127.0.0.1", 0, any));
    std::error_code ec;
    const int fd = transport::listen_tcp(any, {}, ec);
    ASSERT_GE(fd, 0) << ec.message();
    address_ = transport::local_address(fd);
    listener_ = loop_->listen(fd, *this);
  }
  void TearDown() override {
    // Streams go before their loop.
    accepted_.clear();
    clients_.clear();
    listener_.reset();
  }

  void on_accept(int fd, const transport::Address&) override {
    auto end = std::make_unique<End>();
    end->on_data = on_server_data_;
    ASSERT_FALSE(loop_->open_stream(end->slot, fd, *end));
    accepted_.push_back(std::move(end));
  }
  void on_accept_paused(int) override {}

  End& connect() {
    clients_.push_back(std::make_unique<End>());
    End& end = *clients_.back();
    EXPECT_FALSE(loop_->connect_stream(end.slot, address_, end));
    return end;
  }

  // Runs the loop until `done` holds; false if it does not within a
  // generous bound (a hang guard, not a speed limit).
  bool run_until(const std::function<bool()>& done) {
    if (done()) return true;
    loop_->reset_stop();
    loop_->stop_when_idle([&] { return !done(); });
    const TimerId guard = loop_->after(20s, [this] { loop_->stop(); });
    loop_->run();
    loop_->cancel(guard);
    loop_->stop_when_idle(nullptr);
    return done();
  }
  // Runs the loop for a while (to show that something does not happen).
  void run_for(std::chrono::milliseconds span) {
    bool over = false;
    loop_->after(span, [&] { over = true; });
    run_until([&] { return over; });
  }

  std::unique_ptr<transport::EventLoop> loop_;
  transport::Address address_;
  std::unique_ptr<transport::Listener> listener_;
  std::function<void(End&)> on_server_data_;
  std::vector<std::unique_ptr<End>> accepted_;
  std::vector<std::unique_ptr<End>> clients_;
};

TEST_P(Streams, EchoThenEachSideEndsInTurn) {
  on_server_data_ = [](End& e) {
    e.send(e.received);
    e.received.clear();
  };
  End& client = connect();
  ASSERT_TRUE(run_until([&] { return client.connected && accepted_.size() == 1; }));
  client.send("hello over loopback");
  ASSERT_TRUE(run_until([&] { return client.received.size() == 19; }));
  EXPECT_EQ(client.received, "hello over loopback");

  client.stream().shutdown_write();
  End& server = *accepted_[0];
  ASSERT_TRUE(run_until([&] { return server.ended; }));
  EXPECT_FALSE(client.ended);  // half-closed: the other way is still open
  server.send("last words");
  server.stream().shutdown_write();
  ASSERT_TRUE(run_until([&] { return client.ended; }));
  EXPECT_EQ(client.received, "hello over loopbacklast words");
  EXPECT_FALSE(client.error);
  EXPECT_FALSE(server.error);
}

TEST_P(Streams, AWriterIsHeldBackByAPausedReaderAndGoesOnWhenItReads) {
  End& client = connect();
  ASSERT_TRUE(run_until([&] { return client.connected && accepted_.size() == 1; }));
  client.stream().pause_reading();
  End& server = *accepted_[0];
  const std::string big = pattern(24u << 20);  // more than both socket buffers hold
  server.send(big);
  run_for(100ms);
  EXPECT_TRUE(client.received.empty());
  EXPECT_FALSE(server.out.empty()) << "the kernel cannot have taken it all";

  client.stream().resume_reading();
  ASSERT_TRUE(run_until([&] { return client.received.size() >= big.size(); }));
  EXPECT_TRUE(client.received == big) << "bytes cut, lost or reordered";
  ASSERT_TRUE(run_until([&] { return server.out.empty(); }));
  EXPECT_GE(server.writable, 1);
}

TEST_P(Streams, DataAndEndArrivingWhilePausedComeInOrderOnResume) {
  End& client = connect();
  ASSERT_TRUE(run_until([&] { return client.connected && accepted_.size() == 1; }));
  End& server = *accepted_[0];
  server.send("first");
  ASSERT_TRUE(run_until([&] { return client.received == "first"; }));

  client.stream().pause_reading();
  server.send("second");
  server.stream().shutdown_write();
  run_for(50ms);
  EXPECT_EQ(client.received, "first");
  EXPECT_FALSE(client.ended);

  client.stream().resume_reading();
  ASSERT_TRUE(run_until([&] { return client.ended; }));
  EXPECT_EQ(client.received, "firstsecond");
}

TEST_P(Streams, PausesAndResumesFromCallbacksKeepTheBytesInOrder) {
  End& client = connect();
  ASSERT_TRUE(run_until([&] { return client.connected && accepted_.size() == 1; }));
  // Every other delivery pauses; the reader resumes once its own write is
  // out, which on io_uring is a completion in the same batch as further
  // receives.
  int deliveries = 0;
  client.on_data = [&](End& e) {
    const bool pause = ++deliveries % 2 == 0;
    if (pause) e.stream().pause_reading();
    if (e.send("ack") == Stream::Write::done && pause) {
      loop_->post([&e] { e.stream().resume_reading(); });
    }
  };
  client.on_writable = [](End& e) { e.stream().resume_reading(); };
  const std::string big = pattern(8u << 20);
  accepted_[0]->send(big);
  ASSERT_TRUE(run_until([&] { return client.received.size() >= big.size(); }));
  EXPECT_TRUE(client.received == big) << "bytes reordered around a pause";
  EXPECT_GT(deliveries, 2);
}

TEST_P(Streams, AConnectToAClosedPortReportsTheError) {
  listener_.reset();  // the port refuses from now on
  clients_.push_back(std::make_unique<End>());
  End& client = *clients_.back();
  if (const std::error_code now = loop_->connect_stream(client.slot, address_, client)) {
    EXPECT_EQ(now, std::errc::connection_refused);
    return;
  }
  ASSERT_TRUE(run_until([&] { return bool(client.error) || client.connected; }));
  EXPECT_FALSE(client.connected);
  EXPECT_EQ(client.error, std::errc::connection_refused);
}

TEST_P(Streams, ClosingWithBytesStillUnsentEndsThePeerAndFreesTheQueue) {
  End& client = connect();
  ASSERT_TRUE(run_until([&] { return client.connected && accepted_.size() == 1; }));
  client.stream().pause_reading();
  {
    End& server = *accepted_[0];
    server.send(pattern(16u << 20));
    run_for(50ms);
    ASSERT_FALSE(server.out.empty());
  }
  accepted_.clear();  // closes the stream, then frees the queue it was sending
  client.stream().resume_reading();
  ASSERT_TRUE(run_until([&] { return client.ended || bool(client.error); }));
  EXPECT_LT(client.received.size(), 16u << 20);
}

TEST_P(Streams, AStreamClosedFromItsOwnCallbackLeavesLaterStreamsApart) {
  on_server_data_ = [](End& e) {
    e.send(e.received);
    e.received.clear();
  };
  End& first = connect();
  ASSERT_TRUE(run_until([&] { return first.connected && accepted_.size() == 1; }));
  accepted_[0]->close_on_end = true;
  first.stream().shutdown_write();
  ASSERT_TRUE(run_until([&] { return first.ended; }));  // the server closed

  // Each later connection has its own identity in the loop: neither sees
  // the other's bytes or end.
  End& second = connect();
  End& third = connect();
  ASSERT_TRUE(
      run_until([&] { return second.connected && third.connected && accepted_.size() == 3; }));
  second.send("second");
  third.send("third");
  ASSERT_TRUE(run_until([&] { return second.received.size() >= 6 && third.received.size() >= 5; }));
  EXPECT_EQ(second.received, "second");
  EXPECT_EQ(third.received, "third");
  accepted_[1]->stream().shutdown_write();
  ASSERT_TRUE(run_until([&] { return second.ended; }));
  EXPECT_FALSE(third.ended);
}

TEST_P(Streams, ManyConnectionsReceivingAtOnceLoseNothing) {
  constexpr int connections = 200;
  const std::string message = pattern(64u << 10);
  for (int i = 0; i < connections; ++i) connect();
  ASSERT_TRUE(run_until([&] { return accepted_.size() == connections; }));
  for (auto& server : accepted_) {
    server->send(message);
    server->stream().shutdown_write();
  }
  ASSERT_TRUE(run_until([&] {
    for (auto& c : clients_) {
      if (!c->ended && !c->error) return false;
    }
    return true;
  }));
  for (auto& c : clients_) {
    EXPECT_FALSE(c->error) << c->error.message();
    EXPECT_TRUE(c->received == message);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, Streams, ::testing::ValuesIn(available_backends()),
                         backend_name);

}  // namespace
}  // namespace duplex::test
