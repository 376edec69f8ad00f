"""permessage-deflate (RFC 7692) for the conformance harness: negotiation and codec.

Negotiation, both roles:
- as the client, the harness sends the case's offers and judges the server's
  answer (check_response): a response that breaks RFC 7692 fails the case;
- as the server, it judges the client's offers and answers with the case's
  parameters where the offer allows them (choose), never beyond what the
  RFC lets that offer be answered with.

Codec (RFC 7692 7.2): raw DEFLATE (zlib with negative window bits), one
Z_SYNC_FLUSH per message with the trailing 00 00 ff ff removed; the receiver
appends it again.  Context takeover keeps one zlib stream across messages;
without it every message gets a fresh one.

The receiving side is deliberately exact: it inflates with the window size
the peer agreed to, and with a fresh stream per message when the peer agreed
not to take over context, so a peer that breaks its side of the agreement
produces data that does not inflate, which is reported as a violation.
"""

import zlib
from dataclasses import dataclass
from typing import Optional, Union

NAME = "permessage-deflate"
TAIL = b"\x00\x00\xff\xff"
_TCHARS = set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_PARAMS = ("server_no_context_takeover", "client_no_context_takeover",
           "server_max_window_bits", "client_max_window_bits")
ZLIB_MIN_BITS = 9  # zlib cannot compress with a 256-byte window (8 bits)


class Violation(Exception):
    """A Sec-WebSocket-Extensions value that breaks RFC 6455 9.1 or RFC 7692."""


# ---------------------------------------------------------------- header syntax


def _split(text, sep):
    """Splits on `sep` outside quoted strings."""
    parts, cur, quoted, escaped = [], [], False, False
    for ch in text:
        if escaped:
            cur.append(ch)
            escaped = False
        elif quoted and ch == "\\":
            cur.append(ch)
            escaped = True
        elif ch == '"':
            cur.append(ch)
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if quoted:
        raise Violation("unterminated quoted string in %r" % text)
    parts.append("".join(cur))
    return parts


def _token(text, what):
    if not text or not set(text) <= _TCHARS:
        raise Violation("%s %r is not a token" % (what, text))
    return text


def parse_extensions(value):
    """[(extension name, [(param, value or None), ...]), ...] per RFC 6455 9.1."""
    result = []
    for element in _split(value, ","):
        if not element.strip():
            continue  # empty list elements are allowed and ignored (RFC 7230 7)
        pieces = _split(element, ";")
        name = _token(pieces[0].strip(), "extension name")
        params = []
        for piece in pieces[1:]:
            pname, eq, pvalue = piece.partition("=")
            pname = _token(pname.strip(), "extension parameter name")
            if not eq:
                params.append((pname, None))
                continue
            pvalue = pvalue.strip()
            if pvalue.startswith('"'):
                if len(pvalue) < 2 or not pvalue.endswith('"'):
                    raise Violation("malformed quoted value %r" % pvalue)
                inner, out, i = pvalue[1:-1], [], 0
                while i < len(inner):
                    if inner[i] == "\\" and i + 1 < len(inner):
                        i += 1
                    out.append(inner[i])
                    i += 1
                # RFC 6455 9.1: after unescaping, a quoted value must be a token.
                pvalue = _token("".join(out), "quoted value of %s" % pname)
            else:
                pvalue = _token(pvalue, "value of %s" % pname)
            params.append((pname, pvalue))
        result.append((name, params))
    return result


def format_params(params):
    return "; ".join([NAME] + [p if v is None else "%s=%s" % (p, v) for p, v in params])


# ---------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Params:
    """One offer or one response.  client_max_window_bits may be True: present without a value."""
    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: Optional[int] = None
    client_max_window_bits: Optional[Union[int, bool]] = None

    def header(self):
        params = []
        if self.server_no_context_takeover:
            params.append(("server_no_context_takeover", None))
        if self.client_no_context_takeover:
            params.append(("client_no_context_takeover", None))
        if self.server_max_window_bits is not None:
            params.append(("server_max_window_bits", str(self.server_max_window_bits)))
        if self.client_max_window_bits is True:
            params.append(("client_max_window_bits", None))
        elif self.client_max_window_bits is not None:
            params.append(("client_max_window_bits", str(self.client_max_window_bits)))
        return format_params(params)


def _bits(name, value):
    # RFC 7692 7.1.2: a decimal integer 8..15 without leading zeroes.
    if value is None:
        raise Violation("%s needs a value" % name)
    if not value.isdigit() or value.startswith("0") or not 8 <= int(value) <= 15:
        raise Violation("%s=%s: the value must be an integer from 8 to 15 without leading zeroes"
                        % (name, value))
    return int(value)


