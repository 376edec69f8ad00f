"""Runs one plan over an upgraded connection and records what happened.

A reader thread parses everything the peer sends (so a peer that echoes while
the harness is still writing 16 MiB never stalls), checks each frame against
RFC 6455 (and RFC 7692 when permessage-deflate was agreed: RSV1 only on the
first frame of a data message, data that inflates under the agreed window and
context rules), and turns it into events.  The calling thread is the only writer:
it performs the steps, then closes the connection the way the plan says, and
returns an Outcome for judge.py.
"""

import os
import socket
import threading
import time
from dataclasses import dataclass, field

from plan import (CHOP_FRAME, Close, EchoEach, Frame, Message, RttLoop, Sleep, SplitFrame,
                  WaitFail)
from pmd import Compressor, Decompressor, InflateError
from wsproto_raw import (KNOWN_OPCODES, MAX_INBOUND_FRAME, OP_CLOSE, OP_CONT, OP_PING, OP_PONG,
                         OP_TEXT, ConnectionEnded, PeerViolation, ReadStopped, StreamReader,
                         apply_mask, build_frame, close_code_valid_on_wire, close_payload,
                         frame_header, read_frame, send_all)

RSV1 = 4  # the "rsv" value of a frame with only RSV1 set (RSV1 RSV2 RSV3 = 4 2 1)

FRAME_PAUSE = 0.005      # pause after a frame written on its own, so it arrives on its own
CHOP_PAUSE = 0.001       # pause between octet-wise chops of small frames
PAUSED_CHOPS_LIMIT = 1000  # beyond this many chops, write them back to back (category 9)
TCP_CLOSE_GRACE = 2.0    # how long the other side gets to end TCP after the closing handshake


@dataclass
class Outcome:
    events: list = field(default_factory=list)
    violations: list = field(default_factory=list)
    lapses: list = field(default_factory=list)  # NON-STRICT findings about the peer's frames
    peer_close: object = None        # (code or None, reason) of the peer's Close frame
    peer_closed_first: bool = False  # its Close was not an answer to ours
    harness_close_sent: bool = False
    eof: object = None               # None, "eof" or "reset"
    timed_out: bool = False          # the case deadline passed while waiting on the peer
    server_closed_tcp: object = None  # harness-as-client only: did the server end TCP first
    send_error: str = ""
    seconds: float = 0.0
    # permessage-deflate statistics: data messages from the peer, how many of
    # them compressed, and their payload sizes on the wire and inflated.
    messages_in: int = 0
    compressed_in: int = 0
    wire_in: int = 0
    plain_in: int = 0

    def deflate_note(self):
        if not self.messages_in:
            return ""
        note = "peer compressed %d/%d" % (self.compressed_in, self.messages_in)
        if self.plain_in:
            note += " (%.0f%% of size)" % (100.0 * self.wire_in / self.plain_in)
        return note


