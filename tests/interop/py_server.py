#!/usr/bin/env python3
"""A Python `websockets` server for the Duplex client to talk to. Same routes
as node_server.mjs:

  /echo         every message back unchanged
  /fragmented   messages must arrive in 1000-byte frames; echoed in such frames
  /ping         text PAYLOAD: ping with PAYLOAD, then text "pong:PAYLOAD" once
                the matching pong came back
  /close        text "CODE REASON": close with that code and reason ("1005":
                an empty close frame)
  /protocol     selects chat.v2, else chat.v1, else nothing; echoes
  /reject       the upgrade is refused with 403 "rejected by hook"
  /origin       only ALLOWED_ORIGIN may connect (others: 403); echoes
  /drive-sizes  sends text and binary at every size, expects each echoed,
                closes 1000 "sizes ok" or 4003 with what differed

permessage-deflate, with the ServerPerMessageDeflateFactory parameters of
DEFLATE_CONFIGS[NAME] (every other route declines compression):

  /deflate/NAME        text "negotiated: EXTENSIONS" (peer_deflate.canonical of
                       the answer, "none" when declined), then echoes; closes
                       4005 when a message arrives in a way Duplex does not
                       send it (peer_deflate.arrival_problem)
  /drive-deflate/NAME  sends every message of deflate_messages(), expects each
                       echoed and checks how the echo arrived; closes 1000
                       "ok: PARAMETERS" ("ok" without any) or 4005 with
                       what went wrong
  /bad-extension/KIND  answers with the Sec-WebSocket-Extensions value
                       BAD_ANSWERS[KIND], which the client must refuse; echoes

  py_server.py [--tls-cert PEM --tls-key PEM] [--no-arrival-checks]

Prints "listening on ws://127.0.0.1:PORT" (wss:// with --tls-cert); SIGTERM
closes every connection with 1001 and exits 0. --no-arrival-checks leaves out
the checks of how messages arrive, which hold for Duplex only (for trying
the peers against each other)."""

import argparse
import asyncio
import http
import signal
import ssl
import urllib.parse

import websockets
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import Close
from websockets.legacy.server import WebSocketServerProtocol

from peer_common import (
    ALLOWED_ORIGIN,
    FRAGMENT_SIZE,
    MAX_MESSAGE,
    REJECT_BODY,
    SIZES,
    FrameCounting,
    binary_of_size,
    describe,
    difference,
    frames_for,
    text_of_size,
)
from peer_deflate import (
    RecordingDeflate,
    arrival_problem,
    canonical,
    deflate_messages,
    new_arrivals,
    parse_header_values,
)

PREFERRED_SUBPROTOCOLS = ("chat.v2", "chat.v1")
PONG_LIMIT = 10.0
ECHO_LIMIT = 60.0


def route_of(target):
    """The request target without its query string."""
    return urllib.parse.urlsplit(target).path


# ServerPerMessageDeflateFactory parameters of the /deflate/NAME and
# /drive-deflate/NAME routes.
DEFLATE_CONFIGS = {
    "default": {},
    "no-takeover": dict(server_no_context_takeover=True, client_no_context_takeover=True),
    "windows": dict(server_max_window_bits=10, client_max_window_bits=12),
    "small-windows": dict(server_max_window_bits=9, client_max_window_bits=9),
    # Answers an offer of client_max_window_bits with 8, a window zlib
    # cannot compress with.
    "client-window-8": dict(client_max_window_bits=8),
    # Declines offers without client_max_window_bits.
    "require-client-window": dict(client_max_window_bits=12, require_client_max_window_bits=True),
}

# Answers of /bad-extension/KIND that break RFC 6455 or RFC 7692 for the
# offers the Duplex client makes (see deflate_vs_peer_server.py for which).
BAD_ANSWERS = {
    # A parameter that does not exist.
    "unknown-parameter": "permessage-deflate; server_no_context_takeover; "
    "client_no_context_takeover; x_duplex_unknown=1",
    # Values outside 8..15, or missing.
    "window-16": "permessage-deflate; server_no_context_takeover; "
    "client_no_context_takeover; server_max_window_bits=16",
    "window-without-value": "permessage-deflate; server_no_context_takeover; "
    "client_no_context_takeover; server_max_window_bits",
    "client-window-without-value": "permessage-deflate; server_no_context_takeover; "
    "client_no_context_takeover; client_max_window_bits",
    "flag-with-value": "permessage-deflate; server_no_context_takeover=1; "
    "client_no_context_takeover",
    "repeated-parameter": "permessage-deflate; server_no_context_takeover; "
    "server_no_context_takeover; client_no_context_takeover",
    # Larger windows than the client allowed (it offers 10).
    "larger-server-window": "permessage-deflate; server_no_context_takeover; "
    "client_no_context_takeover; server_max_window_bits=12",
    "larger-client-window": "permessage-deflate; server_no_context_takeover; "
    "client_no_context_takeover; client_max_window_bits=12",
    # The extension twice, an extension never offered, or permessage-deflate
    # to a client that offered no extension at all.
    "twice": "permessage-deflate; server_no_context_takeover; client_no_context_takeover, "
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
    "unoffered-extension": "x-duplex-unoffered",
    "deflate": "permessage-deflate",
}

