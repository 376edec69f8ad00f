"""permessage-deflate (RFC 7692) cases: Autobahn categories 12 and 13, and our 14.

12.k.i  echo of compressed messages, default offer; k = payload kind, i = size
13.j.i  the same JSON payloads under different negotiated parameters
14.x    beyond Autobahn: data that does not inflate, misplaced RSV1, a
        decompression bomb, and edge cases every receiver has to accept

Autobahn sends 1000 messages in every 12/13 case (up to 128 MiB each way).
Here the count is scaled down so that a case moves about 1 MiB: at most 1000
messages, at least 4 (the description of each case says how many).
"""

import payloads
from plan import (CloseExpect, Deflate, EchoEach, Frame, Message, Plan, Want, binary, peer_fails,
                  pong, text)
from pmd import deflate_final, deflate_once
from wsproto_raw import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT

KIB = 1024
VOLUME = 1024 * KIB   # payload octets per case (each way)
MAX_COUNT = 1000
MIN_COUNT = 4

# The peer's largest accepted message, for the 14.3 cases; the runners set it
# from --max-message.
SETTINGS = {"max_message": 1024 * KIB}

# (payload size, fragment size of the compressed payload or None), numbered as
# Autobahn's 12.x.1-12.x.18, then two 256 KiB cases of our own.
SIZES = [(16, None), (64, None), (256, None), (1 * KIB, None), (4 * KIB, None), (8 * KIB, None),
         (16 * KIB, None), (32 * KIB, None), (64 * KIB, None), (128 * KIB, None),
         (8 * KIB, 256), (16 * KIB, 256), (32 * KIB, 256), (64 * KIB, 256), (128 * KIB, 256),
         (128 * KIB, 1 * KIB), (128 * KIB, 4 * KIB), (128 * KIB, 32 * KIB),
         (256 * KIB, None), (256 * KIB, 64 * KIB)]

KINDS = [  # (title, corpus, opcode)
    ("prose in several languages", payloads.prose, OP_TEXT),
    ("a grayscale picture", payloads.image, OP_BINARY),
    ("random octets", payloads.noise, OP_BINARY),
    ("JSON records", payloads.records, OP_TEXT),
    ("HTML markup", payloads.markup, OP_TEXT),
]

NCT = (("server_no_context_takeover", None), ("client_no_context_takeover", None))


def _bits(server, client):
    return (("server_max_window_bits", str(server)), ("client_max_window_bits", str(client)))


DEFAULT = Deflate(offers=((),), accepts=(Want(),))

# 13.j: (title, Deflate).  Offers are what the harness sends as the client;
# accepts are what it answers with as the server, when the client's offer
# allows it (else the case is UNSUPPORTED).  Autobahn uses window size 8
# where we use 9: zlib cannot compress with a 256-byte window.
PARAMS_13 = [
    ("offer client_max_window_bits (no value); accept as offered",
     Deflate(offers=((("client_max_window_bits", None),),), accepts=(Want(),))),
    ("no context takeover either way",
     Deflate(offers=(NCT,), accepts=(Want(True, True),))),
    ("9-bit windows both ways",
     Deflate(offers=(_bits(9, 9),), accepts=(Want(False, False, 9, 9),))),
    ("15-bit windows both ways, named explicitly",
     Deflate(offers=(_bits(15, 15),), accepts=(Want(False, False, 15, 15),))),
    ("9-bit windows and no context takeover both ways",
     Deflate(offers=(NCT + _bits(9, 9),), accepts=(Want(True, True, 9, 9),))),
    ("15-bit windows and no context takeover both ways",
     Deflate(offers=(NCT + _bits(15, 15),), accepts=(Want(True, True, 15, 15),))),
    ("three offers in order of preference: server_max_window_bits=8 with no context takeover "
     "(zlib servers must decline it), no context takeover, plain; the server side answers "
     "with the first of (9-bit windows, no takeover), (no takeover), plain that the offer allows",
     Deflate(offers=(NCT + (("server_max_window_bits", "8"), ("client_max_window_bits", None)),
                     NCT, ()),
             accepts=(Want(True, True, 9, 9), Want(True, True), Want()))),
]


