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

Prints "listening on ws://127.0.0.1:PORT"; SIGTERM closes every connection
with 1001 and exits 0."""

import asyncio
import http
import signal
import urllib.parse

import websockets
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

PREFERRED_SUBPROTOCOLS = ("chat.v2", "chat.v1")
PONG_LIMIT = 10.0
ECHO_LIMIT = 60.0


def route_of(target):
    """The request target without its query string."""
    return urllib.parse.urlsplit(target).path


class PeerServerProtocol(FrameCounting, WebSocketServerProtocol):
    """Refusals before the upgrade, and the subprotocol only on /protocol."""

    async def process_request(self, target, request_headers):
        path = route_of(target)
        if path == "/reject":
            return http.HTTPStatus.FORBIDDEN, [], REJECT_BODY.encode()
        if path == "/origin" and request_headers.get("Origin") != ALLOWED_ORIGIN:
            return http.HTTPStatus.FORBIDDEN, [], b"origin not allowed"
        if path not in ROUTES:
            return http.HTTPStatus.NOT_FOUND, [], b"no such route"
        return None

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
    await ROUTES[route_of(ws.path)](ws)


async def main():
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with websockets.serve(
        handle,
        "127.0.0.1",
        0,
        create_protocol=PeerServerProtocol,
        subprotocols=list(PREFERRED_SUBPROTOCOLS),
        max_size=MAX_MESSAGE,
        compression=None,
        ping_interval=None,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on ws://127.0.0.1:{port}", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
