/// @file
/// The server's side of the opening handshake (RFC 6455 section 4.2),
/// without I/O: fed the connection's first bytes, it tells a plain HTTP
/// request from a WebSocket upgrade, validates the upgrade and applies the
/// Origin policy, then turns the application's decision into the response:
/// 101 with the chosen subprotocol and the negotiated extension, or a
/// refusal with a status and a body.
///
///     ServerHandshake hs(policy);
///     switch (hs.receive(input, out)) {
///       case HandshakeEvent::upgrade_request: hs.accept({.extensions = exts}, out, agreed); break;
///       case HandshakeEvent::http_request:    /* answer hs.request() yourself */ break;
///       case HandshakeEvent::failed:          /* out holds the 4xx; close once written */ break;
///       default: break;                       // more bytes needed
///     }
#pragma once

#include <duplex/protocol/byte_buffer.hpp>
#include <duplex/protocol/extension.hpp>
#include <duplex/protocol/extensions.hpp>
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

/// A validated upgrade request. Every view points into the request bytes:
/// see `ServerHandshake::receive` for how long they live.
struct UpgradeRequest {
  HttpRequestHead head;                        ///< method, path, query, all headers
  std::string_view host;                       ///< the Host header
  std::string_view key;                        ///< Sec-WebSocket-Key
  std::string_view origin;                     ///< empty when the request had none
  std::vector<std::string_view> subprotocols;  ///< offered, in order of preference
  std::vector<Extension> extensions;           ///< offered, in order (copies)
};

/// The server's rules for every handshake it answers. Read-only once made:
/// one policy serves every connection, on any thread.
struct ServerPolicy {
  HttpLimits limits;  ///< request head size and header count
  /// Browser origins allowed to open a WebSocket ("https://example.com",
  /// compared case-insensitively); empty: any. Others are refused with 403.
  std::vector<std::string> allowed_origins;
  /// Whether a request without an Origin header passes a non-empty
  /// allow-list. Browsers always send Origin with a WebSocket request, so
  /// refusing requests without one only shuts out non-browser clients.
  bool allow_missing_origin = true;
};

/// The application's acceptance of an upgrade.
struct AcceptOptions {
  std::string_view subprotocol;         ///< one of the offered ones, or empty for none
  std::span<const HttpHeader> headers;  ///< extra response headers
  /// The extensions we support, in order of preference: the first that
  /// agrees with one of the client's offers is used (they all claim RSV1,
  /// so at most one is).
  std::span<const PerMessageExtension* const> extensions;
};

/// One connection's opening handshake, server side. Used on one thread.
class ServerHandshake {
 public:
  /// `policy` must outlive this object.
  explicit ServerHandshake(const ServerPolicy& policy) noexcept : policy_(&policy) {}
  ServerHandshake(const ServerHandshake&) = delete;
  ServerHandshake& operator=(const ServerHandshake&) = delete;

  /// Takes bytes from the start of the connection and returns what they made:
  /// - `none`: the request head is incomplete; `input` was taken in whole.
  /// - `http_request`: a plain HTTP request, in `request()`; answer it
  ///   yourself (http_response.hpp).
  /// - `upgrade_request`: a valid upgrade the policy allows, in `upgrade()`;
  ///   answer with `accept()` or `reject()`.
  /// - `failed`: malformed, or refused by the policy (`error()` says which);
  ///   the 4xx answer is already in `out`: close once it is written.
  ///
  /// After any event but `none`, `input` starts after the request head (what
  /// follows is the client's first frames) and further calls return `none`
  /// and take nothing. The views of `request()` and `upgrade()` point into
  /// `input` when the head arrived in one piece, or into a copy this object
  /// keeps (and `input` may then point there too): they are valid while this
  /// object lives and the caller's buffer is unchanged.
  HandshakeEvent receive(std::span<std::uint8_t>& input, OutputQueue& out);

  /// The request, after `http_request` or `upgrade_request`.
  const HttpRequestHead& request() const noexcept { return upgrade_.head; }
  /// The upgrade, after `upgrade_request`.
  const UpgradeRequest& upgrade() const noexcept { return upgrade_; }
  /// Why the handshake failed, after `failed`.
  std::error_code error() const noexcept { return error_; }

  /// Accepts the upgrade: queues the 101 response to `out`, with the first
  /// of `options.extensions` that agrees with an offer, and fills in
  /// `agreed`. `UsageError::invalid_subprotocol` (a subprotocol the client
  /// did not offer) or `UsageError::invalid_header`, with nothing queued,
  /// when the options cannot be honoured.
  std::error_code accept(const AcceptOptions& options, OutputQueue& out, Agreement& agreed);

  /// Refuses the upgrade with `status` (400-599; other values become 403),
  /// a plain-text `body` and extra `headers`. `UsageError::invalid_header`,
  /// with nothing queued, when a header cannot be sent.
  std::error_code reject(int status, std::string_view body, std::span<const HttpHeader> headers,
                         OutputQueue& out);

 private:
  HandshakeEvent fail(std::error_code ec, OutputQueue& out);

  const ServerPolicy* policy_;
  ByteBuffer collected_;  // a head that arrived in pieces
  UpgradeRequest upgrade_;
  std::error_code error_;
  bool done_ = false;  // the head was read: no more input is taken
};

}  // namespace duplex::protocol
