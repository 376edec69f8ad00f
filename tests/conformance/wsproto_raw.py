"""Raw RFC 6455 wire helpers for the conformance harness.

Deliberately written against plain sockets instead of a WebSocket library: the
harness has to put malformed frames on the wire on purpose, and it has to see
exactly what the implementation under test sends back.

Sockets stay in blocking mode, but every read and write here goes through
poll() plus MSG_DONTWAIT, so one thread can write a 16 MiB message while
another thread reads the echo, and no call ever waits past its deadline.
The same code runs over TLS: tls.TlsSocket has the socket methods used here,
plus buffered_input() (already-decrypted bytes that poll() cannot see) and
has_pending_output() (ciphertext still to be handed to TCP).
"""

import base64
import hashlib
import os
import select
import socket
import struct
import time
from dataclasses import dataclass

OP_CONT = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
KNOWN_OPCODES = {OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG}

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# Frames larger than this are treated as a peer error rather than buffered:
# no case echoes more than 16 MiB, and it keeps a broken peer from making the
# harness allocate without bound.
MAX_INBOUND_FRAME = 64 * 1024 * 1024

_POLL_SLICE = 0.1  # seconds; how often blocked I/O re-checks stop flags


class ConnectionEnded(Exception):
    """The peer closed (kind "eof") or reset (kind "reset") the TCP stream."""

    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind


class ReadStopped(Exception):
    """The reader was asked to stop, or its deadline passed."""


class PeerViolation(Exception):
    """The peer sent bytes that cannot be parsed any further."""


class HandshakeError(Exception):
    pass


def accept_for(key):
    """Sec-WebSocket-Accept value for a Sec-WebSocket-Key (RFC 6455 4.2.2)."""
    digest = hashlib.sha1(key.encode("ascii") + _GUID).digest()
    return base64.b64encode(digest).decode("ascii")


def apply_mask(data, key):
    """XOR data with the repeating 4-byte key.

    Done as one big-integer XOR because a per-byte Python loop would take
    seconds on the 16 MiB messages of category 9.
    """
    n = len(data)
    if n == 0:
        return b""
    pad = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(pad, "little")).to_bytes(n, "little")


def frame_header(opcode, length, *, fin=True, rsv=0, masked=False):
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)
    mbit = 0x80 if masked else 0
    if length < 126:
        return struct.pack("!BB", b0, mbit | length)
    if length < 65536:
        return struct.pack("!BBH", b0, mbit | 126, length)
    return struct.pack("!BBQ", b0, mbit | 127, length)


def build_frame(opcode, payload=b"", *, fin=True, rsv=0, masked):
    """One frame with any opcode/RSV/FIN combination, valid or not.

    A fresh random masking key per frame, as RFC 6455 5.3 requires of clients.
    """
    header = frame_header(opcode, len(payload), fin=fin, rsv=rsv, masked=masked)
    if not masked:
        return header + payload
    key = os.urandom(4)
    return header + key + apply_mask(payload, key)


def close_payload(code=None, reason=b""):
    if code is None:
        return reason
    return struct.pack("!H", code) + reason


