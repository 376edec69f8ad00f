#!/usr/bin/env python3
"""The push server's client protocol and HTTP API, from Python.

`duplex serve` is started on a free loopback port; the protocol is spoken
with `websockets` (command by command, so that every error reply and every
disconnect code can be checked), and the API is called with the standard
library, with the request bodies of Centrifugo's server API documentation.

  push_protocol_test.py DUPLEX_BINARY
"""
import asyncio
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request

import websockets

API_KEY = "api-key-for-tests"
SECRET = "hmac-secret-for-tests"
failures = []


def check(condition, what):
    print(("ok: " if condition else "FAIL: ") + what, flush=True)
    if not condition:
        failures.append(what)


def start_server(binary):
    proc = subprocess.Popen(
        [binary, "serve", "--port", "0", "--api-key", API_KEY, "--token-hmac-secret", SECRET,
         "--history-size", "5",
         "--history-ttl", "60", "--presence", "--join-leave", "--namespace", "user"],
        stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
    for _ in range(20):
        line = proc.stdout.readline()
        m = re.search(r"listening on ws://127\.0\.0\.1:(\d+)", line)
        if m:
            return proc, int(m.group(1))
    proc.kill()
    raise SystemExit("duplex serve did not say where it listens")


def api(port, method, body, headers=None, raw=None, verb="POST"):
    """(status, parsed body or text) of an API call."""
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/{method}", data=data,
                                 method=verb,
                                 headers=headers if headers is not None else {"X-API-Key": API_KEY})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            text = r.read().decode()
            return r.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def jwt(claims):
    """An HS256 token for the tests (signed here with the standard library)."""
    import base64
    import hashlib
    import hmac
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


