/// @file
/// The sans-I/O WebSocket connection (RFC 6455 sections 5-7), for either role.
///
/// Receiving: hand receive() the bytes that arrived; it returns one event at a
/// time (message, ping, pong, close, error) and advances the input past what it
/// used. A message that arrived whole in one frame is delivered as a view into
/// the caller's input, unmasked in place; fragmented or split messages are
/// reassembled in a buffer the connection reuses. Views stay valid until the
/// next receive() call.
///
/// Sending: the send calls append framed bytes to output(); the caller writes
/// them to the transport and consume()s what was written. Replies the protocol
/// requires (pong for ping, close for close, close with an error code when the
/// peer breaks the protocol) are queued there too.
#pragma once

#include <duplex/close_code.hpp>
#include <duplex/protocol/byte_buffer.hpp>
#include <duplex/protocol/error.hpp>
#include <duplex/protocol/extension.hpp>
#include <duplex/protocol/frame.hpp>
#include <duplex/protocol/handshake_keys.hpp>
#include <duplex/protocol/output_queue.hpp>
#include <duplex/protocol/utf8.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <system_error>

namespace duplex::protocol {

/// Which end of the connection this is: it decides masking (clients mask,
/// servers do not) and who closes TCP first.
enum class Role : std::uint8_t { server, client };

/// A connection's settings.
struct ConnectionOptions {
  Role role = Role::server;  ///< the end we are
  /// Largest message (after decoding) and largest single frame accepted;
  /// larger ones fail the connection with 1009.
  std::uint64_t max_message_size = 16 * 1024 * 1024;
  std::uint64_t max_frame_size = 16 * 1024 * 1024;  ///< see max_message_size
  /// Frames one data message may come in; more fail the connection with
  /// 1009 (0: no limit).
  std::uint32_t max_fragments = 0;
  /// Outgoing messages longer than this go out in frames of this size
  /// (0: one frame per message).
  std::size_t fragment_size = 0;
  /// Answer pings with pongs automatically (RFC 6455 5.5.2 requires a pong).
  bool auto_pong = true;
  MessageTransform* transform = nullptr;  ///< not owned; must outlive the connection
  MaskKeySource* mask_source = nullptr;   ///< client masks; nullptr: the CSPRNG
};

/// What `Connection::receive` found.
enum class EventType : std::uint8_t {
  none,     ///< the input is used up: nothing more until more bytes come
  message,  ///< a whole data message
  ping,     ///< a ping (already answered unless auto_pong is off)
  pong,     ///< a pong
  close,    ///< the peer's close frame (answered if we had not closed)
  error,    ///< the peer broke the protocol; our close frame is queued
};

/// One event of a connection. Its views point into the caller's input or
/// the connection's own buffer: valid until the next `receive()`.
struct Event {
  EventType type = EventType::none;  ///< what happened
  Opcode opcode = Opcode::binary;    ///< message: text or binary
  /// message: its data; ping/pong: their payload; close: the reason.
  std::span<const std::uint8_t> payload;
  /// close: the code the peer sent (no_status when it sent none);
  /// error: the code we closed with.
  CloseCode code = CloseCode::no_status;
  std::error_code error;  ///< error: what the peer did wrong

  /// True for every event but `none`.
  explicit operator bool() const noexcept { return type != EventType::none; }
  /// The payload as text.
  std::string_view text() const noexcept {
    return {reinterpret_cast<const char*>(payload.data()), payload.size()};
  }
};

/// Where the close handshake stands.
enum class ConnectionState : std::uint8_t {
  open,     ///< data flows both ways
  closing,  ///< we sent a close frame and wait for the peer's
  closed,   ///< both close frames exchanged
  failed,   ///< the peer broke the protocol; our close frame is queued
};

/// One WebSocket connection's frames, without I/O (see the file comment).
/// Used on one thread; no member blocks, none makes a system call.
class Connection {
 public:
  /// A connection with `options` (copied).
  explicit Connection(const ConnectionOptions& options = {});

  /// The next event of `input`, which is advanced past what was used (and
  /// unmasked in place). `EventType::none` once it is used up.
  Event receive(std::span<std::uint8_t>& input);

  /// Queues a whole message (through the extension, when one was agreed).
  /// Each send returns `UsageError::connection_closed` once we sent close.
  std::error_code send(Opcode opcode, std::span<const std::uint8_t> payload);
  /// `send` for text and for binary data.
  ///@{
  std::error_code send_text(std::string_view text) { return send(Opcode::text, as_bytes(text)); }
  std::error_code send_binary(std::span<const std::uint8_t> data) {
    return send(Opcode::binary, data);
  }
  ///@}
  /// One frame of a message sent in pieces: the first with Opcode::text or
  /// Opcode::binary, the rest with Opcode::continuation, the last with fin.
  std::error_code send_fragment(Opcode opcode, std::span<const std::uint8_t> payload, bool fin);
  /// A ping or an unsolicited pong, with at most 125 bytes of payload.
  ///@{
  std::error_code ping(std::span<const std::uint8_t> payload = {});
  std::error_code pong(std::span<const std::uint8_t> payload = {});
  ///@}
  /// Starts the close handshake. CloseCode::no_status sends an empty close
  /// frame; otherwise the code must be valid on the wire and the reason UTF-8
  /// of at most 123 bytes.
  std::error_code close(CloseCode code = CloseCode::normal, std::string_view reason = {});
  /// Queues bytes that already hold complete frames (a published message
  /// framed once for many receivers). Server role only: client frames need a
  /// fresh mask each.
  std::error_code send_prepared(SharedBytes& frames);

