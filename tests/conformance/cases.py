"""The case table: Autobahn TestSuite categories 1 to 10, numbered the same way.

Every entry says what the harness sends (plan.py steps) and what the peer,
an echo endpoint, must do in return.  Payloads of large cases are built only
when the case runs.  The permessage-deflate categories 12-14 live in
cases_deflate.py; they run only when --cases names them.
"""

import fnmatch
import random

from cases_deflate import register as register_deflate_cases
from plan import (CHOP_FRAME, Case, Close, Frame, Message, Plan, RttLoop, Sleep,
                  SplitFrame, WaitFail, answers_close, binary, normal_close,
                  peer_fails, pong, text, timeout)
from utf8_vectors import FIRST_GROUP_NUMBER, GROUPS, KOSME, is_valid_utf8
from wsproto_raw import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT

CASES = []

HELLO = b"Hello, world!"
SMALL_BINARY = b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
KIB = 1024
MIB = 1024 * 1024


def add(cid, description, build, weight_mib=0.0, extra_seconds=0.0, extension=False):
    CASES.append(Case(cid, description, build, weight_mib, extra_seconds, extension))


def echo(step, event):
    return Plan([step], ok=[event], close=normal_close())


def text_pattern(n):
    return (b"BAsd7&jh23" * (n // 10 + 1))[:n]


def binary_pattern(n):
    # Not a constant byte: a peer that reorders or drops chunks must show up.
    return random.Random(n).randbytes(n)


# ---------------------------------------------------------------- 1 Framing

_SIZES_1 = [0, 125, 126, 127, 128, 65535, 65536]
for _i, _n in enumerate(_SIZES_1, 1):
    add("1.1.%d" % _i, "Send text message with payload of length %d" % _n,
        lambda n=_n: echo(Message(OP_TEXT, b"*" * n), text(b"*" * n)))
    add("1.2.%d" % _i, "Send binary message with payload of length %d" % _n,
        lambda n=_n: echo(Message(OP_BINARY, b"\xfe" * n), binary(b"\xfe" * n)))
add("1.1.8", "Send text message with payload of length 65536, written in chops of 997 octets",
    lambda: echo(Message(OP_TEXT, b"*" * 65536, chop=997), text(b"*" * 65536)))
add("1.2.8", "Send binary message with payload of length 65536, written in chops of 997 octets",
    lambda: echo(Message(OP_BINARY, b"\xfe" * 65536, chop=997), binary(b"\xfe" * 65536)))

# ---------------------------------------------------------------- 2 Pings/Pongs


def _ping_echo(payload, chop=None):
    return Plan([Frame(OP_PING, payload, chop=chop)], ok=[pong(payload)])


def _many_pings(chop):
    payloads = [b"payload-%d" % i for i in range(10)]

    def judge(events):
        got = [p for kind, p in events if kind == "pong"]
        if len(got) != len(events):
            return "FAILED", "unexpected events besides pongs"
        if got == payloads:
            return "OK", ""
        # RFC 6455 5.5.3 lets an endpoint answer only the most recent of
        # several pings it has not answered yet; Autobahn still wants all.
        it = iter(payloads)
        if got and got[-1] == payloads[-1] and all(p in it for p in got):
            return "NON-STRICT", "answered %d of 10 pings (RFC 6455 5.5.3 allows it)" % len(got)
        return "FAILED", "pongs %r do not answer the pings in order" % got

    return Plan([Frame(OP_PING, p, chop=chop) for p in payloads],
                ok=[pong(p) for p in payloads], judge_events=judge)


add("2.1", "Send ping without payload", lambda: _ping_echo(b""))
add("2.2", "Send ping with small text payload", lambda: _ping_echo(HELLO))
add("2.3", "Send ping with small binary (non UTF-8) payload", lambda: _ping_echo(SMALL_BINARY))
add("2.4", "Send ping with binary payload of 125 octets", lambda: _ping_echo(b"\xfe" * 125))
add("2.5", "Send ping with binary payload of 126 octets (too long for a control frame)",
    lambda: Plan([Frame(OP_PING, b"\xfe" * 126)], close=peer_fails(1002)))
add("2.6", "Send ping with binary payload of 125 octets, in octet-wise chops",
    lambda: _ping_echo(b"\xfe" * 125, chop=1))
add("2.7", "Send unsolicited pong without payload",
    lambda: Plan([Frame(OP_PONG)], ok=[]))
add("2.8", "Send unsolicited pong with payload",
    lambda: Plan([Frame(OP_PONG, b"unsolicited pong payload")], ok=[]))
add("2.9", "Send unsolicited pong with payload, then ping with payload",
    lambda: Plan([Frame(OP_PONG, b"unsolicited pong payload"), Frame(OP_PING, b"ping payload")],
                 ok=[pong(b"ping payload")]))
add("2.10", "Send 10 pings with payload", lambda: _many_pings(None))
add("2.11", "Send 10 pings with payload, in octet-wise chops", lambda: _many_pings(1))

# ---------------------------------------------------------------- 3 Reserved bits


def _rsv_after_echo(rsv, chop):
    return Plan([Frame(OP_TEXT, HELLO, chop=chop), Frame(OP_TEXT, HELLO, rsv=rsv, chop=chop),
                 Frame(OP_PING, chop=chop)],
                ok=[text(HELLO)], non_strict=[],
                non_strict_why="failed before echoing the valid message sent first",
                close=peer_fails(1002))


add("3.1", "Send small text message with RSV = 1",
    lambda: Plan([Frame(OP_TEXT, HELLO, rsv=1)], close=peer_fails(1002)))
add("3.2", "Send small text message, then again with RSV = 2, then a ping",
    lambda: _rsv_after_echo(2, None))
add("3.3", "Send small text message, then again with RSV = 3, then a ping; frame-wise chops",
    lambda: _rsv_after_echo(3, CHOP_FRAME))
add("3.4", "Send small text message, then again with RSV = 4, then a ping; octet-wise chops",
    lambda: _rsv_after_echo(4, 1))
add("3.5", "Send small binary message with RSV = 5",
    lambda: Plan([Frame(OP_BINARY, SMALL_BINARY, rsv=5)], close=peer_fails(1002)))
add("3.6", "Send ping with RSV = 6",
    lambda: Plan([Frame(OP_PING, HELLO, rsv=6)], close=peer_fails(1002)))
add("3.7", "Send close with RSV = 7",
    lambda: Plan([Frame(OP_CLOSE, rsv=7)], close=peer_fails(1002)))

# ---------------------------------------------------------------- 4 Opcodes


def _reserved_opcode(op, payload, after_echo):
    if not after_echo:
        return Plan([Frame(op, payload)], close=peer_fails(1002))
    return Plan([Frame(OP_TEXT, HELLO), Frame(op, payload), Frame(OP_PING)],
                ok=[text(HELLO)], non_strict=[],
                non_strict_why="failed before echoing the valid message sent first",
                close=peer_fails(1002))


_RESERVED = b"reserved opcode payload"
for _prefix, _ops in (("4.1", (3, 4, 5, 6, 7)), ("4.2", (11, 12, 13, 14, 15))):
    for _i, _op in enumerate(_ops, 1):
        _payload = b"" if _i in (1, 3) else _RESERVED
        _after = _i >= 3
        _desc = "Send frame with reserved %s opcode %d%s" % (
            "non-control" if _op < 8 else "control", _op,
            " and payload" if _payload else "")
        if _after:
            _desc = "Send small text message, then s" + _desc[1:] + ", then a ping"
        add("%s.%d" % (_prefix, _i), _desc,
            lambda op=_op, p=_payload, a=_after: _reserved_opcode(op, p, a))

# ---------------------------------------------------------------- 5 Fragmentation

F = [b"fragment1", b"fragment2", b"fragment3", b"fragment4", b"fragment5"]
_CHOPS = ((None, ""), (CHOP_FRAME, "; frame-wise chops"), (1, "; octet-wise chops"))

add("5.1", "Send ping fragmented into 2 fragments",
    lambda: Plan([Frame(OP_PING, F[0], fin=False), Frame(OP_CONT, F[1])], close=peer_fails(1002)))
add("5.2", "Send pong fragmented into 2 fragments",
    lambda: Plan([Frame(OP_PONG, F[0], fin=False), Frame(OP_CONT, F[1])], close=peer_fails(1002)))
for _k, (_chop, _how) in enumerate(_CHOPS):
    add("5.%d" % (3 + _k), "Send text message fragmented into 2 fragments" + _how,
        lambda c=_chop: Plan([Frame(OP_TEXT, F[0], fin=False, chop=c), Frame(OP_CONT, F[1], chop=c)],
                             ok=[text(F[0] + F[1])]))
    add("5.%d" % (6 + _k), "Send text message fragmented into 2 fragments, a ping in between" + _how,
        lambda c=_chop: Plan([Frame(OP_TEXT, F[0], fin=False, chop=c),
                              Frame(OP_PING, b"ping payload", chop=c),
                              Frame(OP_CONT, F[1], chop=c)],
                             ok=[pong(b"ping payload"), text(F[0] + F[1])]))
    for _base, _fin in ((9, True), (12, False)):
        add("5.%d" % (_base + _k),
            "Send continuation frame with FIN = %s where there is nothing to continue, "
            "then a text message%s" % (str(_fin).lower(), _how),
            lambda c=_chop, fin=_fin: Plan(
                [Frame(OP_CONT, b"non-continuation payload", fin=fin, chop=c),
                 Frame(OP_TEXT, HELLO, chop=c)],
                close=peer_fails(1002)))
add("5.15", "Send text message in 2 fragments, then a continuation frame with FIN = false "
            "where there is nothing to continue, then a text message",
    lambda: Plan([Frame(OP_TEXT, F[0], fin=False), Frame(OP_CONT, F[1]),
                  Frame(OP_CONT, F[2], fin=False), Frame(OP_TEXT, F[3])],
                 ok=[text(F[0] + F[1])], non_strict=[],
                 non_strict_why="failed before echoing the valid message sent first",
                 close=peer_fails(1002)))
for _n, _fin in ((16, False), (17, True)):
    add("5.%d" % _n, "Repeated 2x: continuation frame with FIN = %s (nothing to continue), "
                     "then a text message in 2 fragments" % str(_fin).lower(),
        lambda fin=_fin: Plan([Frame(OP_CONT, F[0], fin=fin), Frame(OP_TEXT, F[1], fin=False),
                               Frame(OP_CONT, F[2])] * 2, close=peer_fails(1002)))
add("5.18", "Send text message in 2 fragments, both with opcode text",
    lambda: Plan([Frame(OP_TEXT, F[0], fin=False), Frame(OP_TEXT, F[1])], close=peer_fails(1002)))


def _pings_inside_message(chop):
    pings = [b"pongme 1!", b"pongme 2!"]
    return Plan([Frame(OP_TEXT, F[0], fin=False, chop=chop), Frame(OP_CONT, F[1], fin=False, chop=chop),
                 Frame(OP_PING, pings[0], chop=chop), Sleep(1.0),
                 Frame(OP_CONT, F[2], fin=False, chop=chop), Frame(OP_CONT, F[3], fin=False, chop=chop),
                 Frame(OP_PING, pings[1], chop=chop), Frame(OP_CONT, F[4], chop=chop)],
                ok=[pong(pings[0]), pong(pings[1]), text(b"".join(F))])


add("5.19", "Text message in 5 fragments with a ping after the 2nd and the 4th; "
            "1 s pause after the first ping", lambda: _pings_inside_message(None))
add("5.20", "Same as 5.19, every frame written on its own", lambda: _pings_inside_message(CHOP_FRAME))

# ---------------------------------------------------------------- 6 UTF-8 handling

_MIXED = "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!".encode("utf-8")
_BROKEN = KOSME + b"\xed\xa0\x80" + b"edited"   # a surrogate in the middle
_P1, _P2, _P3 = KOSME, b"\xf4\x90\x80\x80", b"edited"  # U+110000 in the middle
_FAST = _P1 + _P2 + _P3
_NOT_FAST = "failed only after the whole message arrived, not at the first invalid octet"

add("6.1.1", "Send text message of length 0",
    lambda: echo(Message(OP_TEXT, b""), text(b"")))
add("6.1.2", "Send text message in 3 fragments, each of length 0",
    lambda: Plan([Frame(OP_TEXT, b"", fin=False), Frame(OP_CONT, b"", fin=False), Frame(OP_CONT, b"")],
                 ok=[text(b"")]))
add("6.1.3", "Send text message in 3 fragments, first and last of length 0",
    lambda: Plan([Frame(OP_TEXT, b"", fin=False), Frame(OP_CONT, b"middle frame payload", fin=False),
                  Frame(OP_CONT, b"")], ok=[text(b"middle frame payload")]))
add("6.2.1", "Send valid UTF-8 text message in one fragment",
    lambda: echo(Message(OP_TEXT, _MIXED), text(_MIXED)))
add("6.2.2", "Send valid UTF-8 text message in 2 fragments split on a code point boundary",
    lambda: Plan([Frame(OP_TEXT, _MIXED[:15], fin=False), Frame(OP_CONT, _MIXED[15:])],
                 ok=[text(_MIXED)]))
add("6.2.3", "Send valid UTF-8 text message in 1-octet fragments",
    lambda: echo(Message(OP_TEXT, _MIXED, frag=1), text(_MIXED)))
add("6.2.4", "Send valid UTF-8 text message (kosme) in 1-octet fragments",
    lambda: echo(Message(OP_TEXT, KOSME, frag=1), text(KOSME)))
add("6.3.1", "Send invalid UTF-8 text message in one fragment",
    lambda: Plan([Message(OP_TEXT, _BROKEN)], close=peer_fails(1007)))
add("6.3.2", "Send invalid UTF-8 text message in 1-octet fragments",
    lambda: Plan([Message(OP_TEXT, _BROKEN, frag=1)], close=peer_fails(1007)))


def _fail_fast_frames(parts):
    return Plan([Frame(OP_TEXT, parts[0], fin=False), WaitFail("A"),
                 Frame(OP_CONT, parts[1], fin=False), WaitFail("B"),
                 Frame(OP_CONT, parts[2])],
                ok=[timeout("A")], non_strict=[timeout("A"), timeout("B")],
                non_strict_why=_NOT_FAST, close=peer_fails(1007))


def _fail_fast_chops(cuts):
    return Plan([SplitFrame(OP_TEXT, _FAST, cuts)],
                ok=[timeout("A")], non_strict=[timeout("A"), timeout("B")],
                non_strict_why=_NOT_FAST, close=peer_fails(1007))


add("6.4.1", "Invalid UTF-8 text in 3 frames, 1 s pauses; the 2nd frame makes it invalid",
    lambda: _fail_fast_frames((_P1, _P2, _P3)), extra_seconds=2)
add("6.4.2", "As 6.4.1, the 2nd frame holds just the octet that makes it invalid",
    lambda: _fail_fast_frames((_FAST[:12], _FAST[12:13], _FAST[13:])), extra_seconds=2)
add("6.4.3", "As 6.4.1, but 3 chops of a single frame",
    lambda: _fail_fast_chops((11, 15)), extra_seconds=2)
add("6.4.4", "As 6.4.2, but 3 chops of a single frame",
    lambda: _fail_fast_chops((12, 13)), extra_seconds=2)


def _utf8_plan(seq):
    if is_valid_utf8(seq):
        return echo(Message(OP_TEXT, seq), text(seq))
    return Plan([Message(OP_TEXT, seq)], close=peer_fails(1007))


for _g, (_title, _seqs) in enumerate(GROUPS, FIRST_GROUP_NUMBER):
    for _j, _seq in enumerate(_seqs, 1):
        add("6.%d.%d" % (_g, _j), "%s: %s text 0x%s" % (
            _title, "valid" if is_valid_utf8(_seq) else "invalid", _seq.hex()[:40]),
            lambda s=_seq: _utf8_plan(s))

# ---------------------------------------------------------------- 7 Close handling

_HW = b"Hello World!"
add("7.1.1", "Send a message followed by a close frame",
    lambda: Plan([Message(OP_TEXT, _HW), Close(1000)], ok=[text(_HW)], non_strict=[],
                 # Autobahn grades a missing echo FAILED; RFC 6455 5.5.1 lets an
                 # endpoint answer the close without sending anything else first.
                 non_strict_why="answered the close without echoing the message sent before it",
                 close=answers_close(1000, exit="zero")))
add("7.1.2", "Send two close frames",
    lambda: Plan([Close(1000), Frame(OP_CLOSE)], close=answers_close(1000, exit="zero")))
add("7.1.3", "Send a ping after the close frame",
    lambda: Plan([Close(1000), Frame(OP_PING, _HW)], close=answers_close(1000, exit="zero")))
add("7.1.4", "Send a text message after the close frame",
    lambda: Plan([Close(1000), Message(OP_TEXT, _HW)], close=answers_close(1000, exit="zero")))
add("7.1.5", "Send message fragment 1, then the close frame, then fragment 2",
    lambda: Plan([Frame(OP_TEXT, F[0], fin=False), Close(1000), Frame(OP_CONT, F[1])],
                 close=answers_close(1000, exit="zero")))
add("7.1.6", "Send a 256 KiB message, a small message, a close frame and a ping, back to back "
             "(informational: whether the messages come back first is implementation defined)",
    lambda: Plan([Message(OP_TEXT, text_pattern(256 * KIB)), Message(OP_TEXT, _HW), Close(1000),
                  Frame(OP_PING)],
                 ok=[text(text_pattern(256 * KIB)), text(_HW)], informational=True,
                 close=answers_close(1000, exit="zero")))
add("7.3.1", "Send a close frame with empty payload",
    lambda: Plan([Close()], close=answers_close(1000, exit="any")))
add("7.3.2", "Send a close frame with a 1-octet payload",
    lambda: Plan([Close(raw=b"*")], close=answers_close(1002, exit="nonzero")))
add("7.3.3", "Send a close frame with code 1000 and no reason",
    lambda: Plan([Close(1000)], close=answers_close(1000, exit="zero")))
add("7.3.4", "Send a close frame with code 1000 and a reason",
    lambda: Plan([Close(1000, b"Hello World!")], close=answers_close(1000, exit="zero")))
add("7.3.5", "Send a close frame with code 1000 and a 123-octet reason (payload 125)",
    lambda: Plan([Close(1000, b"*" * 123)], close=answers_close(1000, exit="zero")))
add("7.3.6", "Send a close frame with code 1000 and a 124-octet reason (payload 126, too long)",
    lambda: Plan([Close(1000, b"*" * 124)], close=answers_close(1002, exit="nonzero")))
add("7.5.1", "Send a close frame with a reason that is not valid UTF-8",
    lambda: Plan([Close(1000, _BROKEN)], close=answers_close(1007, exit="nonzero")))

# The 13 valid codes Autobahn uses, then 1012-1014 (registered with IANA after
# RFC 6455 and valid on the wire), numbered past Autobahn's last 7.7 case.
_VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
                1012, 1013, 1014]
for _i, _code in enumerate(_VALID_CODES, 1):
    add("7.7.%d" % _i, "Send close with valid close code %d" % _code,
        lambda c=_code: Plan([Close(c)], close=answers_close(
            1000, c, exit="zero" if c in (1000, 1001) else "nonzero")))
# Autobahn's 9 invalid codes, then 1015 (reserved: never sent on the wire).
_INVALID_CODES = [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 1015]
for _i, _code in enumerate(_INVALID_CODES, 1):
    add("7.9.%d" % _i, "Send close with invalid close code %d" % _code,
        lambda c=_code: Plan([Close(raw=c.to_bytes(2, "big"))],
                             close=answers_close(1002, exit="nonzero")))
for _i, _code in enumerate((5000, 65535), 1):
    add("7.13.%d" % _i, "Send close with close code %d (beyond the defined ranges)" % _code,
        lambda c=_code: Plan([Close(raw=c.to_bytes(2, "big"))],
                             close=answers_close(1002, exit="nonzero")))

# ---------------------------------------------------------------- 9 Limits/performance

_BIG = [64 * KIB, 256 * KIB, 1 * MIB, 4 * MIB, 8 * MIB, 16 * MIB]
for _i, _n in enumerate(_BIG, 1):
    add("9.1.%d" % _i, "Send text message of %d KiB" % (_n // KIB),
        lambda n=_n: echo(Message(OP_TEXT, text_pattern(n)), text(text_pattern(n))),
        weight_mib=_n / MIB)
    add("9.2.%d" % _i, "Send binary message of %d KiB" % (_n // KIB),
        lambda n=_n: echo(Message(OP_BINARY, binary_pattern(n)), binary(binary_pattern(n))),
        weight_mib=_n / MIB)
_FRAGS = [64, 256, KIB, 4 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, MIB, 4 * MIB]
for _i, _f in enumerate(_FRAGS, 1):
    add("9.3.%d" % _i, "Send 4 MiB text message in fragments of %d octets" % _f,
        lambda f=_f: echo(Message(OP_TEXT, b"*" * (4 * MIB), frag=f), text(b"*" * (4 * MIB))),
        weight_mib=4 + (4 * MIB // _f) / 16384)
    add("9.4.%d" % _i, "Send 4 MiB binary message in fragments of %d octets" % _f,
        lambda f=_f: echo(Message(OP_BINARY, binary_pattern(4 * MIB), frag=f),
                          binary(binary_pattern(4 * MIB))),
        weight_mib=4 + (4 * MIB // _f) / 16384)
for _i, _c in enumerate([64, 128, 256, 512, 1024, 2048], 1):
    add("9.5.%d" % _i, "Send 1 MiB text message written in chops of %d octets" % _c,
        lambda c=_c: echo(Message(OP_TEXT, text_pattern(MIB), chop=c), text(text_pattern(MIB))),
        weight_mib=2)
    add("9.6.%d" % _i, "Send 1 MiB binary message written in chops of %d octets" % _c,
        lambda c=_c: echo(Message(OP_BINARY, binary_pattern(MIB), chop=c), binary(binary_pattern(MIB))),
        weight_mib=2)
for _i, _n in enumerate([0, 16, 64, 256, 1024, 4096], 1):
    add("9.7.%d" % _i, "Send 1000 text messages of %d octets, one at a time" % _n,
        lambda n=_n: Plan([RttLoop(OP_TEXT, b"*" * n, 1000)], ok=[text(b"*" * n)] * 1000),
        extra_seconds=20)
    add("9.8.%d" % _i, "Send 1000 binary messages of %d octets, one at a time" % _n,
        lambda n=_n: Plan([RttLoop(OP_BINARY, b"\xfe" * n, 1000)], ok=[binary(b"\xfe" * n)] * 1000),
        extra_seconds=20)

# ---------------------------------------------------------------- 10 Misc

add("10.1.1", "Send 64 KiB text message auto-fragmented into frames of 1300 octets",
    lambda: echo(Message(OP_TEXT, b"*" * 65536, frag=1300), text(b"*" * 65536)))

# ---------------------------------------------------------------- 12-14 permessage-deflate

register_deflate_cases(add)

CASES.sort(key=Case.sort_key)


def select(patterns):
    """Cases matching comma-separated patterns: "6.4.3", "6.4" (a prefix), "9.*",
    and "!9" to leave a group out.  Without any pattern that includes cases,
    the RFC 6455 categories 1-10 are selected; the permessage-deflate ones
    (12-14) only run when named."""
    include = [p for p in patterns if not p.startswith("!")]
    exclude = [p[1:] for p in patterns if p.startswith("!")]

    def hit(cid, pats):
        return any(cid == p or cid.startswith(p + ".") or fnmatch.fnmatchcase(cid, p) for p in pats)

    if not include:
        return [c for c in CASES if not c.extension and not hit(c.id, exclude)]
    return [c for c in CASES if hit(c.id, include) and not hit(c.id, exclude)]
