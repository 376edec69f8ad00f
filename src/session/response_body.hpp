// A response body that is read as the connection's output drains (a file,
// a part at a time), so that a connection holds a small bound of it however
// large it is. Loop thread only.
#pragma once

#include <duplex/protocol/output_queue.hpp>

#include <cstddef>
#include <cstdint>

namespace duplex::session {

class ResponseBody {
 public:
  enum class Fill : std::uint8_t {
    more,    // appended a part; more is left
    done,    // appended the last part (or there was nothing left)
    failed,  // cannot go on (a read error, a file that shrank)
  };

  virtual ~ResponseBody() = default;
  // Appends the next part of the body to `out`, at most `max` bytes.
  virtual Fill fill(protocol::OutputQueue& out, std::size_t max) = 0;
};

}  // namespace duplex::session
