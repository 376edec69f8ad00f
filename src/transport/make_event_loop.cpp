// Choosing the backend of a loop, and the names of the backends.
#include "epoll_loop.hpp"
#include "event_loop.hpp"
#include "uring_loop.hpp"

#include <cstdlib>

namespace duplex {

std::string_view to_string(IoBackend backend) noexcept {
  switch (backend) {
    case IoBackend::automatic: return "auto";
    case IoBackend::epoll: return "epoll";
    case IoBackend::io_uring: return "io_uring";
  }
  return "auto";
}

std::optional<IoBackend> parse_io_backend(std::string_view text) noexcept {
  if (text == "auto") return IoBackend::automatic;
  if (text == "epoll") return IoBackend::epoll;
  if (text == "io_uring" || text == "io-uring" || text == "uring") return IoBackend::io_uring;
  return std::nullopt;
}

}  // namespace duplex

namespace duplex::transport {
namespace {

// What `automatic` means here: DUPLEX_IO if set, else io_uring when the
// kernel gives this process a usable ring.
IoBackend resolve(IoBackend backend, std::string* note) {
  if (backend != IoBackend::automatic) return backend;
  std::string ignored;
  if (const char* env = std::getenv("DUPLEX_IO"); env && *env) {
    const auto named = parse_io_backend(env);
    if (named && *named != IoBackend::automatic) return *named;
    // Said, not silently dropped; the value is the user's own, but bounded.
    if (!named) {
      ignored = "DUPLEX_IO=" + std::string(env).substr(0, 40) +
                " is not auto, epoll or io_uring (ignored); ";
    }
  }
  std::string why;
  if (UringLoop::probe(why)) {
    if (note) *note = ignored + why + "; using epoll";
    return IoBackend::epoll;
  }
  if (note && !ignored.empty()) *note = ignored + "using io_uring";
  return IoBackend::io_uring;
}

}  // namespace

std::unique_ptr<EventLoop> make_event_loop(IoBackend backend, bool single_thread,
                                           std::string* note) {
  if (resolve(backend, note) == IoBackend::io_uring) {
    return std::make_unique<UringLoop>(single_thread);
  }
  return std::make_unique<EpollLoop>();
}

IoBackend backend_of(const EventLoop& loop) noexcept {
  return dynamic_cast<const UringLoop*>(&loop) ? IoBackend::io_uring : IoBackend::epoll;
}

}  // namespace duplex::transport