# False with --no-arrival-checks.
CHECK_ARRIVALS = True


class RecordingServerFactory(ServerPerMessageDeflateFactory):
    """Negotiates as its parent does; the extension it returns records each
    message received in `arrivals`."""

    def __init__(self, arrivals, **kwargs):
        super().__init__(**kwargs)
        self.arrivals = arrivals

    def process_request_params(self, params, accepted_extensions):
        answer, inner = super().process_request_params(params, accepted_extensions)
        return answer, RecordingDeflate(inner, self.arrivals)


def deflate_route(path):
    """("deflate", NAME), ("drive-deflate", NAME), ("bad-extension", KIND) or None."""
    parts = path.split("/")
    if len(parts) != 3 or parts[0]:
        return None
    kind, name = parts[1], parts[2]
    if kind in ("deflate", "drive-deflate") and name in DEFLATE_CONFIGS:
        return kind, name
    if kind == "bad-extension" and name in BAD_ANSWERS:
        return kind, name
    return None


class PeerServerProtocol(FrameCounting, WebSocketServerProtocol):
    """Refusals before the upgrade, the subprotocol only on /protocol, and
    permessage-deflate only on the deflate routes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.arrivals = new_arrivals()
        self.deflate_answer = []  # parsed Sec-WebSocket-Extensions of our 101

    async def process_request(self, target, request_headers):
        path = route_of(target)
        if path == "/reject":
            return http.HTTPStatus.FORBIDDEN, [], REJECT_BODY.encode()
        if path == "/origin" and request_headers.get("Origin") != ALLOWED_ORIGIN:
            return http.HTTPStatus.FORBIDDEN, [], b"origin not allowed"
        if path not in ROUTES and not deflate_route(path):
            return http.HTTPStatus.NOT_FOUND, [], b"no such route"
        return None

    def process_extensions(self, headers, available_extensions):
        route = deflate_route(route_of(self.path))
        if route is None:
            return None, []
        kind, name = route
        if kind == "bad-extension":
            # Sent as is; no extension is in effect on this side.
            self.deflate_answer = parse_header_values([BAD_ANSWERS[name]])
            return BAD_ANSWERS[name], []
        factory = RecordingServerFactory(self.arrivals, **DEFLATE_CONFIGS[name])
        answer, extensions = WebSocketServerProtocol.process_extensions(headers, [factory])
        self.deflate_answer = parse_header_values([answer] if answer else [])
        return answer, extensions

    def select_subprotocol(self, client_subprotocols, server_subprotocols):
        if route_of(self.path) != "/protocol":
            return None
        return next((p for p in PREFERRED_SUBPROTOCOLS if p in client_subprotocols), None)


async def echo(ws):
    async for message in ws:
        ws.pop_frame_count()
        await ws.send(message)


def fragments_of(message):
    return [message[i : i + FRAGMENT_SIZE] for i in range(0, len(message), FRAGMENT_SIZE)]


async def echo_fragmented(ws):
    async for message in ws:
        length = len(message.encode()) if isinstance(message, str) else len(message)
        frames = ws.pop_frame_count()
        if frames != frames_for(length):
            why = f"{describe(message)} came in {frames} frames, not {frames_for(length)}"
            await ws.close(4002, why)
            return
        # websockets sends each fragment of a str as a frame of its own; a
        # single fragment goes out as one unfragmented frame.
        await ws.send(fragments_of(message) if length > FRAGMENT_SIZE else message)


async def ping_back(ws):
    async for message in ws:
        pong = await ws.ping(message)
        try:
            await asyncio.wait_for(pong, PONG_LIMIT)
        except asyncio.TimeoutError:
            await ws.close(4004, "no pong with the ping's payload")
            return
        await ws.send(f"pong:{message}")


async def close_as_asked(ws):
    message = await ws.recv()
    code, _, reason = message.partition(" ")
    if code == "1005":
        # An empty close frame. close() only sends codes with a payload, so
        # this goes one level down, as websockets itself does to echo one.
        await ws.write_close_frame(Close(1005, ""), b"")
        await ws.wait_closed()
    else:
        await ws.close(int(code), reason)


async def drive_sizes(ws):
    for size in SIZES:
        for sent in (text_of_size(size), binary_of_size(size)):
            await ws.send(sent)
            try:
                got = await asyncio.wait_for(ws.recv(), ECHO_LIMIT)
            except asyncio.TimeoutError:
                await ws.close(4003, f"no echo of {describe(sent)}")
                return
            why = difference(sent, got)
            if why:
                await ws.close(4003, why)
                return
    await ws.close(1000, "sizes ok")


def short_reason(text):
    """A close reason fits in 123 bytes of UTF-8."""
    data = text.encode()
    return text if len(data) <= 123 else data[:120].decode(errors="ignore") + "..."


def duplex_takes_over(ws):
    """Whether the answer lets the client (Duplex) keep its context."""
    return bool(ws.deflate_answer) and all(
        name != "client_no_context_takeover" for name, _ in ws.deflate_answer[0][1]
    )


def arrival_of(ws, label, message):
    """Why the way the last message arrived is not how Duplex sends it, or None."""
    if not ws.deflate_answer:
        return None
    if not ws.arrivals:
        return f"{label}: no record of how it arrived"
    arrival = ws.arrivals.popleft()
    # With a window of 8 bits agreed, zlib cannot compress: sending
    # uncompressed is then how to keep the agreement.
    window_8 = ("client_max_window_bits", "8") in ws.deflate_answer[0][1]
    if not CHECK_ARRIVALS or window_8:
        return None
    return arrival_problem(label, message, arrival, duplex_takes_over(ws))


async def deflate_echo(ws):
    await ws.send(f"negotiated: {canonical(ws.deflate_answer)}")
    async for message in ws:
        why = arrival_of(ws, f"message of {describe(message)}", message)
        if why:
            await ws.close(4005, short_reason(why))
            return
        await ws.send(message)


async def drive_deflate(ws):
    if not ws.deflate_answer:
        await ws.close(4005, "permessage-deflate not negotiated")
        return
    for label, sent in deflate_messages():
        await ws.send(sent)
        try:
            got = await asyncio.wait_for(ws.recv(), ECHO_LIMIT)
        except asyncio.TimeoutError:
            await ws.close(4005, short_reason(f"no echo of {label}"))
            return
        why = difference(sent, got)
        if why:
            await ws.close(4005, short_reason(f"{label}: {why}"))
            return
        why = arrival_of(ws, label, sent)
        if why:
            await ws.close(4005, short_reason(why))
            return
    parameters = " ".join(canonical(ws.deflate_answer).split("; ")[1:])
    await ws.close(1000, short_reason(f"ok: {parameters}" if parameters else "ok"))


DEFLATE_HANDLERS = {
    "deflate": deflate_echo,
    "drive-deflate": drive_deflate,
    "bad-extension": echo,
}


ROUTES = {
    "/echo": echo,
    "/fragmented": echo_fragmented,
    "/ping": ping_back,
    "/close": close_as_asked,
    "/protocol": echo,
    "/origin": echo,
    "/drive-sizes": drive_sizes,
}


async def handle(ws):
    path = route_of(ws.path)
    route = deflate_route(path)
    await (DEFLATE_HANDLERS[route[0]] if route else ROUTES[path])(ws)


def tls_context(args):
    if not args.tls_cert:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    return context


async def main(args):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    context = tls_context(args)
    async with websockets.serve(
        handle,
        "127.0.0.1",
        0,
        create_protocol=PeerServerProtocol,
        subprotocols=list(PREFERRED_SUBPROTOCOLS),
        max_size=MAX_MESSAGE,
        compression=None,
        ping_interval=None,
        ssl=context,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        scheme = "wss" if context else "ws"
        print(f"listening on {scheme}://127.0.0.1:{port}", flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tls-cert", help="PEM certificate chain: serve wss://")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    parser.add_argument("--no-arrival-checks", action="store_true")
    arguments = parser.parse_args()
    if bool(arguments.tls_cert) != bool(arguments.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    CHECK_ARRIVALS = not arguments.no_arrival_checks
    asyncio.run(main(arguments))
