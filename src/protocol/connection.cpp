#include <duplex/protocol/connection.hpp>
#include <duplex/protocol/mask.hpp>

#include <algorithm>
#include <cstring>

namespace duplex::protocol {
namespace {

// Reassembly buffers up to this size are kept for the next message; larger
// ones are freed so one big message does not pin memory on an idle connection.
constexpr std::size_t kept_buffer_bytes = 16 * 1024;

// Scratch for encoding outgoing messages through a transform: one per thread
// instead of one per connection.
ByteBuffer& encode_scratch() {
  thread_local ByteBuffer scratch;
  return scratch;
}

std::span<const std::uint8_t> bytes_of(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

Connection::Partial& Connection::partial() {
  if (!partial_) partial_ = std::make_unique<Partial>();
  return *partial_;
}

Connection::Connection(const ConnectionOptions& options)
    : transform_(options.transform),
      role_(options.role),
      auto_pong_(options.auto_pong),
      max_fragments_(options.max_fragments),
      max_message_(options.max_message_size),
      max_frame_(options.max_frame_size),
      fragment_size_(clamp_fragment_size(options.fragment_size)),
      mask_source_(options.mask_source) {}

// ------------------------------------------------------------------ receive

void Connection::release_message() noexcept {
  if (!release_message_) return;
  release_message_ = false;
  if (partial_) partial_->message.clear_and_trim(kept_buffer_bytes);
}

Event Connection::receive(std::span<std::uint8_t>& in) {
  release_message();
  while (true) {
    // After a failure, or once the peer's close arrived, nothing more it
    // sends has meaning (RFC 6455 5.5.1).
    if (state_ == ConnectionState::failed || close_received_) {
      in = in.subspan(in.size());
      return {};
    }

    if (rx_phase_ == RxPhase::header) {
      if (in.empty()) return {};
      HeaderDecodeResult r;
      if (header_have_ == 0) {
        r = decode_frame_header(in, frame_);
        if (r.status == HeaderStatus::incomplete) {
          std::memcpy(partial().header, in.data(), in.size());  // < 14 bytes
          header_have_ = static_cast<std::uint8_t>(in.size());
          in = in.subspan(in.size());
          return {};
        }
        if (r.status == HeaderStatus::complete) in = in.subspan(r.size);
      } else {
        // The header started in an earlier read: complete it in the partial state.
        const std::size_t take = std::min(max_frame_header_size - header_have_, in.size());
        std::memcpy(partial().header + header_have_, in.data(), take);
        r = decode_frame_header({partial().header, header_have_ + take}, frame_);
        if (r.status == HeaderStatus::incomplete) {
          header_have_ = static_cast<std::uint8_t>(header_have_ + take);
          in = in.subspan(take);
          return {};
        }
        if (r.status == HeaderStatus::complete) in = in.subspan(r.size - header_have_);
        header_have_ = 0;
      }
      if (r.status == HeaderStatus::length_out_of_range)
        return fail(ProtocolError::length_out_of_range, in);
      if (const ProtocolError e = check_header(); e != ProtocolError{}) return fail(e, in);
      frame_remaining_ = frame_.payload_length;
      mask_phase_ = 0;
      rx_phase_ = RxPhase::payload;
      // The previous control frame's payload (maybe the last event's) is done.
      if (is_control_opcode(frame_.opcode) && partial_) partial_->control.clear();
    }

    // ---- control frame payload
    if (is_control_opcode(frame_.opcode)) {
      if ((!partial_ || partial_->control.empty()) && in.size() >= frame_remaining_) {
        auto payload = in.first(frame_remaining_);
        in = in.subspan(frame_remaining_);
        if (frame_.masked) apply_mask(payload.data(), payload.size(), frame_.mask);
        rx_phase_ = RxPhase::header;
        Event e = on_control_frame(payload);
        if (state_ == ConnectionState::failed) in = in.subspan(in.size());
        if (e) return e;
        continue;
      }
      const std::size_t take = std::min<std::uint64_t>(frame_remaining_, in.size());
      if (take > 0) {
        std::uint8_t* dst = partial().control.prepare(take);
        std::memcpy(dst, in.data(), take);
        if (frame_.masked)
          mask_phase_ = static_cast<std::uint8_t>(apply_mask(dst, take, frame_.mask, mask_phase_));
        partial().control.commit(take);
      }
      in = in.subspan(take);
      frame_remaining_ -= take;
      if (frame_remaining_ > 0) return {};
      rx_phase_ = RxPhase::header;
      Event e = on_control_frame(partial().control.span());
      if (state_ == ConnectionState::failed) in = in.subspan(in.size());
      if (e) return e;
      continue;
    }

    // ---- data frame payload, fast path: a whole one-frame message in the
    // input is unmasked in place and handed out without a copy.
    const bool first_frame = frame_.opcode != static_cast<std::uint8_t>(Opcode::continuation);
    if (first_frame && frame_.fin && !message_encoded_ &&
        frame_remaining_ == frame_.payload_length && in.size() >= frame_remaining_) {
      auto payload = in.first(frame_remaining_);
      in = in.subspan(frame_remaining_);
      if (frame_.masked) apply_mask(payload.data(), payload.size(), frame_.mask);
      rx_phase_ = RxPhase::header;
      message_active_ = false;
      if (message_opcode_ == Opcode::text && !is_valid_utf8(payload)) {
        return fail(ProtocolError::invalid_utf8, in);
      }
      Event e;
      e.type = EventType::message;
      e.opcode = message_opcode_;
      e.payload = payload;
      return e;
    }

    // ---- data frame payload, general path: accumulate (and decode).
    const std::size_t take = std::min<std::uint64_t>(frame_remaining_, in.size());
    auto chunk = in.first(take);
    in = in.subspan(take);
    frame_remaining_ -= take;
    if (frame_.masked) {
      mask_phase_ =
          static_cast<std::uint8_t>(apply_mask(chunk.data(), take, frame_.mask, mask_phase_));
    }
    const bool frame_done = frame_remaining_ == 0;
    const bool message_done = frame_done && frame_.fin;
    const bool is_text = message_opcode_ == Opcode::text;
    if (message_encoded_) {
      const std::size_t before = partial().message.size();
      if (auto ec = transform_->decode(chunk, message_done, partial().message, max_message_)) {
        const bool ours = ec.category() == protocol_category();
        return fail(
            ours ? static_cast<ProtocolError>(ec.value()) : ProtocolError::invalid_compressed_data,
            in);
      }
      if (is_text && !utf8_.feed(partial().message.span().subspan(before))) {
        return fail(ProtocolError::invalid_utf8, in);
      }
    } else {
      // Fail fast: invalid text is caught at the first bad byte, even in the
      // middle of a fragment, before the rest of the message arrives.
      if (is_text && !utf8_.feed(chunk)) return fail(ProtocolError::invalid_utf8, in);
      partial().message.append(chunk);
    }
    if (!frame_done) return {};
    rx_phase_ = RxPhase::header;
    if (!message_done) continue;
    if (is_text && !utf8_.complete()) return fail(ProtocolError::invalid_utf8, in);
    return finish_message();
  }
}

Event Connection::finish_message() {
  message_active_ = false;
  // (message_encoded_ stays: it tells message_was_encoded() about this
  // message, and the next message's first frame sets it again.)
  release_message_ = true;
  Event e;
  e.type = EventType::message;
  e.opcode = message_opcode_;
  e.payload = partial().message.span();
  return e;
}

ProtocolError Connection::check_header() noexcept {
  const std::uint8_t op = frame_.opcode;
  if (!is_known_opcode(op)) return ProtocolError::unknown_opcode;
  if (role_ == Role::server && !frame_.masked) return ProtocolError::unmasked_frame;
  if (role_ == Role::client && frame_.masked) return ProtocolError::masked_frame;
  const std::uint8_t allowed_rsv = transform_ ? rsv1_bit : 0;
  if (frame_.rsv & ~allowed_rsv) return ProtocolError::reserved_bits_set;

  if (is_control_opcode(op)) {
    if (frame_.rsv) return ProtocolError::reserved_bits_set;
    if (!frame_.fin) return ProtocolError::fragmented_control_frame;
    if (frame_.payload_length > max_control_payload) return ProtocolError::control_frame_too_long;
    return ProtocolError{};
  }

  if (op == static_cast<std::uint8_t>(Opcode::continuation)) {
    if (!message_active_) return ProtocolError::unexpected_continuation;
    // RFC 7692 6: RSV1 belongs on the first frame of a message only.
    if (frame_.rsv) return ProtocolError::reserved_bits_set;
    if (++message_frames_ > max_fragments_ && max_fragments_ != 0) {
      return ProtocolError::too_many_fragments;
    }
  } else {
    if (message_active_) return ProtocolError::expected_continuation;
    message_active_ = true;
    message_opcode_ = static_cast<Opcode>(op);
    message_encoded_ = (frame_.rsv & rsv1_bit) != 0;
    message_wire_size_ = 0;
    message_frames_ = 1;
    utf8_.reset();
    if (partial_) partial_->message.clear();
  }
  if (frame_.payload_length > max_frame_) return ProtocolError::frame_too_big;
  message_wire_size_ += frame_.payload_length;
  // An encoded message is judged by its decoded size (the transform enforces
  // it); its wire size only gets a bound that encoding overhead cannot reach.
  const std::uint64_t wire_limit =
      message_encoded_ ? max_message_ + (max_message_ >> 6) + 1024 : max_message_;
  if (message_wire_size_ > wire_limit) return ProtocolError::message_too_big;
  return ProtocolError{};
}

Event Connection::on_control_frame(std::span<std::uint8_t> payload) {
  Event e;
  e.payload = payload;
  switch (static_cast<Opcode>(frame_.opcode)) {
    case Opcode::ping:
      if (auto_pong_ && !close_sent_) write_frame(true, 0, Opcode::pong, payload);
      e.type = EventType::ping;
      return e;
    case Opcode::pong: e.type = EventType::pong; return e;
    case Opcode::close: {
      std::span<std::uint8_t> none;
      if (payload.size() == 1) return fail(ProtocolError::invalid_close_payload, none);
      CloseCode code = CloseCode::no_status;
      std::span<const std::uint8_t> reason;
      if (payload.size() >= 2) {
        const auto raw = static_cast<std::uint16_t>((payload[0] << 8) | payload[1]);
        if (!is_valid_wire_close_code(raw)) return fail(ProtocolError::invalid_close_code, none);
        code = static_cast<CloseCode>(raw);
        reason = payload.subspan(2);
        if (!is_valid_utf8(reason)) return fail(ProtocolError::invalid_close_reason, none);
      }
      close_received_ = true;
      peer_code_ = code;
      if (!close_sent_) {
        // Echo the peer's code (RFC 6455 5.5.1), or an empty close for none.
        write_close(code, {});
        close_sent_ = true;
      }
      state_ = ConnectionState::closed;
      if (partial_) partial_->message.release();
      e.type = EventType::close;
      e.code = code;
      e.payload = reason;
      return e;
    }
    default: return {};
  }
}

Event Connection::fail(ProtocolError error, std::span<std::uint8_t>& input) {
  input = input.subspan(input.size());
  const CloseCode code = close_code_for(error);
  error_ = error;
  if (!close_sent_) {
    // The reason tells the peer what it did wrong; close reasons are capped
    // at 123 bytes and error messages are ASCII, so a cut is still UTF-8.
    std::string message = make_error_code(error).message();
    if (message.size() > max_control_payload - 2) message.resize(max_control_payload - 2);
    write_close(code, message);
    close_sent_ = true;
  }
  state_ = ConnectionState::failed;
  message_active_ = false;
  release_message_ = true;
  Event e;
  e.type = EventType::error;
  e.code = code;
  e.error = error;
  return e;
}

// --------------------------------------------------------------------- send

std::error_code Connection::can_send() const noexcept {
  if (close_sent_ || state_ != ConnectionState::open) return UsageError::connection_closed;
  return {};
}

void Connection::write_frame(bool fin, std::uint8_t rsv, Opcode opcode,
                             std::span<const std::uint8_t> payload) {
  FrameHeader h;
  h.fin = fin;
  h.rsv = rsv;
  h.opcode = static_cast<std::uint8_t>(opcode);
  h.payload_length = payload.size();
  h.masked = role_ == Role::client;
  if (h.masked) {
    h.mask = mask_source_ ? mask_source_->next() : RandomMaskSource::for_this_thread().next();
  }
  const std::size_t header_size = frame_header_size(payload.size(), h.masked);
  std::uint8_t* p = out_.prepare(header_size + payload.size());
  encode_frame_header(p, h);
  if (!payload.empty()) {
    if (h.masked) {
      copy_masked(p + header_size, payload.data(), payload.size(), h.mask);
    } else {
      std::memcpy(p + header_size, payload.data(), payload.size());
    }
  }
  out_.commit(header_size + payload.size());
}

void Connection::write_close(CloseCode code, std::string_view reason) {
  std::uint8_t payload[max_control_payload];
  std::size_t n = 0;
  if (code != CloseCode::no_status) {
    const auto raw = static_cast<std::uint16_t>(code);
    payload[0] = static_cast<std::uint8_t>(raw >> 8);
    payload[1] = static_cast<std::uint8_t>(raw);
    if (!reason.empty()) std::memcpy(payload + 2, reason.data(), reason.size());
    n = 2 + reason.size();
  }
  write_frame(true, 0, Opcode::close, {payload, n});
}

void Connection::send_message_frames(Opcode opcode, std::span<const std::uint8_t> payload,
                                     std::uint8_t rsv) {
  if (fragment_size_ == 0 || payload.size() <= fragment_size_) {
    write_frame(true, rsv, opcode, payload);
    return;
  }
  // Auto-fragmentation: RSV1 and the opcode on the first frame only.
  bool first = true;
  while (!payload.empty()) {
    const std::size_t n = std::min<std::size_t>(fragment_size_, payload.size());
    const bool fin = n == payload.size();
    write_frame(fin, first ? rsv : 0, first ? opcode : Opcode::continuation, payload.first(n));
    payload = payload.subspan(n);
    first = false;
  }
}

std::error_code Connection::send(Opcode opcode, std::span<const std::uint8_t> payload) {
  if (auto ec = can_send()) return ec;
  if (opcode != Opcode::text && opcode != Opcode::binary) return UsageError::invalid_opcode;
  if (sending_fragments_) return UsageError::message_in_progress;
  if (transform_) {
    ByteBuffer& scratch = encode_scratch();
    scratch.clear();
    if (transform_->encode(payload, scratch)) {
      send_message_frames(opcode, scratch.span(), rsv1_bit);
      return {};
    }
  }
  send_message_frames(opcode, payload, 0);
  return {};
}

std::error_code Connection::send_fragment(Opcode opcode, std::span<const std::uint8_t> payload,
                                          bool fin) {
  if (auto ec = can_send()) return ec;
  if (opcode == Opcode::continuation) {
    if (!sending_fragments_) return UsageError::no_message_in_progress;
  } else if (opcode == Opcode::text || opcode == Opcode::binary) {
    if (sending_fragments_) return UsageError::message_in_progress;
  } else {
    return UsageError::invalid_opcode;
  }
  // Fragments go out unencoded: RFC 7692 lets any message skip compression.
  write_frame(fin, 0, opcode, payload);
  sending_fragments_ = !fin;
  return {};
}

std::error_code Connection::ping(std::span<const std::uint8_t> payload) {
  if (auto ec = can_send()) return ec;
  if (payload.size() > max_control_payload) return UsageError::control_payload_too_long;
  write_frame(true, 0, Opcode::ping, payload);
  return {};
}

std::error_code Connection::pong(std::span<const std::uint8_t> payload) {
  if (auto ec = can_send()) return ec;
  if (payload.size() > max_control_payload) return UsageError::control_payload_too_long;
  write_frame(true, 0, Opcode::pong, payload);
  return {};
}

std::error_code Connection::close(CloseCode code, std::string_view reason) {
  if (close_sent_ || state_ == ConnectionState::failed) return UsageError::connection_closed;
  if (code == CloseCode::no_status) {
    if (!reason.empty()) return UsageError::invalid_close_code;  // a reason needs a code
  } else {
    if (!is_valid_wire_close_code(static_cast<std::uint16_t>(code))) {
      return UsageError::invalid_close_code;
    }
    if (reason.size() > max_control_payload - 2) return UsageError::control_payload_too_long;
    if (!is_valid_utf8(bytes_of(reason))) return UsageError::invalid_close_reason;
  }
  write_close(code, reason);
  close_sent_ = true;
  state_ = close_received_ ? ConnectionState::closed : ConnectionState::closing;
  return {};
}

std::error_code Connection::send_prepared(SharedBytes& frames) {
  if (auto ec = can_send()) return ec;
  if (role_ != Role::server) return UsageError::not_supported;  // client frames need masks
  if (sending_fragments_) return UsageError::message_in_progress;
  out_.append_shared(frames);
  return {};
}

}  // namespace duplex::protocol
