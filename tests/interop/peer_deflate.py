"""permessage-deflate (RFC 7692) for the Python peers: the messages both
directions send, extension headers in one comparable form, what the Duplex
server's response to an offer must look like, and a `websockets` extension
wrapper that records how every message arrived (compressed or not, and in
how many bytes). node_deflate.mjs mirrors this for the Node peers."""

import collections
import dataclasses
import random
import zlib

from websockets.extensions.base import Extension
from websockets.frames import Opcode
from websockets.headers import parse_extension

# The sizes of the deflate checks: empty, tiny, each side of the Duplex
# threshold (messages under 64 bytes go out uncompressed), and large ones.
DEFLATE_SIZES = (0, 1, 63, 64, 1000, 65536, 1024 * 1024)

# DeflateOptions::threshold of Duplex.
DUPLEX_THRESHOLD = 64

_PHRASE = "duplex deflate! "  # 16 bytes: a message of 64 compresses to about 20
_BINARY_PHRASE = bytes([0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE, 0x10, 0xEF] * 2)
_PRINTABLE = bytes(32 + b % 95 for b in range(256))


def compressible_text(size):
    return (_PHRASE * (size // len(_PHRASE) + 1))[:size]


def compressible_binary(size):
    return (_BINARY_PHRASE * (size // len(_BINARY_PHRASE) + 1))[:size]


def random_binary(size, seed):
    return random.Random(seed).randbytes(size)


def random_text(size, seed):
    """Printable ASCII from a seeded generator: about 6.6 bits a byte, so
    deflate gains little, and nothing repeats within a message."""
    return random_binary(size, seed).translate(_PRINTABLE).decode()


def repeated_block(size, block):
    """`block` over and over: back-references reach len(block) bytes back,
    farther than a 512- or 1024-byte window allows, so the repetition shows
    only to a compressor with a larger window."""
    return (block * (size // len(block) + 1))[:size]


def deflate_messages():
    """(label, message) in the order they are sent. Several in a row on one
    connection, so that a compression context kept (or wrongly kept) from
    one message to the next matters."""
    messages = []
    for size in DEFLATE_SIZES:
        messages += [
            (f"compressible text {size}", compressible_text(size)),
            (f"compressible binary {size}", compressible_binary(size)),
            (f"random text {size}", random_text(size, seed=size)),
            (f"random binary {size}", random_binary(size, seed=size + 1)),
        ]
    block = random_binary(3000, seed=3)
    messages += [
        (
            "3000-byte block repeated, text 65536",
            repeated_block(65536, block.translate(_PRINTABLE).decode()),
        ),
        ("3000-byte block repeated, binary 1048576", repeated_block(1024 * 1024, block)),
    ]
    # Short enough for the smallest window to reach back over (zlib's
    # 512-byte window keeps 262 bytes for look-ahead: 250 bytes back at most).
    twice = random_text(200, seed=99)
    messages += [("random text 200, first copy", twice), (SECOND_COPY, twice)]
    return messages


# The label of the message that repeats the one before it: with context
# takeover, its compressed form is a reference to that message.
SECOND_COPY = "random text 200, second copy"
# Compressed size under which the second copy shows the context was kept
# (without it, about 170 bytes).
SECOND_COPY_LIMIT = 60


def payload_bytes(message):
    return message.encode() if isinstance(message, str) else message


def compressible(message):
    """Whether deflate, even with the smallest window an endpoint may use
    (9 bits here: zlib does not compress with 8), shrinks the message to
    under three quarters: such a message must go out compressed."""
    data = payload_bytes(message)
    if not data:
        return False
    packer = zlib.compressobj(6, zlib.DEFLATED, -9)
    packed = packer.compress(data) + packer.flush(zlib.Z_SYNC_FLUSH)
    return len(packed) < 0.75 * len(data)


# --- Extension headers -----------------------------------------------------


def parse_header_values(values):
    """Sec-WebSocket-Extensions values -> [(name, [(param, value or None)])]."""
    extensions = []
    for value in values:
        extensions += parse_extension(value)
    return extensions


def canonical(extensions):
    """One comparable line: "none", or "permessage-deflate; a; b=10" with
    the parameters sorted (their order carries no meaning)."""
    if not extensions:
        return "none"
    parts = []
    for name, params in extensions:
        items = sorted(p if v is None else f"{p}={v}" for p, v in params)
        parts.append("; ".join([name] + items))
    return ", ".join(parts)


def canonical_header(values):
    return canonical(parse_header_values(values))


# --- What the Duplex server must answer ------------------------------------


@dataclasses.dataclass
class DuplexDeflate:
    """A Duplex server's DeflateOptions, as `duplex serve`/the interop server
    flags set them."""

    server_context_takeover: bool = False
    client_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15

    def flags(self):
        flags = ["--deflate"]
        if self.server_context_takeover:
            flags.append("--deflate-server-context-takeover")
        if self.client_context_takeover:
            flags.append("--deflate-client-context-takeover")
        if self.server_max_window_bits != 15:
            flags += ["--deflate-server-window-bits", str(self.server_max_window_bits)]
        if self.client_max_window_bits != 15:
            flags += ["--deflate-client-window-bits", str(self.client_max_window_bits)]
        return flags

    def as_json(self):
        return dataclasses.asdict(self)


KNOWN_PARAMS = (
    "server_no_context_takeover",
    "client_no_context_takeover",
    "server_max_window_bits",
    "client_max_window_bits",
)


def _window_bits(value):
    if value is None or not value.isdigit() or len(value) > 2:
        return None
    bits = int(value)
    return bits if 8 <= bits <= 15 else None


def offer_problem(params):
    """Why the Duplex server must decline this offer, or None. RFC 7692
    section 7: unknown parameters, invalid values and repeated parameters
    make an offer one to decline; and Duplex declines server_max_window_bits=8
    (zlib cannot compress with a 256-byte window)."""
    seen = set()
    for name, value in params:
        if name in seen:
            return f"{name} twice"
        seen.add(name)
        if name in ("server_no_context_takeover", "client_no_context_takeover"):
            if value is not None:
                return f"{name} with a value"
        elif name == "server_max_window_bits":
            bits = _window_bits(value)
            if bits is None:
                return f"server_max_window_bits={value}"
            if bits == 8:
                return "server_max_window_bits=8"
        elif name == "client_max_window_bits":
            if value is not None and _window_bits(value) is None:
                return f"client_max_window_bits={value}"
        else:
            return f"unknown parameter {name}"
    return None


def response_problems(offers, config, response):
    """What is wrong with `response` (parsed Sec-WebSocket-Extensions of the
    101) as the Duplex server's answer to `offers` (each a parameter list of
    a permessage-deflate offer, in the order sent) with DeflateOptions
    `config`; [] when nothing is. RFC 7692 where it decides, and where it
    leaves a choice, what the Duplex documentation promises: the first
    acceptable offer is taken; server_no_context_takeover and
    client_no_context_takeover unless configured otherwise; the configured
    client window when the client let the server choose one."""
    acceptable = [o for o in offers if offer_problem(o) is None]
    if not acceptable:
        if response:
            return [f"accepted {canonical(response)}, but no offer was acceptable"]
        return []
    if len(response) != 1 or response[0][0] != "permessage-deflate":
        return [f"answered {canonical(response)}, expected permessage-deflate"]
    offer = dict(acceptable[0])
    params = response[0][1]
    answer = dict(params)
    problems = []
    names = [name for name, _ in params]
    for name in set(names):
        if names.count(name) > 1:
            problems.append(f"{name} twice")
        if name not in KNOWN_PARAMS:
            problems.append(f"unknown parameter {name}")
    for flag in ("server_no_context_takeover", "client_no_context_takeover"):
        if flag in answer and answer[flag] is not None:
            problems.append(f"{flag}={answer[flag]}")

    # server_no_context_takeover: required when offered (7.1.1.1), and the
    # Duplex server announces it unless it keeps its context.
    want = "server_no_context_takeover" in offer or not config["server_context_takeover"]
    if ("server_no_context_takeover" in answer) != want:
        problems.append(
            "server_no_context_takeover " + ("missing" if want else "although it keeps its context")
        )
    # client_no_context_takeover: asked for unless configured otherwise;
    # then it may only acknowledge the client's own offer of it.
    if not config["client_context_takeover"]:
        if "client_no_context_takeover" not in answer:
            problems.append("client_no_context_takeover missing")
    elif "client_no_context_takeover" in answer and "client_no_context_takeover" not in offer:
        problems.append("client_no_context_takeover although configured to allow takeover")

    # server_max_window_bits: required when offered, at most the offered
    # value (7.1.2.1); 8 is never agreed to (zlib cannot compress with it).
    if "server_max_window_bits" in answer:
        bits = _window_bits(answer["server_max_window_bits"])
        limit = min(int(offer.get("server_max_window_bits", 15)), config["server_max_window_bits"])
        if bits is None or not 9 <= bits <= limit:
            problems.append(
                f"server_max_window_bits={answer['server_max_window_bits']}, expected 9..{limit}"
            )
    elif "server_max_window_bits" in offer:
        offered = offer["server_max_window_bits"]
        problems.append(f"server_max_window_bits missing (offered {offered})")

    # client_max_window_bits: never when not offered (7.1.2.2); when offered,
    # at most the offered value, and at most the configured limit.
    if "client_max_window_bits" not in offer:
        if "client_max_window_bits" in answer:
            problems.append("client_max_window_bits although the offer had none")
    else:
        offered = offer["client_max_window_bits"]
        offered_limit = 15 if offered is None else int(offered)
        if "client_max_window_bits" in answer:
            bits = _window_bits(answer["client_max_window_bits"])
            limit = min(offered_limit, config["client_max_window_bits"])
            if bits is None or bits > limit:
                problems.append(
                    f"client_max_window_bits={answer['client_max_window_bits']}, "
                    f"expected 8..{limit}"
                )
        elif config["client_max_window_bits"] < offered_limit:
            problems.append(
                f"client_max_window_bits missing (configured {config['client_max_window_bits']}, "
                f"offered {offered or 'without a value'})"
            )
    return problems


# --- Recording how messages arrive -----------------------------------------


@dataclasses.dataclass
class Arrival:
    compressed: bool  # RSV1 on the first frame
    wire_bytes: int  # payload bytes as received, before inflating


class RecordingDeflate(Extension):
    """Wraps the PerMessageDeflate a factory negotiated: every data message
    received leaves an Arrival in `arrivals` (oldest first), then decoding
    goes on unchanged."""

    def __init__(self, inner, arrivals):
        self.inner = inner
        self.name = inner.name
        self.arrivals = arrivals

    def decode(self, frame, *, max_size=None):
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            self.arrivals.append(Arrival(frame.rsv1, len(frame.data)))
        elif frame.opcode is Opcode.CONT and self.arrivals:
            self.arrivals[-1].wire_bytes += len(frame.data)
        return self.inner.decode(frame, max_size=max_size)

    def encode(self, frame):
        return self.inner.encode(frame)

    def __repr__(self):
        return f"Recording({self.inner!r})"


def new_arrivals():
    return collections.deque()


def arrival_problem(label, message, arrival, sender_takes_over):
    """Why the way `message`, sent by Duplex, arrived breaks what Duplex
    promises (it compresses messages of 64 bytes and more that deflate
    shrinks, sends shorter ones as they are, and when it may keep its context,
    compresses a repeated message to a reference), or None."""
    size = len(payload_bytes(message))
    if size < DUPLEX_THRESHOLD and arrival.compressed:
        return f"{label}: compressed, although under the {DUPLEX_THRESHOLD}-byte threshold"
    if size >= DUPLEX_THRESHOLD and compressible(message) and not arrival.compressed:
        return f"{label}: arrived uncompressed ({size} bytes)"
    if label == SECOND_COPY and sender_takes_over and arrival.wire_bytes >= SECOND_COPY_LIMIT:
        return (
            f"{label}: {arrival.wire_bytes} bytes compressed; with context takeover, "
            f"under {SECOND_COPY_LIMIT} expected"
        )
    return None
