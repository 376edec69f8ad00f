#!/usr/bin/env python3
"""Python `websockets` clients against duplex_interop_server (routes in
interop_server.cpp). Prints one "ok"/"FAIL" line per check; exit 1 if any
failed.

  py_client.py --url ws://127.0.0.1:P --fragmenting-url ws://127.0.0.1:Q [--cafile CA]

--url is a server started with --origin ALLOWED_ORIGIN, --fragmenting-url one
started with --fragment-size FRAGMENT_SIZE. With wss:// URLs, --cafile is the
certificate authority to trust (the servers' certificate is for localhost and
127.0.0.1), and the checks include the TLS server name the server saw."""

import argparse
import asyncio
import ssl
import sys
import urllib.request

import websockets
from websockets.exceptions import InvalidStatusCode
from websockets.legacy.client import WebSocketClientProtocol

from peer_common import (
    ALLOWED_ORIGIN,
    FRAGMENT_SIZE,
    MAX_MESSAGE,
    REFUSED_ORIGIN,
    SIZES,
    FrameCounting,
    binary_of_size,
    describe,
    difference,
    frames_for,
    text_of_size,
)

CHECK_LIMIT = 120.0
STEP_LIMIT = 10.0


class CheckFailed(Exception):
    pass


def expect(condition, why):
    if not condition:
        raise CheckFailed(why)


class RecordingClientProtocol(FrameCounting, WebSocketClientProtocol):
    pass


# The context for wss:// URLs: trusts --cafile only.
TLS = None


def connect(url, **options):
    defaults = dict(
        create_protocol=RecordingClientProtocol,
        max_size=MAX_MESSAGE,
        compression=None,
        ping_interval=None,
        open_timeout=STEP_LIMIT,
        close_timeout=STEP_LIMIT,
    )
    if url.startswith("wss://"):
        defaults["ssl"] = TLS
    return websockets.connect(url, **{**defaults, **options})


async def expect_echo(ws, sent):
    """Sends `sent` (a message, or a list of fragments) and checks the echo."""
    await ws.send(sent)
    whole = sent if isinstance(sent, (str, bytes)) else type(sent[0])().join(sent)
    got = await asyncio.wait_for(ws.recv(), STEP_LIMIT * 6)
    why = difference(whole, got)
    expect(why is None, f"echo: {why}")


async def echo_sizes(args):
    async with connect(f"{args.url}/echo") as ws:
        for size in SIZES:
            await expect_echo(ws, text_of_size(size))
            await expect_echo(ws, binary_of_size(size))
    return f"{2 * len(SIZES)} echoes identical, sizes {SIZES[0]}..{SIZES[-1]}"


async def fragmented_send(args):
    # Uneven fragments, an empty one among them (RFC 6455 allows it).
    text = text_of_size(10_000)
    data = binary_of_size(70_000)
    async with connect(f"{args.url}/echo") as ws:
        await expect_echo(ws, [text[:1], text[1:126], "", text[126:4000], text[4000:]])
        await expect_echo(ws, [data[:65536], b"", data[65536:]])
        await expect_echo(ws, ["é", "t", "é"])
        await expect_ping_between_fragments(ws, text)
    return "text (5 fragments), binary (3), UTF-8 (3), a ping between fragments: echoed"


async def expect_ping_between_fragments(ws, text):
    """A control frame may come between a message's frames (RFC 6455 5.4)."""
    pongs = []

    async def fragments():
        yield text[:500]
        pongs.append(await ws.ping(b"between fragments"))
        yield text[500:]

    await ws.send(fragments())
    got = await asyncio.wait_for(ws.recv(), STEP_LIMIT)
    expect(difference(text, got) is None, f"echo: {difference(text, got)}")
    try:
        await asyncio.wait_for(pongs[0], STEP_LIMIT)
    except asyncio.TimeoutError:
        raise CheckFailed("no pong for the ping sent between fragments")


async def fragmented_receive(args):
    messages = [
        text_of_size(FRAGMENT_SIZE),
        text_of_size(FRAGMENT_SIZE + 1),
        "\u20ac" * 3334,  # fragment edges fall inside characters
        binary_of_size(65536),
        binary_of_size(1024 * 1024),
    ]
    async with connect(f"{args.fragmenting_url}/echo") as ws:
        for sent in messages:
            await expect_echo(ws, sent)
            length = len(sent.encode()) if isinstance(sent, str) else len(sent)
            frames = ws.pop_frame_count()
            expect(
                frames == frames_for(length),
                f"{describe(sent)} came back in {frames} frames, expected {frames_for(length)}",
            )
    return f"{len(messages)} echoes in the expected number of {FRAGMENT_SIZE}-byte frames"


async def ping_from_client(args):
    async with connect(f"{args.url}/echo") as ws:
        for payload in (b"", b"python ping", b"p" * 125):
            pong = await ws.ping(payload)
            try:
                await asyncio.wait_for(pong, STEP_LIMIT)
            except asyncio.TimeoutError:
                raise CheckFailed(f"no pong for a ping of {len(payload)} bytes")
    return "pongs of 0, 11 and 125 bytes matched their pings"


async def ping_from_server(args):
    payload = "ping me, python"
    async with connect(f"{args.url}/ping") as ws:
        await ws.send(payload)
        got = await asyncio.wait_for(ws.recv(), STEP_LIMIT)
        expect(got == f"pong:{payload}", f"server reported {got!r}")
        expect(ws.pings_received == [payload.encode()], f"pings seen: {ws.pings_received!r}")
    return "server pinged with our payload and got the pong"


CLIENT_CLOSES = [
    (1000, ""),
    (1001, "going away"),
    (3000, "registered code"),
    (4999, "ünïcödé reason"),
    (4000, "r" * 123),  # the longest reason a close frame can carry
]


