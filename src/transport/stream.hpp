// The narrow interface between the transport and what runs over it: a byte
// stream that delivers what it reads to a handler and takes gathered writes
// from an output queue. Backends implement it over sockets (epoll today);
// TLS implements it over another stream. Loop thread only, all of it.
#pragma once

#include "socket.hpp"

#include <duplex/protocol/output_queue.hpp>

#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

namespace duplex::transport {

// What a stream tells its owner. Callbacks run on the loop thread and may
// close the stream (or its owner) from inside; the stream checks for that.
class StreamHandler {
 public:
  // Bytes arrived. The view (into a buffer of the loop's) is valid during
  // the call only; the handler may change the bytes in place (unmasking).
  virtual void on_stream_data(std::span<std::uint8_t> bytes) = 0;
  // The peer finished sending (FIN, or TLS close_notify): nothing more comes.
  virtual void on_stream_end() = 0;
  // The stream failed (reset, TLS error, refused connect): close it.
  virtual void on_stream_error(std::error_code error, std::string_view detail) = 0;
  // A write that returned Write::blocked may go on now.
  virtual void on_stream_writable() = 0;
  // A connect() finished: writes and reads may begin.
  virtual void on_stream_connected() {}

 protected:
  ~StreamHandler() = default;
};

class Stream {
 public:
  enum class Write : std::uint8_t {
    done,  // the queue is empty: everything went to the kernel
    // Bytes are still queued (the kernel took what it could, or they go
    // with the loop's next submission): on_stream_writable() follows once
    // they are all out.
    blocked,
    // The stream failed; on_stream_error() follows at the end of the
    // iteration, never from inside write(): a writer walking many streams
    // (a fan-out) is not re-entered.
    failed,
  };

  virtual ~Stream() = default;

  // Writes what `queue` holds, gathered, and consumes what was taken. The
  // queue must stay alive (and may grow) until the write is done.
  virtual Write write(protocol::OutputQueue& queue) = 0;
  // Backpressure: stop delivering data until resume_reading().
  virtual void pause_reading() noexcept = 0;
  virtual void resume_reading() = 0;
  // After the last write: tell the peer we are done (FIN; TLS sends
  // close_notify first). Reading goes on until the peer's end.
  virtual void shutdown_write() = 0;
  // Closes now; no callback follows.
  virtual void close() noexcept = 0;
  // Bytes a write accepted that have not reached the kernel yet (TLS
  // records waiting for room).
  virtual std::size_t pending() const noexcept { return 0; }
  // Bytes the kernel took that the peer has not acknowledged yet (0 where
  // the stream cannot tell): with what is queued, what tells a peer that
  // reads slowly from one that stopped.
  virtual std::size_t unacknowledged() const noexcept { return 0; }
  // Who hears of this stream's events from now on.
  virtual void set_handler(StreamHandler& handler) noexcept = 0;
};

// Room for a backend's socket stream inside the object that uses it, so
// that a connection needs no allocation of its own for its socket.
class SocketSlot {
 public:
  static constexpr std::size_t capacity = 48;

  SocketSlot() = default;
  SocketSlot(const SocketSlot&) = delete;
  SocketSlot& operator=(const SocketSlot&) = delete;
  ~SocketSlot() { reset(); }

  template <typename T, typename... Args>
  T& emplace(Args&&... args) {
    static_assert(sizeof(T) <= capacity && alignof(T) <= alignof(void*));
    reset();
    T* made = new (storage_) T(std::forward<Args>(args)...);
    stream_ = made;
    return *made;
  }
  // Destroys the stream (closing its socket).
  void reset() noexcept {
    if (stream_) {
      stream_->~Stream();
      stream_ = nullptr;
    }
  }
  Stream* get() noexcept { return stream_; }
  explicit operator bool() const noexcept { return stream_ != nullptr; }

 private:
  alignas(void*) unsigned char storage_[capacity];
  Stream* stream_ = nullptr;
};

// Accepted connections of a listening socket.
class AcceptHandler {
 public:
  virtual void on_accept(int fd, const Address& peer) = 0;
  // Accepting paused for a moment: the process ran out of descriptors or
  // memory (`error` is the errno). Called once per pause.
  virtual void on_accept_paused(int error) = 0;
  // Asked when a hold or pause ends: false holds accepting a while longer
  // (the handler has no room for more yet).
  virtual bool may_accept() { return true; }

 protected:
  ~AcceptHandler() = default;
};

class Listener {
 public:
  virtual ~Listener() = default;
  // Stops accepting and closes the listening socket.
  virtual void close() noexcept = 0;
  // Stops accepting for `ms` milliseconds, and as long after as the
  // handler's may_accept() says no: new connections wait in the kernel's
  // backlog meanwhile. May be called from on_accept (connections the kernel
  // already handed over may still arrive).
  virtual void hold(std::int64_t ms) noexcept = 0;
};

// A descriptor to be told about when it is readable (a signalfd, say).
class ReadableHandler {
 public:
  virtual void on_readable() = 0;

 protected:
  ~ReadableHandler() = default;
};

}  // namespace duplex::transport
