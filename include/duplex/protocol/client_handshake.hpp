/// @file
/// The client's side of the opening handshake (RFC 6455 section 4.1),
/// without I/O: it writes the upgrade request (with a fresh random key and
/// the extensions' offers), then reads the server's answer: 101, checked
/// against what was offered, or a refusal whose status, headers and body it
/// keeps for the application.
///
///     ClientHandshake hs;
///     hs.start({.host = "example.com", .target = "/chat"}, out);
///     // ... write out, read input ...
///     switch (hs.receive(input)) {
///       case HandshakeEvent::opened:   /* input now holds frames */ break;
///       case HandshakeEvent::rejected: /* hs.status(), hs.body() */ break;
///       case HandshakeEvent::failed:   /* hs.error(), hs.detail() */ break;
///       default: break;                // more bytes needed
///     }
#pragma once

#include <duplex/protocol/byte_buffer.hpp>
#include <duplex/protocol/extension.hpp>
#include <duplex/protocol/handshake.hpp>
#include <duplex/protocol/http.hpp>
#include <duplex/protocol/output_queue.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace duplex::protocol {

/// What the client asks for. Views: used during `start()` only.
struct ClientRequest {
  std::string_view host;          ///< Host header: "example.com", "example.com:8080", "[::1]:9002"
  std::string_view target = "/";  ///< path and query
  std::span<const std::string> subprotocols;  ///< offered, in order of preference
  std::string_view origin;                    ///< Origin header, or empty for none
  std::span<const HttpHeader> headers;        ///< extra request headers
  /// Extensions to offer, in order of preference (each may make several
  /// offers). They must outlive the handshake.
  std::span<const PerMessageExtension* const> extensions;
};

/// One connection's opening handshake, client side. Used on one thread.
class ClientHandshake {
 public:
  /// `limits` bound the response head; a refusal's body is kept up to
  /// `max_rejection_body` bytes.
  explicit ClientHandshake(HttpLimits limits = {}, std::size_t max_rejection_body = 64 * 1024)
      : limits_(limits), max_rejection_body_(max_rejection_body) {}
  ClientHandshake(const ClientHandshake&) = delete;
  ClientHandshake& operator=(const ClientHandshake&) = delete;

  /// Queues the upgrade request to `out`. `UsageError::invalid_header`,
  /// `invalid_request_target` or `invalid_subprotocol`, with nothing queued,
  /// when the request cannot be sent as asked.
  std::error_code start(const ClientRequest& request, OutputQueue& out);

  /// Takes the server's bytes and returns what they made:
  /// - `none`: more bytes are needed; `input` was taken in whole.
  /// - `opened`: the server switched protocols; `agreement()` holds what was
  ///   agreed, and `input` now starts at the first frame (possibly in a
  ///   copy this object keeps: process it before destroying this object).
  /// - `rejected`: another status; `status()`, `headers()` and `body()`
  ///   describe it (the body is read up to its Content-Length, or to the
  ///   end of the stream: see `end_of_input`).
  /// - `failed`: the answer breaks RFC 6455 or our offers; see `error()`.
  /// After any event but `none`, further calls return `none`.
  HandshakeEvent receive(std::span<std::uint8_t>& input);

  /// The server ended the stream: a refusal whose body runs to the end of
  /// the stream is complete (`rejected`); otherwise the handshake did not
  /// finish (`none`: the caller reports the lost connection).
  HandshakeEvent end_of_input();

  /// After `opened`: what both ends agreed (move the transform out).
  Agreement& agreement() noexcept { return agreement_; }
  /// After `rejected`: the status, the headers (views into this object) and
  /// the body (at most `max_rejection_body` bytes).
  /// @{
  int status() const noexcept { return response_.status; }
  const HttpHeaders& headers() const noexcept { return response_.headers; }
  std::string_view body() const noexcept;
  /// @}
  /// After `failed`: why, and for an extension answer we refuse, the rule
  /// it broke.
  /// @{
  std::error_code error() const noexcept { return error_; }
  const std::string& detail() const noexcept { return detail_; }
  /// @}

  /// The Sec-WebSocket-Key sent.
  const std::string& key() const noexcept { return key_; }

 private:
  HandshakeEvent check_switch(std::span<std::uint8_t>& input, std::span<std::uint8_t> data);
  HandshakeEvent fail(std::error_code ec, std::string detail = {});
  bool body_complete() const noexcept;

  enum class Step : std::uint8_t { idle, awaiting_response, reading_body, done };

  HttpLimits limits_;
  std::size_t max_rejection_body_;
  Step step_ = Step::idle;
  std::string key_;
  std::string expected_accept_;
  std::vector<std::string> offered_subprotocols_;
  std::vector<const PerMessageExtension*> offered_extensions_;
  ByteBuffer collected_;  // a response that arrived in pieces, or a refusal being read
  HttpResponseHead response_;
  std::size_t body_start_ = 0;
  std::size_t body_length_ = 0;  // from Content-Length; SIZE_MAX: to the end of the stream
  Agreement agreement_;
  std::error_code error_;
  std::string detail_;
};

}  // namespace duplex::protocol
