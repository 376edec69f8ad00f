"""What the Python peer programs share: the payloads, the constants both sides
of the interop tests agree on, and a frame counter for the `websockets`
protocol classes (its message API hides how a message was framed)."""

import collections
import math

from websockets.frames import Opcode

# The sizes RFC 6455 framing treats differently: the 7-bit, 16-bit and 64-bit
# length encodings and the edges between them, then large messages.
SIZES = (0, 1, 125, 126, 127, 65535, 65536, 1024 * 1024, 16 * 1024 * 1024)

# Fragmenting endpoints (ours started with --fragment-size, the peers' on
# /fragmented) send messages longer than this in frames of this size.
FRAGMENT_SIZE = 1000

# The one Origin the servers' allow-lists accept.
ALLOWED_ORIGIN = "http://allowed.example"
REFUSED_ORIGIN = "http://refused.example"

REJECT_BODY = "rejected by hook"

# Large enough for the 16 MiB messages; the library default is 1 MiB.
MAX_MESSAGE = 32 * 1024 * 1024


# Blocks of prime length, so that the pattern does not line up with frame
# or mask boundaries; a shifted or truncated echo does not compare equal.
_TEXT_BLOCK = "".join(chr(32 + (i * 7 + i // 95) % 95) for i in range(9973))
_BINARY_BLOCK = bytes((i * 31 + i // 251) & 0xFF for i in range(65521))


def text_of_size(size):
    """ASCII text of exactly `size` bytes."""
    return (_TEXT_BLOCK * (size // len(_TEXT_BLOCK) + 1))[:size]


def binary_of_size(size):
    """`size` bytes in which every value (0x00 and 0xff included) occurs."""
    return (_BINARY_BLOCK * (size // len(_BINARY_BLOCK) + 1))[:size]


def describe(message):
    kind = "text" if isinstance(message, str) else "binary"
    length = len(message.encode()) if isinstance(message, str) else len(message)
    return f"{kind} {length} bytes"


def difference(sent, got):
    """None when `got` is exactly `sent`, else a short description."""
    if type(sent) is type(got) and sent == got:
        return None
    if type(sent) is not type(got) or len(sent) != len(got):
        return f"sent {describe(sent)}, got {describe(got)}"
    first = next(i for i, (a, b) in enumerate(zip(sent, got)) if a != b)
    return f"{describe(sent)}: differs at index {first}"


def frames_for(length):
    """How many frames a fragmenting endpoint sends a message of `length` in."""
    return 1 if length <= FRAGMENT_SIZE else math.ceil(length / FRAGMENT_SIZE)


class FrameCounting:
    """Mixin for a websockets protocol class: counts the frames of every data
    message received and keeps the payloads of received pings.

    Frames are read ahead of recv(), so counts queue up in arrival order and
    pop_frame_count() takes the one of the oldest message not yet asked about.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.frame_counts = collections.deque()
        self.pings_received = []
        self._frames_so_far = 0

    async def read_frame(self, max_size):
        frame = await super().read_frame(max_size)
        if frame.opcode is Opcode.PING:
            self.pings_received.append(frame.data)
        elif frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
            self._frames_so_far += 1
            if frame.fin:
                self.frame_counts.append(self._frames_so_far)
                self._frames_so_far = 0
        return frame

    def pop_frame_count(self):
        return self.frame_counts.popleft() if self.frame_counts else 0