def parse_params(params, *, response):
    """Params from one permessage-deflate element; Violation if it breaks RFC 7692 7."""
    seen = {}
    for name, value in params:
        if name not in _PARAMS:
            raise Violation("unknown parameter %r" % name)
        if name in seen:
            raise Violation("parameter %s appears twice" % name)
        if name.endswith("no_context_takeover"):
            if value is not None:
                raise Violation("%s must not have a value (got %r)" % (name, value))
            seen[name] = True
        elif name == "server_max_window_bits":
            seen[name] = _bits(name, value)
        elif value is None:
            if response:
                raise Violation("client_max_window_bits in a response must have a value")
            seen[name] = True
        else:
            seen[name] = _bits(name, value)
    return Params(seen.get("server_no_context_takeover", False),
                  seen.get("client_no_context_takeover", False),
                  seen.get("server_max_window_bits"),
                  seen.get("client_max_window_bits"))


# ---------------------------------------------------------------- agreement


@dataclass(frozen=True)
class Agreement:
    """What both sides do after the handshake, seen from the harness."""
    header: str                 # the negotiated response
    send_bits: Optional[int]    # our compressor's window; None: we cannot compress (8 bits)
    send_reset: bool            # a fresh compressor for every message we send
    recv_bits: int              # the peer's window: what we inflate with
    recv_reset: bool            # the peer agreed to no context takeover
    recv_hint_reset: bool = False  # only hinted it (client_no_context_takeover in its offer)

    def short(self):
        """E.g. "deflate out:15/takeover in:9/reset" (harness's view: out = what we send)."""
        def side(bits, reset):
            return "%s/%s" % (bits if bits is not None else "plain", "reset" if reset else "takeover")
        return "deflate out:%s in:%s" % (side(self.send_bits, self.send_reset),
                                         side(self.recv_bits, self.recv_reset))


def _agreement(response, offer, harness_is_client):
    r = response
    if harness_is_client:
        # Our side is the client's: client_max_window_bits in the response, or
        # the value we offered, bounds our window; client_no_context_takeover
        # in the response, or in our own offer (the hint of RFC 7692 7.1.1.2),
        # rules out takeover.
        send = min(b for b in (r.client_max_window_bits, offer.client_max_window_bits, 15)
                   if isinstance(b, int) and b is not True)
        return Agreement(r.header(), send if send >= ZLIB_MIN_BITS else None,
                         r.client_no_context_takeover or offer.client_no_context_takeover,
                         r.server_max_window_bits or 15, r.server_no_context_takeover)
    send = r.server_max_window_bits or 15
    recv = r.client_max_window_bits
    return Agreement(r.header(), send if send >= ZLIB_MIN_BITS else None,
                     r.server_no_context_takeover,
                     recv if isinstance(recv, int) and recv is not True else 15,
                     r.client_no_context_takeover,
                     offer.client_no_context_takeover and not r.client_no_context_takeover)


def offer_header(offers):
    """The Sec-WebSocket-Extensions value for a case's offers."""
    return ", ".join(format_params(o) for o in offers)


def _misfit(offer, response):
    """Why `response` cannot be an acceptance of `offer` (RFC 7692 7.1), or ""."""
    if offer.server_no_context_takeover and not response.server_no_context_takeover:
        return "the offer has server_no_context_takeover, the response does not (7.1.1.1)"
    if offer.server_max_window_bits is not None:
        if response.server_max_window_bits is None:
            return ("the offer has server_max_window_bits=%d, the response has none (7.1.2.1)"
                    % offer.server_max_window_bits)
        if response.server_max_window_bits > offer.server_max_window_bits:
            return ("server_max_window_bits=%d is larger than the %d offered (7.1.2.1)"
                    % (response.server_max_window_bits, offer.server_max_window_bits))
    if response.client_max_window_bits is not None:
        if offer.client_max_window_bits is None:
            return "client_max_window_bits was not offered (7.1.2.2)"
        if (offer.client_max_window_bits is not True
                and response.client_max_window_bits > offer.client_max_window_bits):
            return ("client_max_window_bits=%d is larger than the %d offered (7.1.2.2)"
                    % (response.client_max_window_bits, offer.client_max_window_bits))
    return ""


def check_response(value, offers):
    """Harness as client: judges the server's Sec-WebSocket-Extensions value.

    `offers` are the case's offers (tuples of (param, value)).  Returns an
    Agreement, or None if the server declined; raises Violation when the
    response breaks RFC 6455 9.1 or RFC 7692.
    """
    elements = parse_extensions(value)
    if not elements:
        return None
    if len(elements) > 1:
        raise Violation("the response selects %d extensions, only %s was offered"
                        % (len(elements), NAME))
    name, params = elements[0]
    if name.lower() != NAME:
        raise Violation("the response selects %r, which was not offered" % name)
    response = parse_params(params, response=True)
    parsed = [parse_params(o, response=False) for o in offers]
    reasons = []
    for offer in parsed:
        why = _misfit(offer, response)
        if not why:
            return _agreement(response, offer, harness_is_client=True)
        reasons.append(why)
    if len(reasons) == 1:
        raise Violation(reasons[0])
    raise Violation("fits none of the %d offers: %s" % (len(reasons), "; ".join(reasons)))


