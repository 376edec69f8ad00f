/// @file
/// Payload masking (RFC 6455 section 5.3): XOR with a 4-byte key that repeats
/// from the first payload byte. `phase` is the position of data[0] within the
/// payload modulo 4, so a payload that arrives in pieces can be unmasked piece
/// by piece; each call returns the phase for the byte after the last one.
#pragma once

#include <duplex/protocol/frame.hpp>

#include <cstddef>
#include <cstdint>

namespace duplex::protocol {

/// Unmasks (or masks: the operation is its own inverse) in place, using the
/// widest vector unit the CPU offers.
std::size_t apply_mask(std::uint8_t* data, std::size_t size, MaskKey key,
                       std::size_t phase = 0) noexcept;

/// Masks `size` bytes from `src` into `dst` (which may not overlap), so that a
/// client can frame and mask a message in one pass over it.
std::size_t copy_masked(std::uint8_t* dst, const std::uint8_t* src, std::size_t size, MaskKey key,
                        std::size_t phase = 0) noexcept;

}  // namespace duplex::protocol