def http_get(url):
    context = TLS if url.startswith("https://") else None
    with urllib.request.urlopen(url, timeout=STEP_LIMIT, context=context) as response:
        return response.read().decode()


def http_url_of(url):
    """ws:// -> http://, wss:// -> https://"""
    return "http" + url[len("ws") :]


async def close_from_client(args):
    """The server must echo the code (RFC 6455 5.5.1); whether the reason
    arrived intact, its /last-close page says."""
    http_url = http_url_of(args.url)
    for code, reason in CLIENT_CLOSES:
        async with connect(f"{args.url}/echo") as ws:
            await ws.close(code, reason)
            expect(ws.close_code == code, f"closed with {code}, server answered {ws.close_code}")
        seen = await asyncio.to_thread(http_get, f"{http_url}/last-close")
        expect(seen == f"{code} {reason}", f"closed with {code} {reason!r}, server got {seen!r}")
    return f"server got {len(CLIENT_CLOSES)} close codes and reasons intact and echoed the codes"


SERVER_CLOSES = [
    ("4001 bye now", 4001, "bye now"),
    ("1000", 1000, ""),
    ("1011 internal trouble", 1011, "internal trouble"),
    ("3001 ¡adiós!", 3001, "¡adiós!"),
    ("1005", 1005, ""),  # an empty close frame: the peer reports "no status"
]


async def close_from_server(args):
    for request, code, reason in SERVER_CLOSES:
        async with connect(f"{args.url}/close") as ws:
            await ws.send(request)
            await asyncio.wait_for(ws.wait_closed(), STEP_LIMIT)
            got = (ws.close_code, ws.close_reason)
            expect(got == (code, reason), f"asked for {request!r}, got {got}")
    return f"server closed as asked {len(SERVER_CLOSES)} times"


SUBPROTOCOL_CASES = [
    (["chat.v1", "chat.v2"], "chat.v2"),  # the server's preference wins
    (["chat.v1"], "chat.v1"),
    (["chat.v3"], None),
    (None, None),
]


async def subprotocol(args):
    for offered, expected in SUBPROTOCOL_CASES:
        async with connect(f"{args.url}/protocol", subprotocols=offered) as ws:
            expect(ws.subprotocol == expected, f"offered {offered}, got {ws.subprotocol!r}")
            await expect_echo(ws, "hello")
    return f"{len(SUBPROTOCOL_CASES)} offers negotiated as expected"


async def expect_refusal(url, status, **options):
    try:
        async with connect(url, **options):
            pass
    except InvalidStatusCode as refused:
        expect(refused.status_code == status, f"refused with {refused.status_code}, not {status}")
        return
    raise CheckFailed(f"{url} accepted the upgrade, expected {status}")


async def compression_declined(args):
    """websockets offers permessage-deflate unless told not to; a server
    without it must decline the offer, and messages then go uncompressed."""
    async with connect(f"{args.url}/echo", compression="deflate") as ws:
        expect(ws.extensions == [], f"extensions in use: {ws.extensions}")
        await expect_echo(ws, text_of_size(100_000))
    return "permessage-deflate offer declined, 100000-byte echo identical"


async def query_string(args):
    async with connect(f"{args.url}/echo?room=1&note=a%20b") as ws:
        await expect_echo(ws, "routed by path")
    return "/echo?room=1&note=a%20b reached /echo"


async def rejected_by_hook(args):
    await expect_refusal(f"{args.url}/reject", 403)
    return "upgrade refused with 403"


async def origin(args):
    await expect_refusal(f"{args.url}/echo", 403, origin=REFUSED_ORIGIN)
    async with connect(f"{args.url}/echo", origin=ALLOWED_ORIGIN) as ws:
        await expect_echo(ws, "allowed")
    return f"{REFUSED_ORIGIN} refused with 403, {ALLOWED_ORIGIN} accepted"


async def server_name(args):
    """SNI (RFC 6066): the host name of the URL reaches the server's upgrade
    hook; an IP address is not sent as a name (section 3)."""
    by_name = args.url.replace("wss://127.0.0.1:", "wss://localhost:", 1)
    for url, expected in ((by_name, "localhost"), (args.url, "")):
        async with connect(f"{url}/sni") as ws:
            got = await asyncio.wait_for(ws.recv(), STEP_LIMIT)
            wanted = f"sni:{expected}"
            expect(got == wanted, f"{url}: server saw {got!r}, expected {wanted!r}")
    return "server saw localhost by name, nothing for 127.0.0.1"


CHECKS = [
    echo_sizes,
    fragmented_send,
    fragmented_receive,
    ping_from_client,
    ping_from_server,
    close_from_client,
    close_from_server,
    subprotocol,
    compression_declined,
    query_string,
    rejected_by_hook,
    origin,
]


async def run_checks(args):
    failed = 0
    checks = CHECKS + ([server_name] if args.url.startswith("wss://") else [])
    for check in checks:
        try:
            summary = await asyncio.wait_for(check(args), CHECK_LIMIT)
            print(f"ok   python {check.__name__}: {summary}", flush=True)
        except Exception as e:  # every failure, whatever raised it, is a result
            failed += 1
            why = str(e) or type(e).__name__
            print(f"FAIL python {check.__name__}: {why}", flush=True)
    return failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--fragmenting-url", required=True)
    parser.add_argument("--cafile", help="CA certificate (PEM) to trust for wss:// URLs")
    args = parser.parse_args()
    if args.cafile:
        global TLS
        TLS = ssl.create_default_context(cafile=args.cafile)
    failed = asyncio.run(run_checks(args))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
