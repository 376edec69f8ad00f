#!/usr/bin/env python3
"""The demo's server side over the push protocol (Centrifugo's, JSON) against
`duplex serve`: the namespaces and their options as the page needs them,
the ticker and comment producers, POST /demo/comment, an answer streamed
token by token after POST /demo/ask, recovery after a drop, /echo, and that
the old /chat and /ticker routes are gone.

Usage: demo_channels_test.py DUPLEX_BINARY
"""
import asyncio
import json
import signal
import subprocess
import sys
import unittest
import urllib.error
import urllib.request

import websockets

DUPLEX = None
TIMEOUT = 10
API_KEY = "demo-test-key"


class DemoServer:
    def __enter__(self):
        self.proc = subprocess.Popen([DUPLEX, "serve", "--host", "127.0.0.1", "--port", "0", "--threads", "2",
                                      "--api-key", API_KEY],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on ws://"):
            self.proc.kill()
            raise AssertionError(f"no listening line: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])
        self.url = f"ws://127.0.0.1:{self.port}"
        return self

    def post(self, path, body, headers=None):
        """(status, JSON answer) of a POST."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method="POST",
                                         headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def api(self, method, body):
        status, answer = self.post(f"/api/{method}", body, {"X-API-Key": API_KEY})
        assert status == 200 and "error" not in answer, (method, status, answer)
        return answer["result"]

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.proc.stdout.close()
        self.proc.stderr.close()


class Client:
    """A push client with no SDK: commands by id, pushes queued."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 1
        self.pushes = []
        self.client_id = None

    @classmethod
    async def open(cls, url):
        self = cls(await websockets.connect(url + "/connection/websocket"))
        self.client_id = (await self.call("connect", {"name": "test"}))["client"]
        return self

    async def call(self, method, params):
        cid = self.next_id
        self.next_id += 1
        await self.ws.send(json.dumps({"id": cid, method: params}))
        while True:
            for line in (await asyncio.wait_for(self.ws.recv(), TIMEOUT)).strip().split("\n"):
                reply = json.loads(line)
                if reply.get("id") == cid:
                    return reply.get("error") or reply[method]
                if "push" in reply:
                    self.pushes.append(reply["push"])
                elif not reply:
                    await self.ws.send("{}")  # pong

    async def push(self, channel=None, kind="pub"):
        """The next push of `kind` on `channel` (pings answered, others kept)."""
        while True:
            for i, p in enumerate(self.pushes):
                if (channel is None or p.get("channel") == channel) and kind in p:
                    return self.pushes.pop(i)
            for line in (await asyncio.wait_for(self.ws.recv(), TIMEOUT)).strip().split("\n"):
                reply = json.loads(line)
                if "push" in reply:
                    self.pushes.append(reply["push"])
                elif not reply:
                    await self.ws.send("{}")

    async def close(self):
        await self.ws.close()


class DemoChannels(unittest.TestCase):
    def run_async(self, scenario):
        with DemoServer() as server:
            asyncio.run(asyncio.wait_for(scenario(server), 60))

    def test_chat_rooms(self):
        async def scenario(server):
            a = await Client.open(server.url)
            b = await Client.open(server.url)
            sub = await a.call("subscribe", {"channel": "chat:lobby", "join_leave": True})
            # force_recovery: recoverable without asking, with a position.
            self.assertTrue(sub.get("recoverable"), sub)
            self.assertIn("epoch", sub)
            await b.call("subscribe", {"channel": "chat:lobby", "join_leave": True})
            # Its own join first, then b's.
            joined = await a.push("chat:lobby", "join")
            self.assertEqual(joined["join"]["info"]["client"], a.client_id)
            joined = await a.push("chat:lobby", "join")
            self.assertEqual(joined["join"]["info"]["client"], b.client_id)
            stats = await a.call("presence_stats", {"channel": "chat:lobby"})
            self.assertEqual(stats, {"num_clients": 2, "num_users": 1})
            # Clients publish in chat (the page does); the data is theirs.
            message = {"type": "message", "nick": "ada", "text": "h\u00e9llo <b>", "time": 1}
            self.assertEqual(await a.call("publish", {"channel": "chat:lobby", "data": message}), {})
            pub = (await b.push("chat:lobby"))["pub"]
            self.assertEqual(pub["data"], message)
            self.assertEqual(pub["info"]["client"], a.client_id)
            history = await b.call("history", {"channel": "chat:lobby", "limit": -1})
            self.assertEqual([p["data"] for p in history["publications"]], [message])
            # Not in the other namespaces.
            for channel in ("ticker:prices", "comments:live", "answers:abcdefgh"):
                error = await a.call("publish", {"channel": channel, "data": {"x": 1}})
                self.assertEqual(error["code"], 103, channel)
            self.assertEqual((await a.call("subscribe", {"channel": "nope:x"}))["code"], 102)
            await b.close()
            left = await a.push("chat:lobby", "leave")
            self.assertEqual(left["leave"]["info"]["client"], b.client_id)
            await a.close()
        self.run_async(scenario)

    def test_ticker_and_comments_flow(self):
        async def scenario(server):
            c = await Client.open(server.url)
            sub = await c.call("subscribe", {"channel": "ticker:prices"})
            self.assertTrue(sub.get("recoverable"), sub)
            await c.call("subscribe", {"channel": "comments:live"})
            seqs = []
            for _ in range(3):
                data = (await c.push("ticker:prices"))["pub"]["data"]
                self.assertEqual(set(data["prices"]), {"DPLX", "SOCK", "WSS"})
                seqs.append(data["seq"])
            self.assertEqual(seqs, sorted(seqs))
            comment = (await c.push("comments:live"))["pub"]["data"]
            self.assertEqual(set(comment), {"nick", "text", "time", "kind"})
            # A visitor's comment, through the demo's endpoint.
            status, answer = server.post("/demo/comment", {"nick": "grace", "text": "hi all"})
            self.assertEqual((status, answer["channel"]), (200, "comments:live"))
            while True:
                comment = (await c.push("comments:live"))["pub"]["data"]
                if comment["kind"] == "visitor":
                    break
            self.assertEqual((comment["nick"], comment["text"]), ("grace", "hi all"))
            for bad in ({"nick": "grace"}, {"nick": "", "text": "x"}, {"nick": "g", "text": "x" * 141}, [1]):
                self.assertEqual(server.post("/demo/comment", bad)[0], 400, bad)
            self.assertEqual(server.post("/demo/comment", b"{not json")[0], 400)
            await c.close()
        self.run_async(scenario)

    def test_streamed_answer(self):
        async def scenario(server):
            c = await Client.open(server.url)
            channel = "answers:test0123abcd"
            await c.call("subscribe", {"channel": channel})
            status, answer = server.post("/demo/ask", {"channel": channel, "question": "why streams?"})
            self.assertEqual(status, 200, answer)
            self.assertGreater(answer["tokens"], 10)
            tokens = []
            while True:
                data = (await c.push(channel))["pub"]["data"]
                self.assertEqual(data["index"], len(tokens))
                tokens.append(data["token"])
                if data["done"]:
                    break
            self.assertEqual(len(tokens), answer["tokens"])
            self.assertIn("why streams?", "".join(tokens))
            # Every token is a publication of its own, in the history too.
            history = await c.call("history", {"channel": channel, "limit": -1})
            self.assertEqual(len(history["publications"]), len(tokens))
            for bad in ({"channel": channel}, {"channel": "answers:short", "question": "q"},
                        {"channel": "chat:lobby", "question": "q"}, {"channel": channel, "question": "x" * 501}):
                self.assertEqual(server.post("/demo/ask", bad)[0], 400, bad)
            await c.close()
        self.run_async(scenario)

    def test_recovery_after_a_drop(self):
        async def scenario(server):
            c = await Client.open(server.url)
            sub = await c.call("subscribe", {"channel": "chat:room1"})
            epoch, offset = sub["epoch"], sub["offset"]
            await c.close()
            for i in range(3):
                server.api("publish", {"channel": "chat:room1", "data": {"type": "message", "nick": "api",
                                                                          "text": f"m{i}", "time": i}})
            c = await Client.open(server.url)
            sub = await c.call("subscribe", {"channel": "chat:room1", "recover": True, "offset": offset,
                                             "epoch": epoch})
            self.assertTrue(sub.get("recovered"), sub)
            self.assertEqual([p["data"]["text"] for p in sub["publications"]], ["m0", "m1", "m2"])
            # A position from another epoch (a restarted server) is not recovered.
            await c.call("unsubscribe", {"channel": "chat:room1"})
            sub = await c.call("subscribe", {"channel": "chat:room1", "recover": True, "offset": 1,
                                             "epoch": "gone"})
            self.assertTrue(sub.get("was_recovering"), sub)
            self.assertFalse(sub.get("recovered", False), sub)
            await c.close()
        self.run_async(scenario)

    def test_echo_stays_and_old_routes_are_gone(self):
        async def scenario(server):
            async with websockets.connect(server.url + "/echo") as ws:
                await ws.send("ping me")
                self.assertEqual(await asyncio.wait_for(ws.recv(), TIMEOUT), "ping me")
            for path in ("/chat", "/ticker"):
                with self.assertRaises(websockets.exceptions.InvalidHandshake):
                    await websockets.connect(server.url + path)
        self.run_async(scenario)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    DUPLEX = sys.argv.pop(1)
    unittest.main(verbosity=2)