class Conn:
    """One protocol connection: commands with ids, replies matched by id."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 1
        self.pushes = []

    @classmethod
    async def open(cls, port):
        ws = await websockets.connect(f"ws://127.0.0.1:{port}/connection/websocket",
                                      max_size=None)
        return cls(ws)

    async def frame(self):
        text = await asyncio.wait_for(self.ws.recv(), 5)
        return [json.loads(line) for line in text.split("\n") if line]

    async def call(self, method, params):
        cid = self.next_id
        self.next_id += 1
        await self.ws.send(json.dumps({"id": cid, method: params}))
        while True:
            for reply in await self.frame():
                if reply.get("id") == cid:
                    return reply
                self.pushes.append(reply)

    async def closed_with(self):
        """The close code once the server closes (frames before it are kept)."""
        try:
            while True:
                self.pushes.extend(await self.frame())
        except websockets.ConnectionClosed as e:
            return e.code, e.reason

    async def push(self):
        while not self.pushes:
            self.pushes.extend(await self.frame())
        return self.pushes.pop(0)


async def protocol_checks(port):
    # A command before connect, and a frame that is not JSON: 3501.
    c = await Conn.open(port)
    await c.ws.send('{"id":1,"subscribe":{"channel":"news"}}')
    check((await c.closed_with())[0] == 3501, "a command before connect: disconnect 3501")
    c = await Conn.open(port)
    await c.ws.send("this is not json")
    check((await c.closed_with())[0] == 3501, "a frame that is not JSON: disconnect 3501")

    # Several commands in one frame; the replies come in one frame, in order.
    c = await Conn.open(port)
    await c.ws.send('{"id":1,"connect":{"name":"py"}}\n{"id":2,"subscribe":{"channel":"news"}}')
    replies = await c.frame()
    check([r.get("id") for r in replies] == [1, 2], "two commands in a frame, two replies in one")
    connect = replies[0]["connect"]
    check(bool(re.fullmatch(r"[0-9a-f-]{36}", connect["client"])) and connect["ping"] == 25
          and connect["pong"] is True, "connect: client id, ping 25, pong")
    check(replies[1] == {"id": 2, "subscribe": {}}, "subscribe without recovery: {}")

    r = await c.call("subscribe", {"channel": "news"})
    check(r.get("error", {}).get("code") == 105, "subscribed twice: 105")
    r = await c.call("subscribe", {"channel": "x" * 256})
    check(r.get("error", {}).get("code") == 107, "a channel name over 255 bytes: 107")
    r = await c.call("subscribe", {"channel": "two words"})
    check(r.get("error", {}).get("code") == 107, "a channel name with a space: 107")
    r = await c.call("subscribe", {"channel": "nowhere:x"})
    check(r.get("error", {}).get("code") == 102, "an unknown namespace: 102")
    r = await c.call("rpc", {"method": "m", "data": {}})
    check(r.get("error", {}).get("code") == 104, "rpc (no handler): 104")
    r = await c.call("frobnicate", {})
    check(r.get("error", {}).get("code") == 104, "an unknown command: 104")

    # Publish (on in the loopback demo): the publisher's own subscription
    # gets it, with who published it and its offset.
    r = await c.call("publish", {"channel": "news", "data": {"text": "hello"}})
    check(r == {"id": r["id"], "publish": {}}, "publish from the client")
    p = await c.push()
    pub = p.get("push", {}).get("pub", {})
    check(p["push"]["channel"] == "news" and pub.get("data") == {"text": "hello"}
          and pub.get("offset") == 1 and pub.get("info", {}).get("client") == connect["client"],
          "its publication arrives with data, offset and info")
    r = await c.call("history", {"channel": "news", "limit": 10})
    h = r.get("history", {})
    check(h.get("offset") == 1 and len(h.get("publications", [])) == 1 and h.get("epoch"),
          "history: the publication, the top offset and the epoch")
    r = await c.call("history", {"channel": "news", "since": {"offset": 0, "epoch": "other"}})
    check(r.get("error", {}).get("code") == 112, "history since another epoch: 112")

    # Join/leave and presence between two clients.
    b = await Conn.open(port)
    await b.call("connect", {})
    r = await b.call("subscribe", {"channel": "news", "join_leave": True})
    await c.call("subscribe", {"channel": "room"})
    d = await Conn.open(port)
    await d.call("connect", {})
    await d.call("subscribe", {"channel": "news"})
    r = await c.call("presence_stats", {"channel": "news"})
    check(r.get("presence_stats") == {"num_clients": 3, "num_users": 1},
          "presence_stats: three clients, one (anonymous) user")
    r = await c.call("presence", {"channel": "news"})
    check(len(r.get("presence", {}).get("presence", {})) == 3, "presence lists the three")
    await d.ws.close()
    kinds = []
    while "leave" not in kinds:
        push = (await b.push()).get("push", {})
        kinds.extend(k for k in ("join", "leave") if k in push)
    check(kinds == ["join", "join", "leave"],
          f"its own join, the next one's join, then its leave (got {kinds})")

    # Too many subscriptions: 106 at the 129th.
    n = len(["news", "room"])
    code = None
    for i in range(130):
        r = await c.call("subscribe", {"channel": f"many{i}"})
        if "error" in r:
            code = r["error"]["code"]
            break
        n += 1
    check(code == 106 and n == 128, f"subscription 129: 106 (after {n})")

    # Subscription tokens that expire: the reply says when; sub_refresh
    # moves it; a token for another channel ends the connection (3500).
    import time
    t = await Conn.open(port)
    r = await t.call("connect", {"token": jwt({"sub": "ann", "exp": int(time.time()) + 600})})
    check(r["connect"].get("expires") is True and 590 <= r["connect"].get("ttl", 0) <= 600,
          "a connection token with exp: expires and ttl")
    r = await t.call("subscribe", {"channel": "$vip", "token": jwt(
        {"sub": "ann", "channel": "$vip", "exp": int(time.time()) + 100})})
    check(r["subscribe"].get("expires") is True and 90 <= r["subscribe"].get("ttl", 0) <= 100,
          "a subscription token with exp: expires and ttl")
    r = await t.call("sub_refresh", {"channel": "$vip", "token": jwt(
        {"sub": "ann", "channel": "$vip", "exp": int(time.time()) + 900})})
    check(890 <= r.get("sub_refresh", {}).get("ttl", 0) <= 900, "sub_refresh: the new ttl")
    r = await t.call("sub_refresh", {"channel": "$vip", "token": jwt(
        {"sub": "ann", "channel": "$vip", "exp": int(time.time()) - 5})})
    check(r.get("error") == {"code": 109, "message": "token expired", "temporary": True},
          "sub_refresh with an expired token: 109, temporary (the SDKs try again)")
    await t.ws.send(json.dumps({"id": 99, "sub_refresh": {"channel": "$vip", "token": jwt(
        {"sub": "ann", "channel": "$other"})}}))
    check((await t.closed_with())[0] == 3500, "sub_refresh with another channel's token: 3500")

    # An expired token on connect, with subscribes in the same frame (as
    # the SDKs send them on reconnect): the 109 ends the frame, not the
    # connection, and a connect with a fresh token then works.
    e = await Conn.open(port)
    await e.ws.send(json.dumps({"id": 1, "connect": {"token": jwt({"sub": "eve", "exp": 1})}})
                    + "\n" + json.dumps({"id": 2, "subscribe": {"channel": "news"}}))
    replies = await e.frame()
    check([r.get("error", {}).get("code") for r in replies] == [109],
          "connect with an expired token and a subscribe: only the 109")
    r = await e.call("connect", {"token": jwt({"sub": "eve", "exp": int(time.time()) + 60})})
    check("connect" in r, "the same connection then connects with a fresh token")
    await e.ws.close()

    # Replies that pile up unread: a frame of history commands whose
    # answers would take far more than the 16 MiB budget gets 3008.
    big_data = "y" * 900_000
    for _ in range(5):
        api(port, "publish", {"channel": "bulky", "data": big_data})
    h = await Conn.open(port)
    await h.call("connect", {})
    await h.ws.send("\n".join(json.dumps({"id": 10 + i, "history": {"channel": "bulky", "limit": -1}})
                              for i in range(40)))
    check((await h.closed_with())[0] == 3008, "40 history answers of 4.5 MB in one frame: 3008")

    # A frame over 64 KiB: 1009.
    big = await Conn.open(port)
    await big.call("connect", {})
    await big.ws.send(json.dumps({"id": 2, "publish": {"channel": "news", "data": "x" * 70000}}))
    check((await big.closed_with())[0] == 1009, "a 70 KB frame: close 1009")
    await b.ws.close()
    return c, connect["client"]


async def api_checks(port, c, client_id):
    loop = asyncio.get_running_loop()
    call = lambda *a, **k: loop.run_in_executor(None, lambda: api(port, *a, **k))

    status, body = await call("publish", {"channel": "chat", "data": {"text": "hello"}})
    check(status == 200 and body["result"]["offset"] == 1 and body["result"]["epoch"],
          "API publish: offset and epoch")
    # curl, as a backend's shell script would call it (the body as in
    # Centrifugo's server API documentation).
    curl = subprocess.run(
        ["curl", "-sS", "--max-time", "5", "--header", "Content-Type: application/json",
         "--header", f"X-API-Key: {API_KEY}", "--request", "POST",
         "--data", '{"channel": "chat", "data": {"text": "hello"}}',
         f"http://127.0.0.1:{port}/api/publish"], capture_output=True, text=True)
    check(curl.returncode == 0 and json.loads(curl.stdout)["result"]["offset"] == 2,
          f"curl publishes (got {curl.stdout.strip() or curl.stderr.strip()})")
    status, body = await call("publish", {"channel": "chat", "data": {"n": 2}},
                              headers={"Authorization": "apikey " + API_KEY})
    check(status == 200 and body["result"]["offset"] == 3, "Authorization: apikey KEY works")
    status, body = await call("publish", {"channel": "chat", "data": {}},
                              headers={"X-API-Key": "wrong"})
    check(status == 401, "a wrong key: 401")
    status, body = await call("publish", None, raw=b"{not json")
    check(status == 400, "a body that is not JSON: 400")
    status, body = await call("publish", {"channel": "chat"})
    check(body == {"error": {"code": 107, "message": "bad request"}}, "publish without data: 107")
    status, body = await call("publish", {"channel": "nowhere:x", "data": {}})
    check(body.get("error", {}).get("code") == 102, "publish to an unknown namespace: 102")
    status, body = await call("broadcast", {"channels": ["user:1", "user:2", "nowhere:3"],
                                            "data": {"text": "hello"}})
    responses = body["result"]["responses"]
    check(len(responses) == 3 and responses[0]["result"]["offset"] == 1
          and responses[2]["error"]["code"] == 102, "broadcast: one answer per channel, in order")
    status, body = await call("history", {"channel": "chat", "limit": 1, "reverse": True})
    check([p["data"] for p in body["result"]["publications"]] == [{"n": 2}]
          and body["result"]["offset"] == 3, "history reverse, limit 1: the newest")
    status, body = await call("history_remove", {"channel": "chat"})
    status, body = await call("history", {"channel": "chat", "limit": -1})
    check(body["result"]["publications"] == [] and body["result"]["offset"] == 3,
          "history_remove empties the history, the offset stays")
    status, body = await call("presence_stats", {"channel": "room"})
    check(body["result"] == {"num_clients": 1, "num_users": 1}, "API presence_stats")
    status, body = await call("presence", {"channel": "room"})
    check(list(body["result"]["presence"]) == [client_id], "API presence: the client")
    status, body = await call("channels", {"pattern": "ro*"})
    check(body["result"]["channels"] == {"room": {"num_clients": 1}}, "API channels with a pattern")
    status, body = await call("info", {})
    node = body["result"]["nodes"][0]
    check(node["num_clients"] == 1 and node["num_subs"] == 128, "API info: one client, 128 subs")
    status, body = await call("disconnect", {"user": "someone-else", "client": client_id})
    r = await c.call("ping", {})
    check(r.get("ping") == {}, "disconnect naming the client with another user leaves it alone")
    status, body = await call("disconnect", {"client": client_id,
                                             "disconnect": {"code": 4000, "reason": "bye"}})
    check(body == {"result": {}}, "API disconnect")
    code, reason = await c.closed_with()
    check((code, reason) == (4000, "bye"), f"the client is closed with 4000 bye (got {code})")
    status, body = await call("publish", {}, verb="GET")
    check(status == 405, "GET of an API path: 405")

    def get(path):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()

    status, _, body = await loop.run_in_executor(None, get, "/health")
    check(status == 200 and body == "{}", "/health: 200")
    status, ctype, body = await loop.run_in_executor(None, get, "/metrics")
    values = dict(line.rsplit(" ", 1) for line in body.splitlines() if not line.startswith("#"))
    check(status == 200 and ctype.startswith("text/plain; version=0.0.4"), "/metrics: Prometheus text")
    # Client publish 1, API publish 2, broadcast 2 (the third channel is
    # unknown), and whatever the demo's own producers published.
    publications = int(values.get("duplex_push_publications_total", 0))
    check(publications >= 5, "metrics: the publications")
    check(values.get("duplex_push_clients") == "0" and values.get("duplex_push_subscriptions") == "0",
          "metrics: no clients and no subscriptions left")
    check(int(values.get("duplex_push_deliveries_total", 0)) >= 1
          and int(values.get("duplex_push_protocol_errors_total", 0)) >= 8
          and int(values.get('duplex_push_publish_duration_seconds_count', 0)) >= 5,
          "metrics: deliveries, protocol errors, the publish histogram")
    check(values.get("duplex_connections_refused_total") == "0"
          and values.get("duplex_rate_limited_closed_total") == "0",
          "metrics: the connection limits' counters")


def config_checks(binary):
    """--config: Centrifugo's option names, an unknown one refused with a
    one-line message, and SIGHUP reading the file again (a new API key)."""
    import os
    import signal
    import tempfile
    import time
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config.json")
        with open(path, "w") as f:
            json.dump({"api_key": "first", "history_size": 3, "history_ttl": "1m",
                       "namespaces": [{"name": "room", "history_size": 2, "history_ttl": 30}]}, f)
        proc = subprocess.Popen([binary, "serve", "--port", "0", "--config", path],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            port = None
            for _ in range(20):
                m = re.search(r"listening on ws://127\.0\.0\.1:(\d+)", proc.stdout.readline())
                if m:
                    port = int(m.group(1))
                    break
            body = {"channel": "room:1", "data": {"n": 1}}
            status, reply = api(port, "publish", body, headers={"X-API-Key": "first"})
            check(status == 200 and reply["result"]["offset"] == 1,
                  "the file's API key, namespace and history apply")
            with open(path, "w") as f:
                json.dump({"api_key": "second", "history_size": 3, "history_ttl": 60}, f)
            proc.send_signal(signal.SIGHUP)
            for _ in range(50):  # bounded: 5 s
                if api(port, "publish", {"channel": "a", "data": 1},
                       headers={"X-API-Key": "second"})[0] == 200:
                    break
                time.sleep(0.1)
            check(api(port, "publish", body, headers={"X-API-Key": "first"})[0] == 401 and
                  api(port, "publish", {"channel": "b", "data": 1},
                      headers={"X-API-Key": "second"})[0] == 200,
                  "after SIGHUP the new key works and the old one does not")
            status, reply = api(port, "publish", body, headers={"X-API-Key": "second"})
            check(reply.get("error", {}).get("code") == 102,
                  "a namespace gone from the file is an unknown channel after SIGHUP")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        with open(path, "w") as f:
            json.dump({"history_sise": 3}, f)
        r = subprocess.run([binary, "serve", "--port", "0", "--config", path],
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 1 and r.stderr.strip().count("\n") == 0
              and 'unknown option "history_sise"' in r.stderr,
              f"an unknown option: one line, exit 1 (got {r.returncode}: {r.stderr.strip()})")


async def main(binary):
    proc, port = start_server(binary)
    try:
        c, client_id = await asyncio.wait_for(protocol_checks(port), 60)
        await asyncio.wait_for(api_checks(port, c, client_id), 60)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    config_checks(binary)
    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: push_protocol_test.py DUPLEX_BINARY")
    asyncio.run(main(sys.argv[1]))