def fit(want, offer):
    """Harness as server: the response for `want` that RFC 7692 lets `offer` get.

    Returns (Params, "") or (None, why not).
    """
    server_bits = want.server_max_window_bits
    if offer.server_max_window_bits is not None:
        if server_bits is None:
            server_bits = offer.server_max_window_bits  # must be answered (7.1.2.1)
        elif server_bits > offer.server_max_window_bits:
            return None, ("the client limits the server's window to %d bits, the case wants %d"
                          % (offer.server_max_window_bits, server_bits))
    if server_bits is not None and server_bits < ZLIB_MIN_BITS:
        return None, ("the client asks for server_max_window_bits=%d, which zlib cannot compress with"
                      % server_bits)
    client_bits = want.client_max_window_bits
    if client_bits is not None:
        if offer.client_max_window_bits is None:
            return None, ("the client did not offer client_max_window_bits, the case needs "
                          "client_max_window_bits=%d" % client_bits)
        if offer.client_max_window_bits is not True and client_bits > offer.client_max_window_bits:
            return None, ("the client offered client_max_window_bits=%d, the case wants %d"
                          % (offer.client_max_window_bits, client_bits))
    # server_no_context_takeover must be answered if offered (7.1.1.1);
    # the server may add either no_context_takeover parameter on its own.
    return Params(want.server_no_context_takeover or offer.server_no_context_takeover,
                  want.client_no_context_takeover, server_bits, client_bits), ""


def choose(value, wants):
    """Harness as server: picks the answer to the client's Sec-WebSocket-Extensions.

    Returns (Agreement, "") or (None, why the case cannot run); raises
    Violation if a permessage-deflate offer itself breaks RFC 7692.
    """
    offers = []
    for name, params in parse_extensions(value):
        if name.lower() == NAME:
            try:
                offers.append(parse_params(params, response=False))
            except Violation as e:
                raise Violation("offer %r: %s" % (format_params(params), e)) from None
    if not offers:
        return None, "the client did not offer %s" % NAME
    first_reason = ""
    for want in wants:
        for offer in offers:
            response, why = fit(want, offer)
            if response is not None:
                return _agreement(response, offer, harness_is_client=False), ""
            first_reason = first_reason or why
    return None, first_reason


# ---------------------------------------------------------------- codec


class InflateError(Exception):
    pass


class Compressor:
    def __init__(self, bits, reset, level=6):
        self.bits = bits
        self.reset = reset
        self.level = level
        self._z = None

    def compress(self, data):
        if self._z is None or self.reset:
            self._z = zlib.compressobj(self.level, zlib.DEFLATED, -self.bits, 8)
        out = self._z.compress(data) + self._z.flush(zlib.Z_SYNC_FLUSH)
        # RFC 7692 7.2.1: drop the 00 00 ff ff the sync flush ends with.
        return out[:-4] if out.endswith(TAIL) else out


class Decompressor:
    """Inflates the peer's messages.

    `reset`: the peer agreed to no context takeover, so every message is
    inflated on its own and one that refers to an earlier message fails.
    `hint_reset`: the peer only said it would not take over context (a
    client's client_no_context_takeover offer, RFC 7692 7.1.1.2, a "hint");
    messages are inflated both on their own and with the context kept, and
    `hint_broken` tells whether one needed the context.
    """

    def __init__(self, bits, reset, limit, hint_reset=False):
        self.bits = bits
        self.reset = reset
        self.hint_reset = hint_reset and not reset
        self.hint_broken = False
        self.limit = limit
        self._z = None

    def _inflate(self, z, data):
        try:
            out = z.decompress(data + TAIL, self.limit + 1)
        except zlib.error as e:
            raise InflateError(str(e)) from None
        if len(out) > self.limit or z.unconsumed_tail:
            raise InflateError("inflates to more than %d bytes" % self.limit)
        return out

    def decompress(self, data):
        # A stream that ended (a block with BFINAL set) cannot go on; the
        # next message starts a new one.
        if self._z is None or self.reset or self._z.eof:
            self._z = zlib.decompressobj(-self.bits)
        try:
            out = self._inflate(self._z, data)
        except InflateError:
            self._z = None
            raise
        if self.hint_reset and not self.hint_broken:
            try:
                self._inflate(zlib.decompressobj(-self.bits), data)
            except InflateError:
                self.hint_broken = True
        return out


def deflate_once(data, bits=15, zdict=None):
    """One message compressed on its own (no context), tail removed."""
    z = zlib.compressobj(6, zlib.DEFLATED, -bits, 8, zlib.Z_DEFAULT_STRATEGY,
                         *((zdict,) if zdict is not None else ()))
    out = z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4] if out.endswith(TAIL) else out


def deflate_final(data):
    """One message compressed as a complete DEFLATE stream (last block has BFINAL set)."""
    z = zlib.compressobj(6, zlib.DEFLATED, -15, 8)
    return z.compress(data) + z.flush(zlib.Z_FINISH)
