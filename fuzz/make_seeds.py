#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/ (small, hand-picked inputs)."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def handshake(target, name, data, split=0xFF):
    """Handshake targets read their first byte as where to split the rest."""
    write(target, name, bytes([split]) + (data if isinstance(data, bytes) else data.encode()))


def frame(opcode, payload, fin=True, rsv=0, mask=None):
    if isinstance(payload, str):
        payload = payload.encode()
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = bytes([b0, mbit | n])
    elif n < 65536:
        head = bytes([b0, mbit | 126]) + struct.pack("!H", n)
    else:
        head = bytes([b0, mbit | 127]) + struct.pack("!Q", n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += bytes(mask)
    return head + payload


REQUEST = (
    "GET /chat?room=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n"
)
handshake("request_parser", "rfc", REQUEST)
handshake("request_parser", "firefox",
      "GET / HTTP/1.1\r\nHost: localhost:9002\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\n"
      "Sec-WebSocket-Version: 13\r\nOrigin: http://localhost:9002\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate\r\nSec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n"
      "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n")
handshake("request_parser", "extensions",
      REQUEST.replace("\r\n\r\n", "\r\nSec-WebSocket-Extensions: permessage-deflate; "
                      "client_max_window_bits; server_max_window_bits=\"10\", x-foo\r\n\r\n"))
handshake("request_parser", "version8", REQUEST.replace("Version: 13", "Version: 8"))
handshake("request_parser", "post", REQUEST.replace("GET", "POST", 1))
handshake("request_parser", "folded", REQUEST.replace("Origin:", " Origin:"))
handshake("request_parser", "in_pieces", REQUEST, split=40)
handshake("request_parser", "with_frame", REQUEST.encode() + frame(1, "early", mask=[1, 2, 3, 4]))
handshake("request_parser", "plain_get", "GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n")
handshake("request_parser", "allowed_origin", REQUEST.replace("http://example.com", "https://a.example"))

ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
handshake("response_parser", "switching",
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Protocol: chat\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n\r\n")
handshake("response_parser", "switching_with_frame",
      b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
      + frame(1, "Hello"))
handshake("response_parser", "rejected",
      "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nforbidden\n")
handshake("response_parser", "rejected_to_eof",
          "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n\r\nbusy, come back", split=60)
handshake("response_parser", "wrong_accept",
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      f"Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n")

MASK = [0x37, 0xFA, 0x21, 0x3D]
for role, mask in (("connection_server", MASK), ("connection_client", None)):
    opts = bytes([7, 7, 63])  # large limits, auto pong, whole reads
    split = bytes([7, 0x87, 0])  # echo, one byte at a time
    write(role, "hello", opts + frame(1, "Hello", mask=mask))
    write(role, "fragmented_with_ping", split + frame(1, "Hel", fin=False, mask=mask)
          + frame(9, "ping", mask=mask) + frame(0, "lo", mask=mask))
    write(role, "binary_256", opts + frame(2, bytes(range(256)), mask=mask))
    write(role, "close", opts + frame(8, struct.pack("!H", 1000) + b"bye", mask=mask))
    write(role, "bad_utf8", opts + frame(1, b"\xce\xba\xed\xa0\x80", mask=mask))
    write(role, "reserved", opts + frame(2, "x", rsv=4, mask=mask))
    write(role, "many", split + b"".join(frame(op, p, mask=mask) for op, p in
                                         [(1, "a"), (2, "bb"), (10, "pong"), (1, "\u00e9t\u00e9"), (8, "")]))

def raw_deflate(data, wbits=15):
    import zlib
    c = zlib.compressobj(6, zlib.DEFLATED, -wbits)
    return (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


# inflate: 2 option bytes (context/window, limit/piece), then a compressed message.
write("inflate", "hello", bytes([0, 5]) + raw_deflate(b"Hello, Hello, Hello, WebSocket"))
write("inflate", "zeros", bytes([3, 200]) + raw_deflate(bytes(100000)))
write("inflate", "text_w9", bytes([0, 17]) + raw_deflate(b"the quick brown fox " * 50, 9))
write("inflate", "garbage", bytes([1, 1]) + bytes(range(7, 71)))


write("utf8", "ascii", b"\x05Hello, world")
write("utf8", "mixed", b"\x03\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5 \xf0\x9f\x98\x80")
write("utf8", "surrogate", b"\x01a\xed\xa0\x80")
write("utf8", "overlong", b"\x02\xe0\x80\x80")
