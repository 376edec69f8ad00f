#!/usr/bin/env python3
"""Another library's permessage-deflate clients against Duplex servers.

  deflate_vs_duplex_server.py --server duplex_interop_server [--cli duplex] \\
      --peer python --log-dir DIR -- /usr/bin/python3 py_deflate_client.py

Starts one duplex_interop_server per DeflateOptions of SERVERS (and with
--cli, `duplex serve` with the flags of SERVE), then runs the peer's deflate
client program (py_deflate_client.py, node_deflate_client.mjs) with
--servers, the JSON list of their URLs and configurations, and stops the
servers, which must exit 0."""

import argparse
import contextlib
import json
import os
import subprocess

from peer_deflate import DuplexDeflate
from results import Results, require_program
from server_process import ServerError, ServerProcess, log_tail

PEER_LIMIT = 280.0

# The Duplex servers the peer's clients try every offer on: the defaults
# (no context takeover either way), context takeover both ways, and smaller
# windows than the peers' own defaults.
SERVERS = {
    "default": DuplexDeflate(),
    "takeover": DuplexDeflate(server_context_takeover=True, client_context_takeover=True),
    "windows": DuplexDeflate(server_max_window_bits=10, client_max_window_bits=11),
}
# `duplex serve` with its --deflate flags, a mix of the above.
SERVE = DuplexDeflate(
    server_context_takeover=True, server_max_window_bits=11, client_max_window_bits=12
)


def run_peer(results, args, servers):
    """The peer prints its own ok/FAIL lines; we add one for how it ended."""
    name = f"{args.peer} deflate client"
    log_path = os.path.join(args.log_dir, f"{args.peer}_deflate_client.log")
    with open(log_path, "wb") as log:
        try:
            run = subprocess.run(
                args.peer_argv + ["--servers", json.dumps(servers)],
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="duplex_interop_server")
    parser.add_argument("--cli", help="the duplex command-line tool: also `duplex serve`")
    parser.add_argument("--peer", required=True, help="python or node, for messages")
    parser.add_argument("--log-dir", required=True)
    parser.add_argument("peer_argv", nargs="+", help="the peer's deflate client command")
    args = parser.parse_args()
    require_program(args.peer_argv[0], f"{args.peer} interpreter")
    os.makedirs(args.log_dir, exist_ok=True)

    results = Results()
    processes = []
    for name, config in SERVERS.items():
        log = os.path.join(args.log_dir, f"{args.peer}_deflate_vs_{name}_server.log")
        argv = [args.server] + config.flags()
        processes.append((name, config, ServerProcess(f"duplex server ({name})", argv, log)))
    if args.cli:
        log = os.path.join(args.log_dir, f"{args.peer}_deflate_vs_duplex_serve.log")
        argv = [args.cli, "serve", "--echo", "--port", "0", "--threads", "1"] + SERVE.flags()
        processes.append(("duplex serve", SERVE, ServerProcess("duplex serve", argv, log)))
    try:
        with contextlib.ExitStack() as running:
            for _, _, process in processes:
                running.enter_context(process)
            servers = [
                {"name": name, "url": process.url, "config": config.as_json()}
                for name, config, process in processes
            ]
            run_peer(results, args, servers)
            for _, _, process in processes:
                status = process.stop()
                results.check(f"{process.name} shutdown", status == 0, "exit 0", f"exit {status}")
    except ServerError as e:
        results.fail("servers", str(e))
    results.exit()


if __name__ == "__main__":
    main()
