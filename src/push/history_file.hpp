// The memory broker's streams in a file, so that a restart keeps channel
// history and epochs (`PushOptions::history_file`): written on a graceful
// stop, read at start. One JSON object per line and stream:
//
//   {"channel":"news","epoch":"3Qryxp20","top":7,"size":100,"ttl":300,
//    "publications":[{"offset":6,"data":{..},"info":{..},"at":1765142000123}, ...]}
//
// `at` is the publication's time (Unix milliseconds): time to live counts
// across the restart.
#pragma once

#include "memory_broker.hpp"

#include <duplex/status.hpp>

#include <string>

namespace duplex::push {

// Writes every stream to `path` (through a temporary file renamed over it,
// so a crash mid-write leaves the last good file).
Status save_history(MemoryBroker& broker, const std::string& path);

// Restores the streams in `path`; a missing file is not an error (a first
// start). Lines that do not parse are skipped and counted in `skipped`.
Status load_history(MemoryBroker& broker, const std::string& path, std::size_t& skipped);

}  // namespace duplex::push
