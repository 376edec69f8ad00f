// The error model: each domain's codes carry their category's name and
// message, and match the conditions a caller tests for, as do the system's
// codes for the same situations.
#include <duplex/error.hpp>

#include <gtest/gtest.h>

#include <system_error>

namespace duplex::test {
namespace {

TEST(Errors, EachDomainHasItsOwnCategory) {
  EXPECT_STREQ(make_error_code(ProtocolError::invalid_utf8).category().name(), "duplex.protocol");
  EXPECT_STREQ(make_error_code(HandshakeError::invalid_key).category().name(), "duplex.handshake");
  EXPECT_STREQ(make_error_code(UsageError::connection_closed).category().name(), "duplex.usage");
  EXPECT_STREQ(make_error_code(TransportError::tls_configuration).category().name(),
               "duplex.transport");
  EXPECT_STREQ(make_error_code(ClientError::invalid_url).category().name(), "duplex.client");
}

TEST(Errors, CodesMatchTheirConditions) {
  EXPECT_EQ(make_error_code(ProtocolError::message_too_big), Condition::protocol_violation);
  EXPECT_EQ(make_error_code(HandshakeError::rejected), Condition::handshake_failed);
  EXPECT_EQ(make_error_code(HandshakeError::origin_not_allowed), Condition::handshake_failed);
  EXPECT_EQ(make_error_code(UsageError::connection_closed), Condition::connection_closed);
  EXPECT_EQ(make_error_code(UsageError::invalid_close_code), Condition::invalid_argument);
  EXPECT_EQ(make_error_code(TransportError::tls_handshake_failed), Condition::tls_failed);
  EXPECT_EQ(make_error_code(TransportError::connection_lost), Condition::connection_failed);
  EXPECT_EQ(make_error_code(ClientError::connect_timeout), Condition::timed_out);
  EXPECT_EQ(make_error_code(ClientError::handshake_timeout), Condition::timed_out);
  EXPECT_EQ(make_error_code(ClientError::unsupported_scheme), Condition::invalid_argument);

  EXPECT_NE(make_error_code(ProtocolError::invalid_utf8), Condition::handshake_failed);
  EXPECT_NE(make_error_code(ClientError::connect_timeout), Condition::connection_failed);
}

TEST(Errors, SystemCodesMatchOurConditions) {
  EXPECT_EQ(std::make_error_code(std::errc::connection_refused), Condition::connection_failed);
  EXPECT_EQ(std::make_error_code(std::errc::connection_reset), Condition::connection_failed);
  EXPECT_EQ(std::make_error_code(std::errc::timed_out), Condition::timed_out);
  EXPECT_EQ(std::error_code(ECONNREFUSED, std::system_category()), Condition::connection_failed);
  EXPECT_NE(std::make_error_code(std::errc::timed_out), Condition::connection_failed);
  EXPECT_NE(std::make_error_code(std::errc::permission_denied), Condition::connection_failed);
}

TEST(Errors, ReceivedErrorsMapToTheRightCloseCode) {
  EXPECT_EQ(close_code_for(ProtocolError::invalid_utf8), CloseCode::invalid_payload);
  EXPECT_EQ(close_code_for(ProtocolError::invalid_compressed_data), CloseCode::invalid_payload);
  EXPECT_EQ(close_code_for(ProtocolError::message_too_big), CloseCode::message_too_big);
  EXPECT_EQ(close_code_for(ProtocolError::frame_too_big), CloseCode::message_too_big);
  EXPECT_EQ(close_code_for(ProtocolError::unknown_opcode), CloseCode::protocol_error);
}

TEST(Errors, StatusSaysWhatAndWhy) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_TRUE(static_cast<bool>(ok));
  const Status failed{TransportError::tls_configuration, "cannot use certificate x.pem"};
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.message(), "TLS configuration error: cannot use certificate x.pem");
  EXPECT_EQ(Status{ClientError::invalid_url}.message(), "invalid WebSocket URL");
}

}  // namespace
}  // namespace duplex::test
