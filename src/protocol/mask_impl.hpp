// The masking strategies one by one, for the tests and the benchmark that
// compare them; apply_mask() (duplex/protocol/mask.hpp) picks the best one
// at start-up.
#pragma once

#include <duplex/protocol/frame.hpp>

#include <cstddef>
#include <cstdint>

namespace duplex::protocol {

namespace mask_impl {
std::size_t bytewise(std::uint8_t* data, std::size_t size, MaskKey key, std::size_t phase) noexcept;
std::size_t word64(std::uint8_t* data, std::size_t size, MaskKey key, std::size_t phase) noexcept;
#if defined(__x86_64__)
std::size_t sse2(std::uint8_t* data, std::size_t size, MaskKey key, std::size_t phase) noexcept;
std::size_t avx2(std::uint8_t* data, std::size_t size, MaskKey key, std::size_t phase) noexcept;
bool cpu_has_avx2() noexcept;
#endif
}  // namespace mask_impl

}  // namespace duplex::protocol
