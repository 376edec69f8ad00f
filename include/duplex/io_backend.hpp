/// @file
/// Which kernel interface the event loops of a `Server` or a `Client` use.
#pragma once

#include <optional>
#include <string_view>

namespace duplex {

/// The kernel interface under the event loops.
///
/// - `epoll`: readiness, then one `recv`/`send` system call per socket per
///   iteration. Works everywhere.
/// - `io_uring`: completions. Every receive and send of an iteration goes to
///   the kernel in one `io_uring_enter`, receives land in buffers the loop
///   provides, accepts are multishot. Needs Linux 6.0 or later and a process
///   allowed to make rings (containers often forbid it).
/// - `automatic`: io_uring when the kernel gives this process a ring with
///   what Duplex needs, else epoll (the reason is logged once). The
///   environment variable `DUPLEX_IO` (`epoll` or `io_uring`) decides it
///   instead, for operators and test runs; with `DUPLEX_IO=io_uring` a
///   kernel that refuses is an error, not a fallback.
enum class IoBackend : unsigned char { automatic, epoll, io_uring };

/// "auto", "epoll", "io_uring".
std::string_view to_string(IoBackend backend) noexcept;

/// The backend named by `text` ("auto", "epoll", "io_uring"), if any.
std::optional<IoBackend> parse_io_backend(std::string_view text) noexcept;

}  // namespace duplex
