"""The vocabulary the case table is written in.

A case is data: a list of steps the harness performs and what it expects the
peer to do.  The same plan runs in both directions; only masking differs
(the harness masks when it plays the client, and never when it plays the
server), which session.py takes care of.
"""

from dataclasses import dataclass, field
from typing import Callable, Optional

# How bytes of a step reach the socket.
#   None    - queued and written together with neighbouring steps ("one chop")
#   "frame" - each frame written on its own, with a short pause after it
#   int n   - the step's bytes written in pieces of n octets
CHOP_FRAME = "frame"


@dataclass
class Frame:
    """One frame exactly as described, whether legal or not."""
    opcode: int
    payload: bytes = b""
    fin: bool = True
    rsv: int = 0
    chop: object = None


@dataclass
class Message:
    """A data message, optionally split into fragments of `frag` bytes.

    With permessage-deflate agreed the payload is compressed first (unless
    `compress` is False) and `frag` applies to the compressed bytes, RSV1 on
    the first frame only (RFC 7692 6.1).
    """
    opcode: int
    payload: bytes
    frag: Optional[int] = None
    chop: object = None
    compress: Optional[bool] = None


@dataclass
class Close:
    """A Close frame: code/reason, or a raw payload when the case needs a bad one."""
    code: Optional[int] = None
    reason: bytes = b""
    raw: Optional[bytes] = None


@dataclass
class Sleep:
    seconds: float


@dataclass
class WaitFail:
    """Fail-fast probe: give the peer `seconds` to fail the connection.

    If it does, the remaining steps are skipped; if it does not, the event
    ("timeout", label) is recorded and the plan goes on.
    """
    label: str
    seconds: float = 1.0


@dataclass
class SplitFrame:
    """One frame written in three parts, with a fail-fast probe after each of the first two.

    `cuts` are payload offsets; masking runs across the whole frame, so the
    parts are slices of a single correctly masked frame.
    """
    opcode: int
    payload: bytes
    cuts: tuple
    labels: tuple = ("A", "B")
    seconds: float = 1.0


@dataclass
class RttLoop:
    """Send `count` messages one at a time, each only after the previous echo arrived."""
    opcode: int
    payload: bytes
    count: int


@dataclass
class EchoEach:
    """Send each payload as a message, each only after the previous echo arrived."""
    opcode: int
    payloads: list
    frag: Optional[int] = None


@dataclass(frozen=True)
class CloseExpect:
    """How the connection must end.

    kind "normal": once the expected events arrived the harness closes with
        1000; the peer must answer with a Close whose code is in `codes` (an
        empty Close is accepted too, as RFC 6455 makes the code optional).
    kind "sent": the steps already sent a Close; the peer must answer it with
        a code in `codes`.
    kind "fail": the peer must fail the connection itself, with a code in `codes`.
    `strict_code`: a wrong code is FAILED rather than NON-STRICT (used where
        the close code is the very thing under test).
    `lenient`: with strict_code, codes that are NON-STRICT rather than FAILED.
    `exit`: what the client's exit status should be in the client direction
        ("zero", "nonzero" or "any").
    """
    kind: str
    codes: tuple = (1000,)
    strict_code: bool = False
    exit: str = "zero"
    lenient: tuple = ()


def normal_close():
    return CloseExpect("normal", (1000,), False, "zero")


def peer_fails(code=1002):
    return CloseExpect("fail", (code,), False, "nonzero")


def answers_close(*codes, exit, strict=True):
    return CloseExpect("sent", tuple(codes), strict, exit)


@dataclass(frozen=True)
class Want:
    """permessage-deflate parameters the harness, as the server, wants to answer with.

    Only what RFC 7692 lets the offer being accepted allow is ever sent; see
    pmd.fit().  None means "leave the parameter out" (for the window sizes:
    unless the offer makes it mandatory).
    """
    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: Optional[int] = None
    client_max_window_bits: Optional[int] = None


@dataclass(frozen=True)
class Deflate:
    """How a case negotiates permessage-deflate (RFC 7692).

    offers:    harness as client: the extension offers it sends, in order of
               preference, each a tuple of (parameter, value or None).
    accepts:   harness as server: the answers it tries, in order, against the
               client's offers (the first that RFC 7692 allows wins).
    negotiate: False to offer nothing / decline every offer (for cases that
               check that RSV1 fails a connection without the extension).
    """
    offers: tuple = ((),)
    accepts: tuple = (Want(),)
    negotiate: bool = True


@dataclass
class Plan:
    steps: list
    ok: list = field(default_factory=list)       # received events for OK
    non_strict: Optional[list] = None             # received events for NON-STRICT
    non_strict_why: str = ""
    judge_events: Optional[Callable] = None       # overrides ok/non_strict when set
    close: CloseExpect = field(default_factory=normal_close)
    informational: bool = False                   # outcome is reported, not judged
    deflate: Optional[Deflate] = None             # permessage-deflate negotiation, if any


@dataclass
class Case:
    id: str
    description: str
    build: Callable[[], Plan]  # built lazily: category 9 payloads are large
    weight_mib: float = 0.0    # traffic volume, used to scale the timeout
    extra_seconds: float = 0.0
    extension: bool = False    # needs permessage-deflate: run only when selected by id

    def sort_key(self):
        return tuple(int(p) for p in self.id.split("."))


# Events as the session records them, and as plans expect them.
def text(payload):
    return ("text", payload)


def binary(payload):
    return ("binary", payload)


def pong(payload):
    return ("pong", payload)


def timeout(label):
    return ("timeout", label)
