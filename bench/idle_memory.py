#!/usr/bin/env python3
"""User-space memory a server spends per open WebSocket connection.

Starts the server, opens N connections (raw sockets: the handshake by hand,
optionally over TLS and offering permessage-deflate), optionally exchanges
one compressed message on each, and reports the growth of the server's
anonymous resident memory divided by N. Kernel socket buffers are not in
that figure; neither are shared-library code pages, which the first
handshakes page in once (hashing, TLS) and which would otherwise be spread
over the connections: a few warm-up connections are opened first.

  bench/idle_memory.py --connections 5000 -- build/release/apps/duplex serve --echo --port {port} --threads 1
  bench/idle_memory.py --deflate --exchange -- build/release/apps/duplex serve --echo --port {port} --deflate
"""
import argparse
import base64
import os
import resource
import shlex
import socket
import ssl
import subprocess
import sys
import time
import zlib

from benchlib import anon_rss as rss_bytes, free_port


def read_until(sock, marker, limit=65536):
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError(f"connection closed during the handshake: {data[:200]!r}")
        data += chunk
        if len(data) > limit:
            raise RuntimeError("response too large")
    return data


def masked_frame(payload, rsv1=False, opcode=2):
    head = bytes([0x80 | (0x40 if rsv1 else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def open_connection(port, context, args, payload):
    s = socket.create_connection(("127.0.0.1", port))
    if context:
        s = context.wrap_socket(s, server_hostname="localhost")
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n")
    if args.deflate:
        request += f"Sec-WebSocket-Extensions: {args.offer}\r\n"
    s.sendall((request + "\r\n").encode())
    response = read_until(s, b"\r\n\r\n")
    if not response.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(response[:200])
    if args.deflate and b"permessage-deflate" not in response:
        raise RuntimeError("deflate was not negotiated")
    if args.exchange:
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = (c.compress(payload) + c.flush(zlib.Z_SYNC_FLUSH))[:-4] if args.deflate else payload
        s.sendall(masked_frame(body, rsv1=args.deflate))
        s.recv(65536)
    return s


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--connections", type=int, default=5000)
    p.add_argument("--warmup", type=int, default=20, help="connections opened (and kept) before measuring")
    p.add_argument("--tls-ca", help="connect with TLS, trusting this CA")
    p.add_argument("--deflate", action="store_true", help="offer permessage-deflate")
    p.add_argument("--offer", default="permessage-deflate", help="the deflate offer to send")
    p.add_argument("--exchange", action="store_true",
                   help="send one compressible message on each connection and read the echo")
    p.add_argument("--settle", type=float, default=1.0, help="seconds to wait before measuring")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- SERVER COMMAND with {port}")
    args = p.parse_args()
    command = [c for c in args.command if c != "--"]
    if not command:
        p.error("give the server command after --")

    need = args.connections + args.warmup + 100
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))

    port = free_port()
    server = subprocess.Popen(shlex.split(" ".join(command).replace("{port}", str(port))),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (need, need)))
    socks = []
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start")
                time.sleep(0.05)
        context = ssl.create_default_context(cafile=args.tls_ca) if args.tls_ca else None
        payload = b"all work and no play makes a dull message " * 20
        for _ in range(args.warmup):
            socks.append(open_connection(port, context, args, payload))
        time.sleep(args.settle)
        before = rss_bytes(server.pid)
        for _ in range(args.connections):
            socks.append(open_connection(port, context, args, payload))
        time.sleep(args.settle)
        after = rss_bytes(server.pid)
        per = (after - before) / args.connections
        print(f"{args.connections} connections: server anonymous RSS {before / 2**20:.1f} MiB -> "
              f"{after / 2**20:.1f} MiB, {per:.0f} bytes per connection")
    finally:
        for s in socks:
            s.close()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