  /// Applies the limits and send settings of `options` (not its role or
  /// transform): for a connection whose settings are known only once its
  /// handshake chose them (a server route). Before the first frame only.
  void set_limits(const ConnectionOptions& options) noexcept {
    max_message_ = options.max_message_size;
    max_frame_ = options.max_frame_size;
    max_fragments_ = options.max_fragments;
    fragment_size_ = clamp_fragment_size(options.fragment_size);
    auto_pong_ = options.auto_pong;
  }

  /// Sets the per-message extension once the handshake has agreed on one;
  /// the connection owns it from then on.
  void set_transform(std::unique_ptr<MessageTransform> transform) noexcept {
    owned_transform_ = std::move(transform);
    transform_ = owned_transform_.get();
  }
  /// Bytes held for input not yet handed over: a message or control frame
  /// being reassembled (its buffer's capacity).
  std::size_t input_buffered() const noexcept {
    return partial_ ? partial_->message.capacity() + partial_->control.capacity() : 0;
  }
  /// Gives back the memory of a reassembled message once its event has been
  /// handled (otherwise kept until the next receive()).
  void release_message() noexcept;
  /// Whether the last message event's data came through the extension
  /// (compressed on the wire).
  bool message_was_encoded() const noexcept { return message_encoded_; }
  /// The agreed extension, or null.
  const MessageTransform* transform() const noexcept { return transform_; }

  /// The bytes to write to the transport (frames, and replies the protocol
  /// requires); consume what was written.
  ///@{
  OutputQueue& output() noexcept { return out_; }
  const OutputQueue& output() const noexcept { return out_; }
  ///@}

  /// Where the close handshake stands.
  ConnectionState state() const noexcept { return state_; }
  /// The end we are.
  Role role() const noexcept { return role_; }
  /// Whether our close frame, and the peer's, went and came.
  ///@{
  bool close_sent() const noexcept { return close_sent_; }
  bool close_received() const noexcept { return close_received_; }
  ///@}
  /// The code the peer closed with (no_status if none yet).
  CloseCode peer_close_code() const noexcept { return peer_code_; }
  /// What failed the connection, if it failed.
  std::error_code error() const noexcept {
    return error_ == ProtocolError{} ? std::error_code{} : make_error_code(error_);
  }
  /// True once this side should close the transport after writing output():
  /// the server after the close handshake (RFC 6455 7.1.1: the server closes
  /// TCP first), either side after a failure. A client whose handshake is
  /// complete waits for the server to close, with a timeout of its own.
  bool should_close_transport() const noexcept {
    return state_ == ConnectionState::failed ||
           (state_ == ConnectionState::closed && role_ == Role::server);
  }

  /// Text as bytes (a view of the same memory).
  static std::span<const std::uint8_t> as_bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
  }

 private:
  static std::uint32_t clamp_fragment_size(std::size_t n) noexcept {
    return n > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(n);
  }
  enum class RxPhase : std::uint8_t { header, payload };

  /// The rule the current frame header breaks, or ProtocolError{} for none.
  ProtocolError check_header() noexcept;
  Event on_control_frame(std::span<std::uint8_t> payload);
  Event fail(ProtocolError e, std::span<std::uint8_t>& input);
  Event finish_message();
  std::error_code can_send() const noexcept;
  void write_frame(bool fin, std::uint8_t rsv, Opcode opcode,
                   std::span<const std::uint8_t> payload);
  void write_close(CloseCode code, std::string_view reason);
  void send_message_frames(Opcode opcode, std::span<const std::uint8_t> payload, std::uint8_t rsv);

  // The send side first: a fan-out touches it for every subscriber (the
  // output queue, whether a message may be sent, the extension).
  OutputQueue out_;
  MessageTransform* transform_;
  ConnectionState state_ = ConnectionState::open;
  bool sending_fragments_ = false;
  bool close_sent_ = false;
  bool close_received_ = false;
  Role role_;
  bool auto_pong_;
  CloseCode peer_code_ = CloseCode::no_status;
  ProtocolError error_{};        ///< what failed the connection, if anything
  std::uint32_t max_fragments_;  ///< (an option, kept here where it costs no padding)

  // Options
  std::uint64_t max_message_;
  std::uint64_t max_frame_;
  // (Frames over 4 GiB are never what anyone means: 32 bits, beside the
  // counter below, keep the connection 8 bytes smaller.)
  std::uint32_t fragment_size_;
  std::uint32_t message_frames_ = 0;  ///< frames of the current data message so far
  std::unique_ptr<MessageTransform> owned_transform_;
  MaskKeySource* mask_source_;

  // Receive state
  RxPhase rx_phase_ = RxPhase::header;
  std::uint8_t header_have_ = 0;
  std::uint8_t mask_phase_ = 0;
  bool message_active_ = false;   ///< a data message has started and not ended
  bool message_encoded_ = false;  ///< ... with RSV1 (through the transform)
  bool release_message_ = false;  ///< the last event pointed into message_buf_
  Opcode message_opcode_ = Opcode::binary;
  Utf8Validator utf8_;
  FrameHeader frame_;
  std::uint64_t frame_remaining_ = 0;
  std::uint64_t message_wire_size_ = 0;
  /// What a frame or message split across reads needs while it waits. Most
  /// connections never need it (small messages arrive whole), so it is made
  /// on first use and kept, rather than carried by every connection.
  struct Partial {
    std::uint8_t header[max_frame_header_size];
    ByteBuffer message;  ///< reassembled (or decoded) message
    ByteBuffer control;  ///< a control frame split across reads
  };
  Partial& partial();
  std::unique_ptr<Partial> partial_;
};

}  // namespace duplex::protocol
