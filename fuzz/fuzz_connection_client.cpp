// Fuzzes the connection state machine in the client role.
#include "fuzz_connection.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return duplex::fuzz::run_connection(duplex::protocol::Role::client, data, size);
}
