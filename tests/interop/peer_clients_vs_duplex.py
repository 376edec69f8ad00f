#!/usr/bin/env python3
"""Another library's clients against the Duplex server.

  peer_clients_vs_duplex.py --server duplex_interop_server --peer python \\
      --log-dir DIR [--tls-cert PEM --tls-key PEM --cafile CA] \\
      -- /usr/bin/python3 py_client.py

Starts two duplex_interop_servers (one with an Origin allow-list, one that
fragments what it sends), runs the peer client program with --url and
--fragmenting-url, then checks that SIGTERM closes an open connection with
1001 and that both servers exit 0. With --tls-cert and --tls-key the servers
serve wss:// with that certificate, and the peer client gets --cafile."""

import argparse
import asyncio
import os
import ssl
import subprocess

import websockets

from peer_common import ALLOWED_ORIGIN, FRAGMENT_SIZE
from results import Results, require_files, require_program
from server_process import ServerError, ServerProcess, log_tail

PEER_LIMIT = 240.0
CLOSE_LIMIT = 10.0


def run_peer_client(results, args, urls):
    """The peer prints its own ok/FAIL lines; we add one for how it ended."""
    name = f"{args.peer} client"
    tls = "tls_" if args.tls_cert else ""
    log_path = os.path.join(args.log_dir, f"{args.peer}_{tls}client.log")
    with open(log_path, "wb") as log:
        try:
            trust = ["--cafile", args.cafile] if args.cafile else []
            run = subprocess.run(
                args.peer_argv + ["--url", urls[0], "--fragmenting-url", urls[1]] + trust,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                timeout=PEER_LIMIT,
            )
        except subprocess.TimeoutExpired:
            results.fail(name, f"still running after {PEER_LIMIT:.0f} s; log: {log_path}")
            return
    output = run.stdout.decode(errors="replace").rstrip()
    if output:
        print(output, flush=True)
    if run.returncode != 0 and "FAIL" not in output:
        results.fail(name, f"exited with {run.returncode}; stderr: {log_tail(log_path)}")
    elif run.returncode != 0:
        results.failed += 1  # its FAIL lines above say why


async def close_code_on_shutdown(server, cafile):
    """Opens a connection, sends SIGTERM, returns the close code that arrives."""
    tls = {"ssl": ssl.create_default_context(cafile=cafile)} if cafile else {}
    async with websockets.connect(f"{server.url}/echo", compression=None, **tls) as ws:
        await ws.send("still here")
        await asyncio.wait_for(ws.recv(), CLOSE_LIMIT)
        server.terminate()
        await asyncio.wait_for(ws.wait_closed(), CLOSE_LIMIT)
        return ws.close_code


def check_shutdown(results, server, with_open_connection, cafile=None):
    name = f"{server.name} shutdown"
    try:
        if with_open_connection:
            code = asyncio.run(close_code_on_shutdown(server, cafile))
            results.check(f"{name} close code", code == 1001, "1001", f"got {code}")
        else:
            server.terminate()
        status = server.wait()
        results.check(name, status == 0, "exit 0 on SIGTERM", f"exit status {status}")
    except (ServerError, OSError, asyncio.TimeoutError, websockets.WebSocketException) as e:
        results.fail(name, str(e) or type(e).__name__)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="duplex_interop_server")
    parser.add_argument("--peer", required=True, help="python or node, for messages")
    parser.add_argument("--log-dir", required=True)
    parser.add_argument("--tls-cert", help="serve wss:// with this certificate (PEM)")
    parser.add_argument("--tls-key", help="the private key of --tls-cert")
    parser.add_argument("--cafile", help="the CA the peer client trusts")
    parser.add_argument("peer_argv", nargs="+", help="the peer client command")
    args = parser.parse_args()
    require_program(args.peer_argv[0], f"{args.peer} interpreter")
    require_files(args.tls_cert, args.tls_key, args.cafile)
    os.makedirs(args.log_dir, exist_ok=True)

    results = Results()
    tls = ["--tls-cert", args.tls_cert, "--tls-key", args.tls_key] if args.tls_cert else []
    prefix = f"{args.peer}_vs_{'tls_' if tls else ''}"
    plain = ServerProcess(
        "duplex server",
        [args.server, "--origin", ALLOWED_ORIGIN] + tls,
        os.path.join(args.log_dir, f"{prefix}server.log"),
    )
    fragmenting = ServerProcess(
        "fragmenting duplex server",
        [args.server, "--fragment-size", str(FRAGMENT_SIZE)] + tls,
        os.path.join(args.log_dir, f"{prefix}fragmenting_server.log"),
    )
    try:
        with plain, fragmenting:
            run_peer_client(results, args, (plain.url, fragmenting.url))
            check_shutdown(results, plain, with_open_connection=True, cafile=args.cafile)
            check_shutdown(results, fragmenting, with_open_connection=False)
    except ServerError as e:
        results.fail("servers", str(e))
    results.exit()


if __name__ == "__main__":
    main()