def close_code_valid_on_wire(code):
    """Close codes an endpoint may put in a Close frame (RFC 6455 7.4, IANA)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


# --------------------------------------------------------------------------
# Socket I/O with deadlines


def _wait(sock, events, deadline, stop=None):
    buffered = getattr(sock, "buffered_input", None)
    if buffered is not None and events & select.POLLIN and buffered():
        if stop is not None and stop.is_set():
            raise ReadStopped("stopped")
        return
    poller = select.poll()
    poller.register(sock.fileno(), events)
    while True:
        if stop is not None and stop.is_set():
            raise ReadStopped("stopped")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        if poller.poll(int(min(remaining, _POLL_SLICE) * 1000) + 1):
            return


def send_all(sock, data, deadline):
    view = memoryview(data)
    while view:
        _wait(sock, select.POLLOUT, deadline)
        try:
            n = sock.send(view[: 1 << 20], socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            continue
        view = view[n:]
    # TLS: the last records may still sit in the socket object's queue.
    pending = getattr(sock, "has_pending_output", None)
    while pending is not None and pending():
        _wait(sock, select.POLLOUT, deadline)
        sock.flush_some()


class StreamReader:
    """Buffered reads of exact byte counts from a socket."""

    CHUNK = 256 * 1024

    def __init__(self, sock, initial=b"", stop=None, deadline=None):
        self.sock = sock
        self.buf = bytearray(initial)
        self.pos = 0
        self.stop = stop
        self.deadline = deadline if deadline is not None else time.monotonic() + 3600

    def _recv_into(self, view):
        while True:
            _wait(self.sock, select.POLLIN, self.deadline, self.stop)
            try:
                n = self.sock.recv_into(view, len(view), socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                continue
            except ConnectionResetError:
                raise ConnectionEnded("reset") from None
            if n == 0:
                raise ConnectionEnded("eof")
            return n

    def read_exact(self, n):
        avail = len(self.buf) - self.pos
        if avail >= n:
            out = bytes(self.buf[self.pos:self.pos + n])
            self.pos += n
            if self.pos == len(self.buf):
                self.buf.clear()
                self.pos = 0
            return out
        out = bytearray(n)
        out[:avail] = self.buf[self.pos:]
        self.buf.clear()
        self.pos = 0
        got = avail
        if n - got >= self.CHUNK:
            # Large payloads go straight into their final buffer.
            view = memoryview(out)
            while got < n:
                got += self._recv_into(view[got:])
            return bytes(out)
        while got < n:
            chunk = bytearray(self.CHUNK)
            k = self._recv_into(memoryview(chunk))
            take = min(k, n - got)
            out[got:got + take] = chunk[:take]
            got += take
            if take < k:
                self.buf = chunk[take:k]
        return bytes(out)


@dataclass
class Frame:
    fin: bool
    rsv: int
    opcode: int
    masked: bool
    payload: bytes
    minimal_length: bool  # RFC 6455 5.2: the minimal length encoding MUST be used


def read_frame(reader):
    b0, b1 = reader.read_exact(2)
    length = b1 & 0x7F
    minimal = True
    if length == 126:
        (length,) = struct.unpack("!H", reader.read_exact(2))
        minimal = length >= 126
    elif length == 127:
        (length,) = struct.unpack("!Q", reader.read_exact(8))
        minimal = length >= 65536
        if length >> 63:
            raise PeerViolation("64-bit frame length has its most significant bit set")
    if length > MAX_INBOUND_FRAME:
        raise PeerViolation("frame of %d bytes is larger than any echo expected" % length)
    masked = bool(b1 & 0x80)
    key = reader.read_exact(4) if masked else None
    payload = reader.read_exact(length) if length else b""
    if masked:
        payload = apply_mask(payload, key)
    return Frame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF, masked, payload, minimal)


# --------------------------------------------------------------------------
# Opening handshake (RFC 6455 section 4)


def _read_http_head(sock, deadline, limit=16384):
    data = bytearray()
    while b"\r\n\r\n" not in data:
        if len(data) > limit:
            raise HandshakeError("HTTP head longer than %d bytes" % limit)
        _wait(sock, select.POLLIN, deadline)
        try:
            chunk = sock.recv(4096, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            continue
        if not chunk:
            raise HandshakeError("connection closed during the opening handshake")
        data += chunk
    end = data.index(b"\r\n\r\n") + 4
    return bytes(data[:end]), bytes(data[end:])


def _parse_head(head):
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise HandshakeError("malformed header line %r" % line)
        key = name.strip().lower()
        headers[key] = (headers[key] + ", " if key in headers else "") + value.strip()
    return lines[0], headers


def _tokens(value):
    return {t.strip().lower() for t in value.split(",") if t.strip()}


def client_handshake(sock, host_header, path, deadline, extensions=None):
    """Upgrade a fresh connection as a client.

    `extensions`: a Sec-WebSocket-Extensions value to offer, or None to offer
    nothing.  Returns (bytes read past the head, the response's
    Sec-WebSocket-Extensions value or "").  Judging that value is the
    caller's business when it offered something.
    """
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    offer = "Sec-WebSocket-Extensions: %s\r\n" % extensions if extensions else ""
    request = (
        "GET %s HTTP/1.1\r\n"
        "Host: %s\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Key: %s\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "%s"
        "\r\n" % (path, host_header, key, offer)
    )
    send_all(sock, request.encode("ascii"), deadline)
    head, rest = _read_http_head(sock, deadline)
    status, headers = _parse_head(head)
    parts = status.split(" ", 2)
    if len(parts) < 2 or parts[0] != "HTTP/1.1" or parts[1] != "101":
        raise HandshakeError("expected HTTP/1.1 101, got %r" % status)
    if "websocket" not in _tokens(headers.get("upgrade", "")):
        raise HandshakeError("response Upgrade header is %r" % headers.get("upgrade"))
    if "upgrade" not in _tokens(headers.get("connection", "")):
        raise HandshakeError("response Connection header is %r" % headers.get("connection"))
    if headers.get("sec-websocket-accept") != accept_for(key):
        raise HandshakeError("wrong Sec-WebSocket-Accept %r" % headers.get("sec-websocket-accept"))
    # What was not offered may not be selected (RFC 6455 4.1, steps 5-6).
    if headers.get("sec-websocket-protocol"):
        raise HandshakeError("server selected Sec-WebSocket-Protocol %r that was not offered"
                             % headers["sec-websocket-protocol"])
    if headers.get("sec-websocket-extensions") and not extensions:
        raise HandshakeError("server selected Sec-WebSocket-Extensions %r that was not offered"
                             % headers["sec-websocket-extensions"])
    return rest, headers.get("sec-websocket-extensions", "")


def server_handshake(sock, deadline, choose_extensions=None):
    """Accept an upgrade request as a server; returns (request path, bytes past the head).

    `choose_extensions(path, offered)` gets the request's Sec-WebSocket-Extensions
    value ("" if none) and returns the value to answer with, or None to select
    no extension; it raises HandshakeError to refuse the request with 400.
    Without it every extension offer is declined.
    """
    head, rest = _read_http_head(sock, deadline)
    request_line, headers = _parse_head(head)
    problem = None
    parts = request_line.split(" ")
    key = headers.get("sec-websocket-key", "")
    try:
        key_ok = len(base64.b64decode(key, validate=True)) == 16
    except ValueError:
        key_ok = False
    if len(parts) != 3 or parts[0] != "GET" or parts[2] != "HTTP/1.1":
        problem = "bad request line %r" % request_line
    elif "host" not in headers:
        problem = "no Host header"
    elif "websocket" not in _tokens(headers.get("upgrade", "")):
        problem = "Upgrade header is %r" % headers.get("upgrade")
    elif "upgrade" not in _tokens(headers.get("connection", "")):
        problem = "Connection header is %r" % headers.get("connection")
    elif headers.get("sec-websocket-version") != "13":
        problem = "Sec-WebSocket-Version is %r" % headers.get("sec-websocket-version")
    elif not key_ok:
        problem = "Sec-WebSocket-Key %r is not 16 base64-encoded bytes" % key
    elif rest:
        problem = "client sent %d bytes before the handshake response" % len(rest)
    selected = None
    if not problem and choose_extensions is not None:
        try:
            selected = choose_extensions(parts[1], headers.get("sec-websocket-extensions", ""))
        except HandshakeError as e:
            problem = str(e)
    if problem:
        try:
            send_all(sock, b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", deadline)
        except OSError:
            pass
        raise HandshakeError(problem)
    response = (
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\n"
        "%s"
        "\r\n" % (accept_for(key), "Sec-WebSocket-Extensions: %s\r\n" % selected if selected else "")
    )
    send_all(sock, response.encode("ascii"), deadline)
    return parts[1], rest
