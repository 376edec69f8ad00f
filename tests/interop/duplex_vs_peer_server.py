#!/usr/bin/env python3
"""The Duplex client against another library's server.

  duplex_vs_peer_server.py --peer python --log-dir DIR \\
      (--client duplex_interop_client | --cli duplex) \\
      [--tls-cert PEM --tls-key PEM --cacert CA] -- PEER_SERVER_COMMAND...

Starts the peer server (py_server.py or node_server.mjs), then either runs
every duplex_interop_client scenario against its routes (--client) or
drives the `duplex connect` command line (--cli), and finally checks that the
peer server exits 0 on SIGTERM. With --tls-cert and --tls-key the peer
server serves wss:// with that certificate, and our client trusts --cacert
(a certificate check failing would fail every scenario)."""

import argparse
import os

from cli_checks import run_cli_checks
from peer_common import ALLOWED_ORIGIN, REFUSED_ORIGIN, REJECT_BODY
from results import Results, require_files, require_program
from server_process import ServerError, ServerProcess
from subprocess_run import run_bounded

SCENARIO_LIMIT = 150.0

# (route, scenario arguments) for duplex_interop_client.
SCENARIOS = [
    ("/echo", ["sizes"]),
    ("/fragmented", ["fragmented"]),
    ("/echo", ["ping"]),
    ("/echo?room=1&note=a%20b", ["ping"]),  # the query string goes along
    ("/ping", ["pinged", "ping me, duplex"]),
    ("/echo", ["close", "1000", ""]),
    ("/echo", ["close", "4000", "client bye"]),
    ("/echo", ["close", "3001", "ünïcödé reason"]),
    ("/echo", ["close", "4999", "r" * 123]),
    # The close handshake ends when the peer's close frame and end of TCP
    # connection arrive, not at our close_timeout (5 s): several tries, as a
    # frame and the end of connection arrive together only some of the time.
    ("/echo", ["close-time", "20", "2500"]),
    ("/close", ["peer-close", "4001", "bye now"]),
    ("/close", ["peer-close", "1000", ""]),
    ("/close", ["peer-close", "1011", "internal trouble"]),
    ("/close", ["peer-close", "1005", ""]),  # an empty close frame: "no status"
    ("/protocol", ["subprotocol", "chat.v1,chat.v2", "chat.v2"]),
    ("/protocol", ["subprotocol", "chat.v1", "chat.v1"]),
    ("/protocol", ["subprotocol", "chat.v3", "-"]),
    ("/reject", ["rejected", "403", REJECT_BODY]),
    ("/origin", ["origin", REFUSED_ORIGIN, "403"]),
    ("/origin", ["origin", ALLOWED_ORIGIN, "101"]),
]


def label(argument):
    """A scenario argument as the check's name shows it: short and visible."""
    if len(argument) > 24:
        return f"<{len(argument)} chars>"
    return f'"{argument}"' if " " in argument or not argument else argument


def run_client_scenarios(results, args, base_url, options):
    for route, scenario in SCENARIOS:
        name = f"duplex client vs {args.peer} {route} " + " ".join(map(label, scenario))
        run = run_bounded([args.client] + options + [base_url + route] + scenario, SCENARIO_LIMIT)
        if run.timed_out:
            results.fail(name, f"still running after {SCENARIO_LIMIT:.0f} s")
        elif run.returncode == 0:
            results.ok(name, run.stdout.strip().split(": ", 2)[-1])
        else:
            results.fail(name, f"exit {run.returncode}: {(run.stderr or run.stdout).strip()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", required=True, help="python or node, for messages")
    parser.add_argument("--log-dir", required=True)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--client", help="duplex_interop_client")
    mode.add_argument("--cli", help="the duplex command-line tool")
    parser.add_argument("--tls-cert", help="the peer serves wss:// with this certificate (PEM)")
    parser.add_argument("--tls-key", help="the private key of --tls-cert")
    parser.add_argument("--cacert", help="the CA our client trusts (--cacert of both)")
    parser.add_argument("server_argv", nargs="+", help="the peer server command")
    args = parser.parse_args()
    require_program(args.server_argv[0], f"{args.peer} interpreter")
    require_files(args.tls_cert, args.tls_key, args.cacert)
    os.makedirs(args.log_dir, exist_ok=True)

    results = Results()
    tls = ["--tls-cert", args.tls_cert, "--tls-key", args.tls_key] if args.tls_cert else []
    trust = ["--cacert", args.cacert] if args.cacert else []
    kind = ("tls_" if tls else "") + "server_for_" + ("client" if args.client else "cli")
    log_name = f"{args.peer}_{kind}.log"
    server = ServerProcess(
        f"{args.peer} server", args.server_argv + tls, os.path.join(args.log_dir, log_name)
    )
    try:
        with server:
            if args.client:
                run_client_scenarios(results, args, server.url, trust)
            else:
                run_cli_checks(results, [args.cli, "connect"] + trust, args.peer, server.url)
            status = server.stop()
            results.check(f"{args.peer} server shutdown", status == 0, "exit 0", f"exit {status}")
    except ServerError as e:
        results.fail(f"{args.peer} server", str(e))
    results.exit()


if __name__ == "__main__":
    main()
