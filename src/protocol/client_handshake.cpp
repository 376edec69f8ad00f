#include "header_text.hpp"

#include <duplex/protocol/client_handshake.hpp>
#include <duplex/protocol/error.hpp>
#include <duplex/protocol/handshake_keys.hpp>

#include <algorithm>
#include <charconv>
#include <limits>

namespace duplex::protocol {
namespace {

std::string_view as_text(std::span<const std::uint8_t> bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

std::error_code ClientHandshake::start(const ClientRequest& request, OutputQueue& out) {
  if (request.host.empty() || !detail::is_safe_value(request.host)) {
    return UsageError::invalid_header;
  }
  if (request.target.empty() || request.target.front() != '/' ||
      std::any_of(request.target.begin(), request.target.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F; })) {
    return UsageError::invalid_request_target;
  }
  if (!detail::is_safe_value(request.origin)) return UsageError::invalid_header;
  std::string protocols;
  for (const std::string& p : request.subprotocols) {
    if (!detail::is_token(p)) return UsageError::invalid_subprotocol;
    if (!protocols.empty()) protocols += ", ";
    protocols += p;
  }
  std::string offers;
  std::vector<const PerMessageExtension*> offered;
  for (const PerMessageExtension* extension : request.extensions) {
    for (const Extension& offer : extension->offers()) {
      if (!offers.empty()) offers += ", ";
      offers += format_extension(offer);
    }
    offered.push_back(extension);
  }
  if (!detail::is_safe_value(offers)) return UsageError::invalid_header;

  std::string key = generate_client_key();
  std::string text;
  text.reserve(256);
  text.append("GET ").append(request.target).append(" HTTP/1.1\r\n");
  detail::append_header(text, "Host", request.host);
  detail::append_header(text, "Upgrade", "websocket");
  detail::append_header(text, "Connection", "Upgrade");
  detail::append_header(text, "Sec-WebSocket-Key", key);
  detail::append_header(text, "Sec-WebSocket-Version", "13");
  if (!request.origin.empty()) detail::append_header(text, "Origin", request.origin);
  if (!protocols.empty()) detail::append_header(text, "Sec-WebSocket-Protocol", protocols);
  if (!offers.empty()) detail::append_header(text, "Sec-WebSocket-Extensions", offers);
  if (!detail::append_user_headers(text, request.headers)) return UsageError::invalid_header;
  text.append("\r\n");

  expected_accept_ = compute_accept_key(key);
  key_ = std::move(key);
  offered_subprotocols_.assign(request.subprotocols.begin(), request.subprotocols.end());
  offered_extensions_ = std::move(offered);
  step_ = Step::awaiting_response;
  out.append(text);
  return {};
}

HandshakeEvent ClientHandshake::receive(std::span<std::uint8_t>& input) {
  switch (step_) {
    case Step::awaiting_response: break;
    case Step::reading_body:
      collected_.append(input.first(
          std::min(input.size(), body_start_ + max_rejection_body_ - collected_.size())));
      input = input.subspan(input.size());
      if (body_complete()) {
        step_ = Step::done;
        return HandshakeEvent::rejected;
      }
      return HandshakeEvent::none;
    case Step::idle:
    case Step::done: return HandshakeEvent::none;
  }
  std::span<std::uint8_t> data = input;
  if (!collected_.empty()) {
    collected_.append(input);
    data = collected_.span();
  }
  const std::error_code ec = parse_response_head(as_text(data), limits_, response_);
  if (ec == HandshakeError::http_incomplete) {
    if (collected_.empty()) collected_.append(input);
    input = input.subspan(input.size());
    return HandshakeEvent::none;
  }
  if (ec) {
    input = input.subspan(input.size());
    return fail(ec);
  }
  if (response_.status != 101) {
    // Keep the refusal (its head and what came of its body) in our own
    // buffer: its views must outlive the caller's input.
    if (collected_.empty()) collected_.append(input);
    input = input.subspan(input.size());
    parse_response_head(collected_.view(), limits_, response_);
    body_start_ = response_.head_size;
    body_length_ = std::numeric_limits<std::size_t>::max();
    const std::string_view length = response_.headers.get("Content-Length");
    std::size_t n = 0;
    if (!length.empty() &&
        std::from_chars(length.data(), length.data() + length.size(), n).ec == std::errc{}) {
      body_length_ = n;
    }
    if (collected_.size() > body_start_ + max_rejection_body_) {
      collected_.resize(body_start_ + max_rejection_body_);
    }
    // Room for the whole (kept) body now, so that the header views stay put
    // while it arrives; parse again, as making room may have moved them.
    const std::size_t want = std::min(body_length_, max_rejection_body_);
    const std::size_t have = collected_.size() - body_start_;
    if (want > have) {
      collected_.prepare(want - have);
      parse_response_head(collected_.view(), limits_, response_);
    }
    if (body_complete()) {
      step_ = Step::done;
      return HandshakeEvent::rejected;
    }
    step_ = Step::reading_body;
    return HandshakeEvent::none;
  }
  return check_switch(input, data);
}

HandshakeEvent ClientHandshake::check_switch(std::span<std::uint8_t>& input,
                                             std::span<std::uint8_t> data) {
  const HttpHeaders& h = response_.headers;
  input = data.subspan(response_.head_size);
  if (!h.has_token("Upgrade", "websocket") || !h.has_token("Connection", "upgrade")) {
    return fail(HandshakeError::not_an_upgrade);
  }
  if (h.count("Sec-WebSocket-Accept") != 1 || h.get("Sec-WebSocket-Accept") != expected_accept_) {
    return fail(HandshakeError::invalid_accept);
  }

  Agreement agreed;
  const std::size_t protocol_fields = h.count("Sec-WebSocket-Protocol");
  if (protocol_fields > 1) return fail(HandshakeError::unexpected_subprotocol);
  if (protocol_fields == 1) {
    const std::string_view chosen = h.get("Sec-WebSocket-Protocol");
    if (std::find(offered_subprotocols_.begin(), offered_subprotocols_.end(), chosen) ==
        offered_subprotocols_.end()) {
      return fail(HandshakeError::unexpected_subprotocol);
    }
    agreed.subprotocol = std::string(chosen);
  }

  std::vector<Extension> accepted;
  for (const HttpHeader& field : h.fields()) {
    if (!iequals(field.name, "Sec-WebSocket-Extensions")) continue;
    if (auto bad = parse_extension_list(field.value, accepted)) return fail(bad);
  }
  for (std::size_t i = 0; i < accepted.size(); ++i) {
    const Extension& answer = accepted[i];
    const auto ours =
        std::find_if(offered_extensions_.begin(), offered_extensions_.end(),
                     [&](const PerMessageExtension* e) { return iequals(e->name(), answer.name); });
    if (ours == offered_extensions_.end()) return fail(HandshakeError::unexpected_extension);
    // Every extension we offer claims RSV1: the server may accept one.
    if (i > 0) return fail(HandshakeError::unexpected_extension);
    std::error_code bad;
    std::string why;
    agreed.transform = (*ours)->accept(answer, bad, why);
    if (!agreed.transform) return fail(bad, format_extension(answer) + ": " + why);
    agreed.extensions = format_extension(answer);
  }
  agreement_ = std::move(agreed);
  step_ = Step::done;
  return HandshakeEvent::opened;
}

HandshakeEvent ClientHandshake::end_of_input() {
  if (step_ != Step::reading_body) return HandshakeEvent::none;
  step_ = Step::done;
  return HandshakeEvent::rejected;
}

HandshakeEvent ClientHandshake::fail(std::error_code ec, std::string detail) {
  step_ = Step::done;
  error_ = ec;
  detail_ = std::move(detail);
  return HandshakeEvent::failed;
}

bool ClientHandshake::body_complete() const noexcept {
  const std::size_t have = collected_.size() - body_start_;
  return have >= body_length_ || have >= max_rejection_body_;
}

std::string_view ClientHandshake::body() const noexcept {
  if (collected_.size() <= body_start_) return {};
  const std::size_t n = std::min(collected_.size() - body_start_, body_length_);
  return collected_.view().substr(body_start_, n);
}

}  // namespace duplex::protocol
