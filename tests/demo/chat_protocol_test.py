#!/usr/bin/env python3
"""The demo's chat and ticker protocols (docs/demo-protocol.md) against
`duplex serve`: every rule, every error, and that bad input from one client
never disturbs the others.

Usage: chat_protocol_test.py DUPLEX_BINARY
"""
import asyncio
import json
import signal
import subprocess
import sys
import unittest

import websockets

DUPLEX = None
TIMEOUT = 10


class DemoServer:
    def __enter__(self):
        self.proc = subprocess.Popen([DUPLEX, "serve", "--host", "127.0.0.1", "--port", "0", "--threads", "2"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on ws://"):
            self.proc.kill()
            raise AssertionError(f"no listening line: {line!r}")
        self.url = "ws://127.0.0.1:" + line.rsplit(":", 1)[1].strip()
        return self

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.proc.stdout.close()
        self.proc.stderr.close()


async def connect(url):
    ws = await websockets.connect(url + "/chat")
    welcome = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
    assert welcome["type"] == "welcome", welcome
    return ws, welcome


async def request(ws, message):
    await ws.send(message if isinstance(message, str) else json.dumps(message, ensure_ascii=False))
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


class ChatProtocol(unittest.TestCase):
    def run_async(self, coroutine):
        with DemoServer() as server:
            asyncio.run(asyncio.wait_for(coroutine(server.url), 60))

    def test_join_say_leave_and_presence(self):
        async def scenario(url):
            a, _ = await connect(url)
            b, _ = await connect(url)
            joined = await request(a, {"type": "join", "room": "lobby", "nick": "ada"})
            self.assertEqual(joined, {"type": "joined", "room": "lobby", "nick": "ada", "members": ["ada"]})
            joined = await request(b, {"type": "join", "room": "lobby", "nick": "grace"})
            self.assertEqual(joined["members"], ["ada", "grace"])
            presence = json.loads(await a.recv())
            self.assertEqual(presence, {"type": "presence", "room": "lobby", "nick": "grace", "event": "join",
                                        "count": 2})
            message = await request(a, {"type": "say", "room": "lobby", "text": "héllo <b>"})
            self.assertEqual((message["type"], message["nick"], message["text"]), ("message", "ada", "héllo <b>"))
            self.assertIsInstance(message["time"], int)
            self.assertEqual(json.loads(await b.recv()), message)
            rooms = await request(b, {"type": "rooms"})
            self.assertEqual(rooms, {"type": "rooms", "rooms": [{"room": "lobby", "count": 2}]})
            self.assertEqual(await request(a, {"type": "leave", "room": "lobby"}), {"type": "left", "room": "lobby"})
            self.assertEqual(json.loads(await b.recv())["event"], "leave")
            # A closed connection leaves its rooms, and the others hear of it.
            await a.send(json.dumps({"type": "join", "room": "lobby", "nick": "ada"}))
            await a.recv()
            await b.recv()
            await a.close()
            gone = json.loads(await asyncio.wait_for(b.recv(), TIMEOUT))
            self.assertEqual((gone["event"], gone["nick"], gone["count"]), ("leave", "ada", 1))
            _, welcome = await connect(url)
            self.assertEqual(welcome["rooms"], [{"room": "lobby", "count": 1}])
        self.run_async(scenario)

    def test_every_refusal_names_the_problem_and_keeps_the_connection(self):
        async def scenario(url):
            ws, _ = await connect(url)
            other, _ = await connect(url)
            await request(other, {"type": "join", "room": "r", "nick": "taken"})
            cases = [
                ("not json", "not JSON"),
                ("[1, 2]", "not a JSON object"),
                ({"type": "dance"}, "unknown type"),
                ({"no": "type"}, "unknown type"),
                ({"type": "join", "nick": "x"}, "missing room"),
                ({"type": "join", "room": "bad room!", "nick": "x"}, "bad room name"),
                ({"type": "join", "room": "r" * 33, "nick": "x"}, "bad room name"),
                ({"type": "join", "room": "r"}, "missing nick"),
                ({"type": "join", "room": "r", "nick": ""}, "missing nick"),
                ({"type": "join", "room": "r", "nick": 7}, "missing nick"),
                ({"type": "join", "room": "r", "nick": "é" * 25}, "nickname too long"),
                ({"type": "join", "room": "r", "nick": "tab\there"}, "bad nickname"),
                ({"type": "join", "room": "r", "nick": "taken"}, "nickname taken"),
                ({"type": "say", "room": "r", "text": "x"}, "not in that room"),
                ({"type": "leave", "room": "r"}, "not in that room"),
                ("x" * 5000, "message too large"),
            ]
            for message, error in cases:
                self.assertEqual(await request(ws, message), {"type": "error", "error": error}, message)
            # Limits that pass at their edge.
            ok = await request(ws, {"type": "join", "room": "r", "nick": "é" * 24})
            self.assertEqual(ok["type"], "joined")
            await other.recv()  # presence
            self.assertEqual(await request(ws, {"type": "join", "room": "r", "nick": "again"}),
                             {"type": "error", "error": "already in that room"})
            self.assertEqual(await request(ws, {"type": "say", "room": "r"}), {"type": "error", "error": "missing text"})
            self.assertEqual(await request(ws, {"type": "say", "room": "r", "text": "x" * 1001}),
                             {"type": "error", "error": "text too long"})
            said = await request(ws, {"type": "say", "room": "r", "text": "ü" * 1000})
            self.assertEqual(said["type"], "message")
            for i in range(7):
                self.assertEqual((await request(ws, {"type": "join", "room": f"room{i}", "nick": "n"}))["type"], "joined")
            self.assertEqual(await request(ws, {"type": "join", "room": "one-more", "nick": "n"}),
                             {"type": "error", "error": "too many rooms"})
            # The other client saw none of it but the real message.
            self.assertEqual(json.loads(await other.recv())["text"], "ü" * 1000)
            self.assertEqual((await request(other, {"type": "say", "room": "r", "text": "still here"}))["text"],
                             "still here")
        self.run_async(scenario)

    def test_ticker_pushes_in_sequence_and_echo_echoes(self):
        async def scenario(url):
            async with websockets.connect(url + "/ticker") as t:
                ticks = [json.loads(await asyncio.wait_for(t.recv(), TIMEOUT)) for _ in range(5)]
            self.assertTrue(all(t["type"] == "tick" for t in ticks))
            seqs = [t["seq"] for t in ticks]
            self.assertEqual(seqs, list(range(seqs[0], seqs[0] + 5)))
            self.assertEqual(set(ticks[0]["prices"]), {"DPLX", "SOCK", "WSS"})
            # Stamped in order (how fast they come is the server's interval, not
            # something a test on a shared machine can time).
            times = [t["time"] for t in ticks]
            self.assertEqual(times, sorted(times))
            async with websockets.connect(url + "/echo") as e:
                await e.send(b"\x00binary")
                self.assertEqual(await e.recv(), b"\x00binary")
        self.run_async(scenario)


if __name__ == "__main__":
    DUPLEX = sys.argv.pop(1)
    unittest.main(verbosity=1)
