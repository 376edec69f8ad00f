// A peer that sends but never reads must not grow the server's memory past
// the configured limit: the server stops reading it, and resumes when it reads.
#include "raw_client.hpp"
#include "running_server.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>

#include <atomic>

namespace duplex::test {
namespace {

using namespace std::chrono_literals;

TEST(Backpressure, NonReadingPeerIsPausedAtTheLimitAndResumedLater) {
  constexpr std::size_t limit = 256 * 1024;
  constexpr std::size_t message = 4096;
  ServerOptions o;
  o.max_backpressure = limit;
  o.ping_interval = 0ms;
  std::atomic<std::size_t> processed{0};
  std::atomic<std::size_t> max_buffered{0};
  std::atomic<int> drains{0};
  RunningServer rs(o, [&](Server& s) {
    s.websocket("/", {.on_message =
                          [&](WebSocket& ws, Message m) {
                            ws.send(m.data, m.opcode);
                            processed.fetch_add(1);
                            std::size_t b = ws.buffered_amount();
                            std::size_t prev = max_buffered.load();
                            while (b > prev && !max_buffered.compare_exchange_weak(prev, b)) {
                            }
                          },
                      .on_drain = [&](WebSocket&) { drains.fetch_add(1); }});
  });
  RawClient raw(rs.port());
  raw.upgrade();
  // Small kernel buffers so the test reaches the limit quickly.
  const int small = 64 * 1024;
  ::setsockopt(raw.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  ::fcntl(raw.fd(), F_SETFL, ::fcntl(raw.fd(), F_GETFL) | O_NONBLOCK);

  // Write without ever reading until the server stops taking input.
  const Bytes one = frame({.opcode = Opcode::binary, .masked = true}, std::string(message, 'b'));
  std::size_t sent_messages = 0;
  std::size_t partial = 0;
  for (int stalls = 0; stalls < 50;) {
    const ssize_t n = ::send(raw.fd(), one.data() + partial, one.size() - partial, MSG_NOSIGNAL);
    if (n > 0) {
      partial += static_cast<std::size_t>(n);
      if (partial == one.size()) {
        partial = 0;
        ++sent_messages;
      }
      stalls = 0;
      continue;
    }
    ++stalls;
    std::this_thread::sleep_for(10ms);
  }
  const std::size_t at_stall = processed.load();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(processed.load(), at_stall) << "the server must stop reading a peer that does not read";
  EXPECT_LT(at_stall, sent_messages) << "some input must be waiting, unread";
  // The server's queue never went past the limit by more than one reply.
  EXPECT_LE(max_buffered.load(), limit + message + 16);
  EXPECT_GT(max_buffered.load(), limit / 2) << "the limit was actually reached";

  // Now read everything: the server resumes and every message comes back.
  // The rest of a half-sent message goes out meanwhile, from another thread,
  // since the server only takes it once we read.
  ::fcntl(raw.fd(), F_SETFL, ::fcntl(raw.fd(), F_GETFL) & ~O_NONBLOCK);
  if (partial) ++sent_messages;
  std::thread finisher([&] {
    if (partial)
      raw.send_bytes(std::span<const std::uint8_t>(one.data() + partial, one.size() - partial));
  });
  std::size_t echoed = 0;
  while (echoed < sent_messages) {
    auto f = raw.read_frame(10s);
    if (!f || f->payload.size() != message) break;
    ++echoed;
  }
  finisher.join();
  EXPECT_EQ(echoed, sent_messages);

  EXPECT_EQ(processed.load(), sent_messages);
  EXPECT_GE(drains.load(), 1) << "on_drain tells the application the buffer emptied";
}

}  // namespace
}  // namespace duplex::test