class Session:
    def __init__(self, sock, leftover, *, harness_is_client, deadline, deflate=None):
        self.sock = sock
        self.deflate = deflate  # pmd.Agreement, or None without permessage-deflate
        self.compressor = None
        self.decompressor = None
        if deflate is not None:
            if deflate.send_bits is not None:
                self.compressor = Compressor(deflate.send_bits, deflate.send_reset)
            self.decompressor = Decompressor(deflate.recv_bits, deflate.recv_reset,
                                             MAX_INBOUND_FRAME, deflate.recv_hint_reset)
        self.masked = harness_is_client  # RFC 6455 5.1: only clients mask
        self.harness_is_client = harness_is_client
        self.deadline = deadline
        self.out = Outcome()
        self.cond = threading.Condition()
        self.pending = bytearray()
        self.pending_pongs = []
        self._stop = threading.Event()
        self._stream = StreamReader(sock, leftover, self._stop)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)

    # ------------------------------------------------------------ reading

    def _violation(self, text):
        if text not in self.out.violations and len(self.out.violations) < 5:
            self.out.violations.append(text)

    def _read_loop(self):
        msg = (None, [], False)  # kind of the message being received, its frames, compressed?
        try:
            while True:
                f = read_frame(self._stream)
                with self.cond:
                    msg = self._on_frame(f, msg)
                    self.cond.notify_all()
        except ConnectionEnded as e:
            with self.cond:
                self.out.eof = e.kind
                self.cond.notify_all()
        except PeerViolation as e:
            with self.cond:
                self._violation(str(e))
                self.out.eof = "unparseable"
                self.cond.notify_all()
        except (ReadStopped, OSError):
            pass

    def _check_rsv(self, f):
        if not f.rsv:
            return
        if self.deflate is None or f.rsv & ~RSV1:
            self._violation("peer set RSV bits %d without a negotiated extension" % f.rsv)
        elif f.opcode >= 8:
            self._violation("peer set RSV1 on a control frame (RFC 7692 6.1)")
        elif f.opcode == OP_CONT:
            self._violation("peer set RSV1 on a continuation frame (RFC 7692 6.1)")

    def _on_frame(self, f, msg):
        msg_kind, parts, compressed = msg
        out = self.out
        if out.peer_close is not None:
            self._violation("peer sent a frame (opcode %d) after its close frame" % f.opcode)
            return msg
        if f.masked == self.harness_is_client:
            self._violation("server sent a masked frame" if f.masked else "client sent an unmasked frame")
        self._check_rsv(f)
        if not f.minimal_length:
            self._violation("peer used a non-minimal payload length encoding")
        if f.opcode not in KNOWN_OPCODES:
            self._violation("peer sent reserved opcode %d" % f.opcode)
            return msg
        if f.opcode >= 8:
            if not f.fin or len(f.payload) > 125:
                self._violation("peer sent a fragmented or oversized control frame")
            if f.opcode == OP_CLOSE:
                out.peer_close = self._parse_close(f.payload)
                out.peer_closed_first = not out.harness_close_sent
            elif f.opcode == OP_PING:
                out.events.append(("ping", f.payload))
                self.pending_pongs.append(f.payload)
            else:
                out.events.append(("pong", f.payload))
            return msg
        if f.opcode == OP_CONT:
            if msg_kind is None:
                self._violation("peer sent a continuation frame with no message to continue")
                return msg
        else:
            if msg_kind is not None:
                self._violation("peer started a new message inside a fragmented one")
            msg_kind, parts = ("text" if f.opcode == OP_TEXT else "binary"), []
            compressed = self.deflate is not None and bool(f.rsv & RSV1)
        parts.append(f.payload)
        if not f.fin:
            return msg_kind, parts, compressed
        payload = parts[0] if len(parts) == 1 else b"".join(parts)
        out.messages_in += 1
        if compressed:
            out.compressed_in += 1
            out.wire_in += len(payload)
            try:
                payload = self.decompressor.decompress(payload)
            except InflateError as e:
                d = self.decompressor
                self._violation("peer sent a compressed message that does not inflate with a "
                                "%d-bit window%s: %s" % (d.bits, " and no context takeover"
                                                         if d.reset else "", e))
                out.events.append((msg_kind + "-not-inflating", b""))
                return None, [], False
            if self.decompressor.hint_broken and not out.lapses:
                out.lapses.append("client offered client_no_context_takeover (RFC 7692 7.1.1.2: it "
                                  "is not going to use context takeover) but its messages refer "
                                  "to earlier ones")
        else:
            out.wire_in += len(payload)
        out.plain_in += len(payload)
        if msg_kind == "text":
            try:
                payload.decode("utf-8")
            except UnicodeDecodeError:
                self._violation("peer sent a text message that is not valid UTF-8")
        out.events.append((msg_kind, payload))
        return None, [], False

    def _parse_close(self, payload):
        if not payload:
            return (None, b"")
        if len(payload) == 1:
            self._violation("peer sent a close frame with a 1-octet payload")
            return (None, payload)
        code = int.from_bytes(payload[:2], "big")
        if not close_code_valid_on_wire(code):
            self._violation("peer sent close code %d, which is not allowed on the wire" % code)
        try:
            payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            self._violation("peer sent a close reason that is not valid UTF-8")
        return (code, payload[2:])

    # ------------------------------------------------------------ writing

    def _peer_done(self):
        return self.out.peer_close is not None or self.out.eof is not None

    def _frame(self, opcode, payload=b"", fin=True, rsv=0):
        return build_frame(opcode, payload, fin=fin, rsv=rsv, masked=self.masked)

    def _write(self, data, chop=None):
        """Write now (flushing anything queued first), optionally in chops."""
        data = bytes(self.pending) + data
        self.pending.clear()
        if not data:
            return
        if chop is None or chop == CHOP_FRAME:
            send_all(self.sock, data, self.deadline)
            return
        pieces = [data[i:i + chop] for i in range(0, len(data), chop)]
        paced = len(pieces) <= PAUSED_CHOPS_LIMIT
        for piece in pieces:
            send_all(self.sock, piece, self.deadline)
            if paced:
                time.sleep(CHOP_PAUSE)

    def _emit(self, data, chop):
        if chop is None:
            self.pending += data
        elif chop == CHOP_FRAME:
            self._write(data)
            time.sleep(FRAME_PAUSE)
        else:
            self._write(data, chop)

    def _message_frames(self, opcode, payload, frag=None, compress=None):
        rsv = 0
        if self.compressor is not None and compress is not False:
            payload = self.compressor.compress(payload)
            rsv = RSV1  # first frame only (RFC 7692 6.1)
        size = frag or len(payload) or 1
        chunks = [payload[i:i + size] for i in range(0, len(payload), size)] or [b""]
        for i, chunk in enumerate(chunks):
            yield self._frame(opcode if i == 0 else OP_CONT, chunk, fin=i == len(chunks) - 1,
                              rsv=rsv if i == 0 else 0)

    def _wait_fail(self, seconds):
        """True if the peer failed or closed the connection within `seconds`."""
        end = min(time.monotonic() + seconds, self.deadline)
        with self.cond:
            while not self._peer_done():
                remaining = end - time.monotonic()
                if remaining <= 0:
                    return False
                self.cond.wait(remaining)
        return True

    def _run_step(self, step):
        """Performs one step; returns False when the rest of the plan must be skipped."""
        if isinstance(step, Frame):
            self._emit(self._frame(step.opcode, step.payload, step.fin, step.rsv), step.chop)
        elif isinstance(step, Message):
            frames = list(self._message_frames(step.opcode, step.payload, step.frag, step.compress))
            if step.chop == CHOP_FRAME:
                for fr in frames:
                    self._emit(fr, CHOP_FRAME)
            else:
                self._emit(b"".join(frames), step.chop)
        elif isinstance(step, Close):
            payload = step.raw if step.raw is not None else close_payload(step.code, step.reason)
            self.out.harness_close_sent = True
            self._emit(self._frame(OP_CLOSE, payload), None)
        elif isinstance(step, Sleep):
            self._write(b"")
            time.sleep(step.seconds)
        elif isinstance(step, WaitFail):
            self._write(b"")
            if self._wait_fail(step.seconds):
                return False
            with self.cond:
                self.out.events.append(("timeout", step.label))
        elif isinstance(step, SplitFrame):
            return self._split_frame(step)
        elif isinstance(step, RttLoop):
            return self._echo_each(step.opcode, [step.payload] * step.count, None)
        elif isinstance(step, EchoEach):
            return self._echo_each(step.opcode, step.payloads, step.frag)
        else:
            raise TypeError("unknown step %r" % (step,))
        return True

    def _split_frame(self, step):
        payload = step.payload
        if self.masked:
            key = os.urandom(4)
            body = apply_mask(payload, key)
            header = frame_header(step.opcode, len(payload), masked=True) + key
        else:
            body = payload
            header = frame_header(step.opcode, len(payload))
        a, b = step.cuts
        parts = [header + body[:a], body[a:b], body[b:]]
        for i, part in enumerate(parts):
            self._write(part)
            if i < 2:
                if self._wait_fail(step.seconds):
                    return False
                with self.cond:
                    self.out.events.append(("timeout", step.labels[i]))
        return True

    def _echo_each(self, opcode, payloads, frag):
        """Sends the payloads one at a time, each once the one before came back."""
        kind = "text" if opcode == OP_TEXT else "binary"
        seen = 0  # events already looked at
        for payload in payloads:
            self._write(b"".join(self._message_frames(opcode, payload, frag)))
            with self.cond:
                echoed = False
                while not echoed:
                    events = self.out.events
                    while seen < len(events) and not echoed:
                        event = events[seen]
                        seen += 1
                        if event[0] in ("ping", "pong"):
                            continue
                        if event != (kind, payload):
                            return False
                        echoed = True
                    if echoed:
                        break
                    if self._peer_done():
                        return False
                    remaining = self.deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self.cond.wait(remaining)
        return True

    # ------------------------------------------------------------ the case

    def run(self, plan):
        started = time.monotonic()
        self._reader.start()
        try:
            self._perform(plan)
        except TimeoutError:
            self.out.timed_out = True
        except OSError as e:
            self.out.send_error = "%s" % (e.strerror or e)
        finally:
            self._teardown()
        self.out.seconds = time.monotonic() - started
        return self.out

    def _perform(self, plan):
        try:
            for step in plan.steps:
                if self._peer_done() or not self._run_step(step):
                    break
            self._write(b"")
        except (BrokenPipeError, ConnectionResetError) as e:
            # The peer may legitimately hang up while we are still writing
            # (it failed the connection); what it sent is judged later.
            self.out.send_error = e.strerror or str(e)
        if plan.close.kind == "normal":
            self._wait_until(lambda: self._peer_done() or self._events_settled(plan))
            if not self._peer_done() and not self.out.send_error:
                self.out.harness_close_sent = True
                self._write(self._frame(OP_CLOSE, close_payload(1000)))
        self._wait_until(self._peer_done)
        self._answer_close()

    def _events_settled(self, plan):
        ev, ok = self.out.events, plan.ok
        return ev == ok or ev != ok[:len(ev)]

    def _wait_until(self, predicate):
        with self.cond:
            while not predicate():
                self._answer_pings()
                remaining = self.deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("case deadline")
                self.cond.wait(min(remaining, 0.25))

    def _answer_pings(self):
        # Called with self.cond held; pongs are written by this thread only.
        while self.pending_pongs and not self.out.harness_close_sent:
            payload = self.pending_pongs.pop(0)
            self._write(self._frame(OP_PONG, payload))

    def _answer_close(self):
        out = self.out
        if out.peer_close is None or out.harness_close_sent or out.eof:
            return
        code = out.peer_close[0]
        # Echo a valid code (RFC 6455 5.5.1); answer an invalid one with 1002.
        reply = code if code is None or close_code_valid_on_wire(code) else 1002
        out.harness_close_sent = True
        try:
            self._write(self._frame(OP_CLOSE, close_payload(reply)))
        except OSError:
            pass

    def _teardown(self):
        out = self.out
        # Only a finished closing handshake earns the other side time to end
        # TCP; after a timeout or a drop there is nothing left to wait for.
        grace_end = time.monotonic() + (TCP_CLOSE_GRACE if out.peer_close is not None else 0)
        if not self.harness_is_client:
            # RFC 6455 7.1.1: the server ends the TCP connection first.
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        with self.cond:
            while out.eof is None and time.monotonic() < grace_end:
                self.cond.wait(min(0.1, grace_end - time.monotonic() + 0.01))
        if self.harness_is_client and out.peer_close is not None:
            out.server_closed_tcp = out.eof is not None
        self._stop.set()
        self._reader.join(timeout=5)
        try:
            self.sock.close()
        except OSError:
            pass
