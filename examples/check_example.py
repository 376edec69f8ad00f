#!/usr/bin/env python3
"""Runs one of the examples and checks that it does what it says, with
Python `websockets` as the peer.

  check_example.py NAME BINARY [--certs DIR]

Every wait is bounded; the example is ended by its PID (SIGTERM, then
SIGKILL if it does not stop)."""
import argparse
import asyncio
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time

import websockets

LISTENING = re.compile(rb"listening on (wss?://\S+)")
LIMIT = 20.0  # seconds any single step may take


class Example:
    """The example's process; `url` once it printed its listening line."""

    def __init__(self, argv):
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.url = None

    def await_listening(self):
        deadline = time.monotonic() + LIMIT
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            if m := LISTENING.search(line):
                self.url = m.group(1).decode()
                return self.url
        raise AssertionError(f"no listening line; stderr: {self.process.stderr.read().decode()}")

    def stop(self):
        """SIGTERM; the examples that serve end gracefully with 0."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=LIMIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("did not stop on SIGTERM")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def expect(condition, what):
    if not condition:
        raise AssertionError(what)


async def recv(ws, timeout=LIMIT):
    return await asyncio.wait_for(ws.recv(), timeout)


async def silent(ws, seconds=0.3):
    """True when nothing arrives for a moment."""
    try:
        await asyncio.wait_for(ws.recv(), seconds)
        return False
    except asyncio.TimeoutError:
        return True


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- examples

def echo_server(binary, args):
    with Example([binary, "0"]) as ex:
        url = ex.await_listening()

        async def talk():
            async with websockets.connect(url) as ws:
                await ws.send("hello")
                expect(await recv(ws) == "hello", "text echoed")
                await ws.send(b"\x00\x01\x02")
                expect(await recv(ws) == b"\x00\x01\x02", "binary echoed as binary")

        asyncio.run(talk())
        expect(ex.stop() == 0, "exit 0 on SIGTERM")


def chat_server(binary, args):
    with Example([binary, "0"]) as ex:
        base = ex.await_listening()

        async def talk():
            async with websockets.connect(base + "?room=lobby&nick=ann") as ann, \
                    websockets.connect(base + "?room=lobby&nick=bob") as bob, \
                    websockets.connect(base + "?room=attic&nick=cat") as cat:
                expect(await recv(ann) == "bob joined", "ann hears bob join")
                await ann.send("hi all")
                expect(await recv(bob) == "ann: hi all", "bob hears ann")
                expect(await recv(ann) == "ann: hi all", "ann sees her own message")
                expect(await silent(cat), "another room hears nothing")
            try:
                async with websockets.connect(base + "?room=lobby") as _:
                    raise AssertionError("a connection without a nick was accepted")
            except websockets.exceptions.InvalidStatusCode as e:
                expect(e.status_code == 400, f"400 without a nick, got {e.status_code}")

        asyncio.run(talk())
        expect(ex.stop() == 0, "exit 0 on SIGTERM")


def price_feed(binary, args):
    with Example([binary, "0", "20"]) as ex:
        url = ex.await_listening()

        async def talk():
            async with websockets.connect(url) as ws:
                expect(await silent(ws, 0.2), "nothing before subscribing")
                await ws.send("subscribe NVDA")
                for _ in range(5):
                    expect((await recv(ws)).startswith("NVDA "), "NVDA prices only")
                await ws.send("subscribe BOGUS")
                while (m := await recv(ws)).startswith("NVDA "):
                    pass
                expect(m == "error: unknown symbol", f"unknown symbols refused, got {m!r}")

        asyncio.run(talk())
        expect(ex.stop() == 0, "exit 0 on SIGTERM (the feed thread stops too)")


def tls_deflate_server(binary, args):
    certs = args.certs
    with Example([binary, os.path.join(certs, "server.pem"), os.path.join(certs, "server.key"),
                  "0"]) as ex:
        url = ex.await_listening()
        context = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))

        async def talk():
            async with websockets.connect(url, ssl=context, compression="deflate") as ws:
                agreed = await recv(ws)
                expect("permessage-deflate" in agreed, f"deflate agreed: {agreed}")
                text = "compress me " * 1000
                await ws.send(text)
                expect(await recv(ws) == text, "12 KB echoed through TLS and deflate")

        asyncio.run(talk())
        expect(ex.stop() == 0, "exit 0 on SIGTERM")


def reconnecting_client(binary, args):
    port = free_port()
    url = f"ws://127.0.0.1:{port}/"
    hellos = []

    async def scenario():
        # The client starts before the server: its first tries are refused
        # and it backs off.
        client = await asyncio.create_subprocess_exec(
            binary, url, "3", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        await asyncio.sleep(0.4)

        async def session(ws, path=None):
            hellos.append(await recv(ws))
            await ws.send("welcome")
            await ws.close(1001, "going away")

        async with websockets.serve(session, "127.0.0.1", port):
            out, err = await asyncio.wait_for(client.communicate(), LIMIT * 2)
        return client.returncode, out.decode(), err.decode()

    code, out, err = asyncio.run(scenario())
    expect(code == 0, f"exit 0 after three sessions; stdout: {out} stderr: {err}")
    expect("cannot connect" in out, f"it tried before the server was up: {out}")
    expect(out.count("got: welcome") == 3, f"three sessions: {out}")
    expect(hellos == ["hello 1", "hello 2", "hello 3"], f"said hello each time: {hellos}")


def sans_io_client(binary, args):
    async def scenario():
        async def echo(ws, path=None):
            async for m in ws:
                await ws.send(m)

        async with websockets.serve(echo, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            client = await asyncio.create_subprocess_exec(
                binary, "127.0.0.1", str(port), "/echo", "over a blocking socket",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(client.communicate(), LIMIT)
        return client.returncode, out.decode(), err.decode()

    code, out, err = asyncio.run(scenario())
    expect(code == 0, f"exit 0; stdout: {out} stderr: {err}")
    expect("over a blocking socket\n" in out, f"the echo printed: {out}")
    expect("closed: 1000" in out, f"the close handshake done: {out}")


EXAMPLES = {f.__name__: f for f in (echo_server, chat_server, price_feed, tls_deflate_server,
                                    reconnecting_client, sans_io_client)}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("name", choices=sorted(EXAMPLES))
    p.add_argument("binary")
    p.add_argument("--certs", help="the test certificates (tls_deflate_server)")
    args = p.parse_args()
    try:
        EXAMPLES[args.name](args.binary, args)
    except AssertionError as e:
        print(f"FAIL {args.name}: {e}")
        return 1
    print(f"ok   {args.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
