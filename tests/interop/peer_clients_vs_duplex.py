#!/usr/bin/env python3
"""Another library's clients against the Duplex server.

  peer_clients_vs_duplex.py --server duplex_interop_server --peer python \\
      --log-dir DIR -- /usr/bin/python3 py_client.py

Starts two duplex_interop_servers (one with an Origin allow-list, one that
fragments what it sends), runs the peer client program with --url and
--fragmenting-url, then checks that SIGTERM closes an open connection with
1001 and that both servers exit 0."""

import argparse
import asyncio
import os
import subprocess

import websockets

from peer_common import ALLOWED_ORIGIN, FRAGMENT_SIZE
from results import Results, require_program
from server_process import ServerError, ServerProcess, log_tail

PEER_LIMIT = 240.0
CLOSE_LIMIT = 10.0


def run_peer_client(results, args, urls):
    """The peer prints its own ok/FAIL lines; we add one for how it ended."""
    name = f"{args.peer} client"
    log_path = os.path.join(args.log_dir, f"{args.peer}_client.log")
    with open(log_path, "wb") as log:
        try:
            run = subprocess.run(
                args.peer_argv + ["--url", urls[0], "--fragmenting-url", urls[1]],
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


async def close_code_on_shutdown(server):
    """Opens a connection, sends SIGTERM, returns the close code that arrives."""
    async with websockets.connect(f"{server.url}/echo", compression=None) as ws:
        await ws.send("still here")
        await asyncio.wait_for(ws.recv(), CLOSE_LIMIT)
        server.terminate()
        await asyncio.wait_for(ws.wait_closed(), CLOSE_LIMIT)
        return ws.close_code


def check_shutdown(results, server, with_open_connection):
    name = f"{server.name} shutdown"
    try:
        if with_open_connection:
            code = asyncio.run(close_code_on_shutdown(server))
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
    parser.add_argument("peer_argv", nargs="+", help="the peer client command")
    args = parser.parse_args()
    require_program(args.peer_argv[0], f"{args.peer} interpreter")
    os.makedirs(args.log_dir, exist_ok=True)

    results = Results()
    plain = ServerProcess(
        "duplex server",
        [args.server, "--origin", ALLOWED_ORIGIN],
        os.path.join(args.log_dir, f"{args.peer}_vs_server.log"),
    )
    fragmenting = ServerProcess(
        "fragmenting duplex server",
        [args.server, "--fragment-size", str(FRAGMENT_SIZE)],
        os.path.join(args.log_dir, f"{args.peer}_vs_fragmenting_server.log"),
    )
    try:
        with plain, fragmenting:
            run_peer_client(results, args, (plain.url, fragmenting.url))
            check_shutdown(results, plain, with_open_connection=True)
            check_shutdown(results, fragmenting, with_open_connection=False)
    except ServerError as e:
        results.fail("servers", str(e))
    results.exit()


if __name__ == "__main__":
    main()
