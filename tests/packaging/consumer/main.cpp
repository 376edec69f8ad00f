// Uses the installed headers and library; exits non-zero if they misbehave.
#include <duplex/protocol/connection.hpp>
#include <duplex/protocol/handshake_keys.hpp>

#include <cstdio>

int main() {
  using namespace duplex::protocol;
  if (compute_accept_key("dGhlIHNhbXBsZSBub25jZQ==") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") return 1;
  Connection server({.role = Role::server});
  std::uint8_t wire[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
  std::span<std::uint8_t> in(wire);
  const Event e = server.receive(in);
  if (e.type != EventType::message || e.text() != "Hello") return 2;
  std::puts("consumer ok");
  return 0;
}
