// The WebSocket opening handshake (RFC 6455 section 4), both roles, without
// I/O: the server validates an upgrade request and builds the 101 response or
// a 4xx rejection; the client builds a request and validates the response.
#pragma once

#include <duplex/protocol/extensions.hpp>
#include <duplex/protocol/http.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace duplex::protocol {

// ---------------------------------------------------------------- server side

struct UpgradeRequest {
  HttpRequestHead head;  // method, path, query, all headers (views)
  std::string_view host;
  std::string_view key;
  std::string_view origin;                     // empty when the request had none
  std::vector<std::string_view> subprotocols;  // offered, in order of preference
  std::vector<Extension> extensions;           // offered, in order
};

// True when the request asks for a WebSocket (Upgrade lists "websocket"), so
// that a server can tell upgrades from plain HTTP requests on the same port.
bool wants_websocket_upgrade(const HttpRequestHead& head) noexcept;

// Checks that `out.head` (already parsed) is a valid upgrade and fills in the
// other fields. The errors map to HTTP statuses with handshake_status().
std::error_code validate_upgrade_request(UpgradeRequest& out);

// parse_request_head() then validate_upgrade_request().
std::error_code parse_upgrade_request(std::string_view in, const HttpLimits& limits,
                                      UpgradeRequest& out);

// The HTTP status a handshake error is answered with: 405 for a method other
// than GET, 426 for an unsupported version, 431 for oversized headers, 403 for
// a refused Origin, 400 for the rest.
int handshake_status(std::error_code ec) noexcept;

struct AcceptOptions {
  std::string_view subprotocol;         // must be one of the offered ones, or empty
  std::string_view extensions;          // the Sec-WebSocket-Extensions response value
  std::span<const HttpHeader> headers;  // extra response headers
};

// "HTTP/1.1 101 Switching Protocols" with the accept key. Throws
// std::invalid_argument for a subprotocol that was not offered or a header
// that would break the response (CR/LF, bad name).
std::string build_accept_response(const UpgradeRequest& request, const AcceptOptions& options);

// The head of an HTTP/1.1 response (status line, Content-Type,
// Content-Length, Connection: close, extra headers, blank line): for HEAD
// requests and for bodies written separately.
std::string build_http_response_head(int status, std::size_t content_length,
                                     std::string_view content_type,
                                     std::span<const HttpHeader> headers = {});

// A complete HTTP/1.1 response with a plain-text body and Connection: close.
std::string build_http_response(int status, std::string_view body,
                                std::span<const HttpHeader> headers = {},
                                std::string_view content_type = "text/plain; charset=utf-8");

// The rejection for a handshake error: the status from handshake_status(),
// the error's message as the body, and the headers the RFC asks for
// (Sec-WebSocket-Version: 13 with 426, Allow: GET with 405).
std::string build_handshake_rejection(std::error_code ec);

// ---------------------------------------------------------------- client side

struct ClientRequestOptions {
  std::string_view host;          // Host header: "example.com", "example.com:8080", "[::1]:9002"
  std::string_view target = "/";  // path and query
  std::span<const std::string> subprotocols;
  std::span<const Extension> extensions;  // offers, in order of preference
  std::string_view origin;
  std::span<const HttpHeader> headers;  // extra request headers
};

struct ClientHandshakeResult {
  HttpResponseHead head;  // views into the response bytes
  std::string subprotocol;
  std::vector<Extension> extensions;  // accepted by the server
  std::size_t consumed = 0;           // response head bytes; what follows is frame data
};

class ClientHandshake {
 public:
  // Builds the upgrade request with a fresh random key. Throws
  // std::invalid_argument for headers or subprotocols that cannot be sent.
  std::string start(const ClientRequestOptions& options);

  // Parses and checks the response at the start of `in`. HandshakeError::http_incomplete
  // means "read more"; HandshakeError::rejected means a non-101 status (the
  // head is in `out`, the body follows it).
  std::error_code finish(std::string_view in, ClientHandshakeResult& out,
                         const HttpLimits& limits = {}) const;

  const std::string& key() const noexcept { return key_; }

 private:
  std::string key_;
  std::string expected_accept_;
  std::vector<std::string> offered_subprotocols_;
  std::vector<std::string> offered_extensions_;
};

}  // namespace duplex::protocol