def _count(size):
    return max(MIN_COUNT, min(MAX_COUNT, VOLUME // size))


def _echo_plan(corpus, opcode, size, frag, deflate, start):
    count = _count(size)
    msgs = payloads.slices(corpus(), size, count, opcode == OP_TEXT, start)
    make = text if opcode == OP_TEXT else binary
    return Plan([EchoEach(opcode, msgs, frag)], ok=[make(m) for m in msgs], deflate=deflate)


def _size_text(size, frag):
    s = "%d B" % size if size < KIB else "%d KiB" % (size // KIB)
    return s + (", compressed payload in frames of %d B" % frag if frag else "")


def register(add):
    # ------------------------------------------------------------ 12: default offer
    for k, (title, corpus, opcode) in enumerate(KINDS, 1):
        for i, (size, frag) in enumerate(SIZES, 1):
            add("12.%d.%d" % (k, i),
                "Send %d compressed %s messages of %s (%s), one at a time; default offer "
                "'permessage-deflate'" % (_count(size), "text" if opcode == OP_TEXT else "binary",
                                         _size_text(size, frag), title),
                lambda c=corpus, o=opcode, s=size, f=frag, k=k, i=i: _echo_plan(
                    c, o, s, f, DEFAULT, start=k * 7919 + i * 104729),
                weight_mib=_count(size) * size / (1024 * KIB), extra_seconds=5, extension=True)

    # ------------------------------------------------------------ 13: parameters
    for j, (title, deflate) in enumerate(PARAMS_13, 1):
        for i, (size, frag) in enumerate(SIZES, 1):
            add("13.%d.%d" % (j, i),
                "Send %d compressed text messages of %s (JSON records), one at a time; %s"
                % (_count(size), _size_text(size, frag), title),
                lambda d=deflate, s=size, f=frag, j=j, i=i: _echo_plan(
                    payloads.records, OP_TEXT, s, f, d, start=j * 7919 + i * 104729),
                weight_mib=_count(size) * size / (1024 * KIB), extra_seconds=5, extension=True)

    _register_14(add)


# ---------------------------------------------------------------- 14

HELLO = b"Hello, compressed world! " * 4
_FIRST = "failed before echoing the valid compressed message sent first"


def _inflate_fails():
    # RFC 7692 leaves the close code open; 1007 (data inconsistent with the
    # message type) is the one that fits, 1002 is accepted as NON-STRICT.
    return CloseExpect("fail", (1007,), True, "nonzero", lenient=(1002,))


def _after_echo(steps, close):
    return Plan([Message(OP_TEXT, HELLO)] + steps, ok=[text(HELLO)], non_strict=[],
                non_strict_why=_FIRST, close=close, deflate=DEFAULT)


def _bomb(frag):
    limit = SETTINGS["max_message"]
    return Plan([Message(OP_BINARY, bytes(4 * limit + 1), frag=frag)], close=peer_fails(1009),
                deflate=DEFAULT)


def _at_limit():
    limit = SETTINGS["max_message"]
    payload = bytes(limit)
    return Plan([Message(OP_BINARY, payload)], ok=[binary(payload)], deflate=DEFAULT)


def _register_14(add):
    def add14(cid, description, build, **kw):
        add(cid, description, build, extension=True, **kw)

    compressed = deflate_once(HELLO)
    # 14.1: compressed payloads that do not inflate
    add14("14.1.1", "Send a compressed text message whose DEFLATE data has an invalid block type",
          lambda: Plan([Frame(OP_TEXT, b"\xff\xff\xff\xff", rsv=4)], close=_inflate_fails(),
                       deflate=DEFAULT))
    add14("14.1.2", "Send, as the first message, compressed text that refers back to data "
                    "before the start of the stream (compressed with a preset dictionary)",
          lambda: Plan([Frame(OP_TEXT, deflate_once(HELLO, zdict=HELLO), rsv=4)],
                       close=_inflate_fails(), deflate=DEFAULT))
    add14("14.1.3", "Send a compressed text message in 2 fragments: valid DEFLATE data, then "
                    "octets that are not",
          lambda: Plan([Frame(OP_TEXT, compressed, fin=False, rsv=4),
                        Frame(OP_CONT, b"\xff\xff\xff\xff")], close=_inflate_fails(),
                       deflate=DEFAULT))
    # 14.2: RSV1 where RFC 7692 6.1 does not allow it
    half = len(compressed) // 2
    add14("14.2.1", "Send a compressed message, then one in 2 fragments with RSV1 set on both",
          lambda: _after_echo([Frame(OP_TEXT, compressed[:half], fin=False, rsv=4),
                               Frame(OP_CONT, compressed[half:], rsv=4)], peer_fails(1002)))
    add14("14.2.2", "Send a compressed message, then an uncompressed one in 2 fragments with "
                    "RSV1 set on the continuation frame only",
          lambda: _after_echo([Frame(OP_TEXT, HELLO[:10], fin=False),
                               Frame(OP_CONT, HELLO[10:], rsv=4)], peer_fails(1002)))
    add14("14.2.3", "Send a compressed message, then a ping with RSV1 set",
          lambda: _after_echo([Frame(OP_PING, b"ping", rsv=4)], peer_fails(1002)))
    add14("14.2.4", "Send a compressed message, then a pong with RSV1 set",
          lambda: _after_echo([Frame(OP_PONG, b"pong", rsv=4)], peer_fails(1002)))
    add14("14.2.5", "Send a compressed message, then a close frame (1000) with RSV1 set",
          lambda: _after_echo([Frame(OP_CLOSE, b"\x03\xe8", rsv=4)], peer_fails(1002)))
    add14("14.2.6", "Without permessage-deflate negotiated (no offer / offer declined), send a "
                    "text message with RSV1 set and a compressed payload",
          lambda: Plan([Frame(OP_TEXT, compressed, rsv=4)], close=peer_fails(1002),
                       deflate=Deflate(negotiate=False)))
    # 14.3: the peer's message size limit applies to the inflated message
    add14("14.3.1", "Send a compressed binary message (a few KiB) that inflates to 4 times the "
                    "peer's max message size plus 1 (runner option --max-message)",
          lambda: _bomb(None), extra_seconds=5)
    add14("14.3.2", "As 14.3.1, the compressed payload in frames of 1 KiB",
          lambda: _bomb(KIB), extra_seconds=5)
    add14("14.3.3", "Send a compressed binary message that inflates to exactly the peer's max "
                    "message size (must be echoed)",
          _at_limit, weight_mib=2, extra_seconds=5)
    # 14.4: what every receiver has to accept
    add14("14.4.1", "Send an empty compressed text message (a single 0x00 octet, RFC 7692 7.2.3.6)",
          lambda: Plan([Frame(OP_TEXT, b"\x00", rsv=4)], ok=[text(b"")], deflate=DEFAULT))
    add14("14.4.2", "Send compressed and uncompressed messages alternately (RSV1 set on every "
                    "other message)",
          lambda: Plan([Message(OP_TEXT, HELLO + b"%d" % i, compress=i % 2 == 0) for i in range(6)],
                       ok=[text(HELLO + b"%d" % i) for i in range(6)], deflate=DEFAULT))
    add14("14.4.3", "Send one compressed message that ends with a DEFLATE block with BFINAL set "
                    "(RFC 7692 7.2.3.4), then nothing else compressed",
          lambda: Plan([Frame(OP_TEXT, deflate_final(HELLO), rsv=4)], ok=[text(HELLO)],
                       deflate=DEFAULT))
    add14("14.4.4", "Send a compressed message in 1-octet fragments with a ping after the first",
          lambda: Plan([Frame(OP_TEXT, compressed[:1], fin=False, rsv=4), Frame(OP_PING, b"in between")]
                       + [Frame(OP_CONT, compressed[i:i + 1], fin=i == len(compressed) - 1)
                          for i in range(1, len(compressed))],
                       ok=[pong(b"in between"), text(HELLO)], deflate=DEFAULT))
    add14("14.4.5", "Send compressed text whose UTF-8 characters are split across fragments of "
                    "the compressed payload",
          lambda: Plan([Message(OP_TEXT, "Grüße, Zürich! 東京 ☃ ".encode() * 20, frag=3)],
                       ok=[text("Grüße, Zürich! 東京 ☃ ".encode() * 20)], deflate=DEFAULT))
