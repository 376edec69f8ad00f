#!/usr/bin/env python3
"""The Duplex client's permessage-deflate against another library's server.

  deflate_vs_peer_server.py --peer python --log-dir DIR \\
      (--client duplex_interop_client | --cli duplex) -- PEER_SERVER_COMMAND...

Starts the peer server (py_server.py or node_server.mjs) and connects to
its /deflate/CONFIG routes with each set of our --deflate flags (FLAGS). What
the peer must have agreed to, given its configuration and our offer, is in
EXPECTED: the peer reports it first, then every message of the deflate set
must come back identical, the peer checking how ours arrived. --client runs
duplex_interop_client for every pair, and for the Python peer also the
answers that break RFC 7692 (BAD_ANSWERS), which our client must refuse;
--cli drives `duplex connect` through a few of them."""

import argparse
import os
import re

from cli_checks import InteractiveCli
from peer_common import text_of_size
from results import Results, require_program
from server_process import ServerError, ServerProcess
from subprocess_run import run_bounded

SCENARIO_LIMIT = 150.0
STEP_LIMIT = 15.0

# Our offers for each flag set (DeflateOptions of the client): the first
# asks for what the flags say; the second (the client adds it unless it
# would be the same) drops server_no_context_takeover and names
# client_max_window_bits, without a value unless the flags give one.
#   default           permessage-deflate; server_no_context_takeover; client_no_context_takeover,
#                     permessage-deflate; client_no_context_takeover; client_max_window_bits
#   takeover          permessage-deflate, permessage-deflate; client_max_window_bits
#   client-window-10  the default offers, each with client_max_window_bits=10
#   server-window-10  the default offers, each with server_max_window_bits=10
#   small-takeover    permessage-deflate; server_max_window_bits=9; client_max_window_bits=9
FLAGS = {
    "default": ["--deflate"],
    "takeover": [
        "--deflate",
        "--deflate-server-context-takeover",
        "--deflate-client-context-takeover",
    ],
    "client-window-10": ["--deflate", "--deflate-client-window-bits", "10"],
    "server-window-10": ["--deflate", "--deflate-server-window-bits", "10"],
    "small-takeover": [
        "--deflate",
        "--deflate-server-context-takeover",
        "--deflate-client-context-takeover",
        "--deflate-server-window-bits",
        "9",
        "--deflate-client-window-bits",
        "9",
    ],
}

S = "server_no_context_takeover"
C = "client_no_context_takeover"


def sw(bits):
    return f"server_max_window_bits={bits}"


def cw(bits):
    return f"client_max_window_bits={bits}"


def pmd(*params):
    """What the peer reports having agreed to (peer_deflate.canonical)."""
    return "; ".join(["permessage-deflate"] + sorted(params))


NONE = "none"  # the peer declined every offer: messages go uncompressed
REFUSED = "refused"  # the peer answers 400 (`ws` when it can accept no offer)


def either(negotiated):
    """The peer answers client_max_window_bits=8, a window zlib cannot
    compress with: we may refuse that answer, or accept it (and then must
    compress with at most that window, or not at all)."""
    return ("either", negotiated)


# EXPECTED[peer][peer configuration][our flags]. Python: websockets'
# ServerPerMessageDeflateFactory; Node: `ws`, which answers 400 when it can
# accept none of the offers (see DEFLATE_CONFIGS in each server).
EXPECTED = {
    "python": {
        "default": {
            "default": pmd(C, S),
            "takeover": pmd(),
            "client-window-10": pmd(C, S, cw(10)),
            "server-window-10": pmd(C, S, sw(10)),
            "small-takeover": pmd(cw(9), sw(9)),
        },
        "no-takeover": {
            "default": pmd(C, S),
            "takeover": pmd(C, S),
            "client-window-10": pmd(C, S, cw(10)),
            "server-window-10": pmd(C, S, sw(10)),
            "small-takeover": pmd(C, S, cw(9), sw(9)),
        },
        "windows": {
            "default": pmd(C, S, sw(10)),
            "takeover": pmd(sw(10)),
            "client-window-10": pmd(C, S, cw(10), sw(10)),
            "server-window-10": pmd(C, S, sw(10)),
            "small-takeover": pmd(cw(9), sw(9)),
        },
        "small-windows": {
            "default": pmd(C, S, sw(9)),
            "takeover": pmd(sw(9)),
            "client-window-10": pmd(C, S, cw(9), sw(9)),
            "server-window-10": pmd(C, S, sw(9)),
            "small-takeover": pmd(cw(9), sw(9)),
        },
        "client-window-8": {
            "default": pmd(C, S),
            "takeover": pmd(),
            "client-window-10": either(pmd(C, S, cw(8))),
            "server-window-10": pmd(C, S, sw(10)),
            "small-takeover": either(pmd(cw(8), sw(9))),
        },
        # Takes the second offer where the first has no client_max_window_bits.
        "require-client-window": {
            "default": pmd(C, cw(12)),
            "takeover": pmd(cw(12)),
            "client-window-10": pmd(C, S, cw(10)),
            "server-window-10": pmd(C, cw(12), sw(10)),
            "small-takeover": pmd(cw(9), sw(9)),
        },
    },
    "node": {
        "default": {
            "default": pmd(C, S),
            "takeover": pmd(),
            "client-window-10": pmd(C, S, cw(10)),
            "server-window-10": pmd(C, S, sw(10)),
            "small-takeover": pmd(cw(9), sw(9)),
        },
        "no-takeover": {
            "default": pmd(C, S),
            "takeover": pmd(C, S),
            "client-window-10": pmd(C, S, cw(10)),
            "server-window-10": pmd(C, S, sw(10)),
            "small-takeover": pmd(C, S, cw(9), sw(9)),
        },
        # Refuses server_no_context_takeover: takes the second offer.
        "takeover": {
            "default": pmd(C),
            "takeover": pmd(),
            "client-window-10": pmd(C, cw(10)),
            "server-window-10": pmd(C, sw(10)),
            "small-takeover": pmd(cw(9), sw(9)),
        },
        "server-window-10": {
            "default": pmd(C, S, sw(10)),
            "takeover": pmd(sw(10)),
            "client-window-10": pmd(C, S, cw(10), sw(10)),
            "server-window-10": pmd(C, S, sw(10)),
            "small-takeover": REFUSED,
        },
        # Requires client_max_window_bits: takes the second offer where
        # the first has none.
        "client-window-9": {
            "default": pmd(C, cw(9)),
            "takeover": pmd(cw(9)),
            "client-window-10": pmd(C, S, cw(9)),
            "server-window-10": pmd(C, cw(9), sw(10)),
            "small-takeover": pmd(cw(9), sw(9)),
        },
    },
}

# How a client refusing the peer's extension answer must say so (its error
# may quote the answer, so "deflate" alone would not tell).
ABOUT_THE_EXTENSION = "extension"

# (py_server.py's /bad-extension/KIND, our flags): answers that break RFC 6455
# section 4.1 or RFC 7692 section 7 for our offer; the connection must fail.
BAD_ANSWERS = [
    ("client-window-without-value", "default"),
    ("unknown-parameter", "default"),
    ("window-16", "default"),
    ("window-without-value", "default"),
    ("flag-with-value", "default"),
    ("repeated-parameter", "default"),
    ("larger-server-window", "server-window-10"),  # 12 > the 10 we offered
    ("larger-client-window", "client-window-10"),
    ("twice", "default"),
    ("unoffered-extension", "default"),
    ("unoffered-extension", None),  # no --deflate: no extension offered at all
    ("deflate", None),
]


def run_client(results, args, name, argv):
    run = run_bounded([args.client] + argv, SCENARIO_LIMIT)
    if run.timed_out:
        results.fail(name, f"still running after {SCENARIO_LIMIT:.0f} s")
    elif run.returncode == 0:
        results.ok(name, run.stdout.strip().split(": ", 2)[-1])
    else:
        results.fail(name, f"exit {run.returncode}: {(run.stderr or run.stdout).strip()}")


def scenario_for(expected):
    if expected == REFUSED:
        return ["rejected", "400"]
    if isinstance(expected, tuple):
        return ["deflate-or-refuse", expected[1]]
    return ["deflate", expected]


def run_client_scenarios(results, args, base_url):
    for config, by_flags in EXPECTED[args.peer].items():
        for flags, expected in by_flags.items():
            route = f"/deflate/{config}"
            name = f"duplex client {flags} vs {args.peer} {route}"
            argv = FLAGS[flags] + [base_url + route] + scenario_for(expected)
            run_client(results, args, name, argv)
    if args.peer != "python":
        return
    for kind, flags in BAD_ANSWERS:
        route = f"/bad-extension/{kind}"
        name = f"duplex client {flags or 'without --deflate'} vs {args.peer} {route}"
        argv = FLAGS.get(flags, []) + [base_url + route, "connect-fails", ABOUT_THE_EXTENSION]
        run_client(results, args, name, argv)


# (peer configuration, our flags) for `duplex connect --echo` on
# /drive-deflate: the peer sends the deflate set, we echo it.
CLI_DRIVES = {
    "python": [
        ("default", "default"),
        ("no-takeover", "takeover"),
        ("windows", "client-window-10"),
        ("small-windows", "small-takeover"),
    ],
    "node": [
        ("default", "default"),
        ("takeover", "takeover"),
        ("server-window-10", "server-window-10"),
        ("client-window-9", "client-window-10"),
        ("takeover", "default"),  # the second offer
        ("client-window-9", "default"),  # the second offer
    ],
}
CLI_BAD_ANSWERS = [
    ("client-window-without-value", "default"),
    ("unknown-parameter", "default"),
    ("deflate", None),
]


def cli_drive(results, args, base_url, config, flags):
    url = f"{base_url}/drive-deflate/{config}"
    name = f"duplex connect --echo {' '.join(FLAGS[flags])} vs {args.peer} /drive-deflate/{config}"
    run = run_bounded([args.cli, "connect", "--echo"] + FLAGS[flags] + [url], SCENARIO_LIMIT)
    if run.timed_out:
        return results.fail(name, f"still running after {SCENARIO_LIMIT:.0f} s")
    report = run.stderr.strip()
    expected = EXPECTED[args.peer][config][flags]
    if expected == REFUSED:
        lines = report.splitlines()
        return results.check(
            name,
            run.returncode == 1
            and len(lines) == 1
            and lines[0].startswith(f"duplex: cannot connect to {url}: ")
            and "400" in lines[0],
            f"refused: exit 1, {report!r}",
            f"expected exit 1 and one 'cannot connect ... 400' line, got exit {run.returncode}, "
            f"{report!r}",
        )
    params = " ".join(expected.split("; ")[1:])
    ending = f"ok: {params}" if params else "ok"
    results.check(
        name,
        run.returncode == 0 and re.search(rf"closed: 1000\b.*: {re.escape(ending)}$", report),
        f"the {args.peer} server saw every echo, agreed to {params or 'no parameters'}",
        f"expected exit 0 and 'closed: 1000 ...: {ending}', got exit {run.returncode}, {report!r}",
    )


def cli_bad_answer(results, args, base_url, kind, flags):
    url = f"{base_url}/bad-extension/{kind}"
    options = FLAGS[flags] if flags else []
    shown = " ".join(options) or "(no --deflate)"
    name = f"duplex connect {shown} vs {args.peer} /bad-extension/{kind}"
    run = run_bounded([args.cli, "connect"] + options + [url], STEP_LIMIT)
    if run.timed_out:
        return results.fail(name, f"still running after {STEP_LIMIT:.0f} s")
    lines = run.stderr.strip().splitlines()
    prefix = f"duplex: cannot connect to {url}: "
    results.check(
        name,
        run.returncode == 1
        and len(lines) == 1
        and lines[0].startswith(prefix)
        # The reason, not the URL (which names the route), must say it.
        and re.search(ABOUT_THE_EXTENSION, lines[0][len(prefix) :], re.IGNORECASE),
        f"exit 1, {lines[0]!r}" if lines else "",
        f"expected exit 1 and one 'cannot connect' line about the extension, "
        f"got exit {run.returncode}, stderr {run.stderr.strip()!r}",
    )


def cli_interactive(results, args, base_url):
    """What a user sees: the peer's report, then a long compressible line
    echoed, then exit 0 at the end of input."""
    url = f"{base_url}/deflate/default"
    name = f"duplex connect --deflate vs {args.peer} /deflate/default"
    expected = f"negotiated: {EXPECTED[args.peer]['default']['default']}"
    line = text_of_size(1000) * 5
    cli = InteractiveCli([args.cli, "connect", "--deflate", url])
    report = cli.read_line()
    cli.send_line(line)
    echoed = cli.read_line()
    status, stderr = cli.finish(close_stdin=True)
    results.check(
        name,
        report == expected and echoed == line and status == 0,
        f"{report!r}, {len(line)}-byte line echoed, exit 0",
        f"first line {report!r} (expected {expected!r}), echo "
        f"{'identical' if echoed == line else repr((echoed or '')[:40])}, "
        f"exit {status}, stderr {stderr!r}",
    )


def run_cli_checks(results, args, base_url):
    cli_interactive(results, args, base_url)
    for config, flags in CLI_DRIVES[args.peer]:
        cli_drive(results, args, base_url, config, flags)
    if args.peer == "python":
        for kind, flags in CLI_BAD_ANSWERS:
            cli_bad_answer(results, args, base_url, kind, flags)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", required=True, choices=sorted(EXPECTED))
    parser.add_argument("--log-dir", required=True)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--client", help="duplex_interop_client")
    mode.add_argument("--cli", help="the duplex command-line tool")
    parser.add_argument("server_argv", nargs="+", help="the peer server command")
    args = parser.parse_args()
    require_program(args.server_argv[0], f"{args.peer} interpreter")
    os.makedirs(args.log_dir, exist_ok=True)

    results = Results()
    log_name = f"{args.peer}_deflate_server_for_{'client' if args.client else 'cli'}.log"
    server = ServerProcess(
        f"{args.peer} server", args.server_argv, os.path.join(args.log_dir, log_name)
    )
    try:
        with server:
            if args.client:
                run_client_scenarios(results, args, server.url)
            else:
                run_cli_checks(results, args, server.url)
            status = server.stop()
            results.check(f"{args.peer} server shutdown", status == 0, "exit 0", f"exit {status}")
    except ServerError as e:
        results.fail(f"{args.peer} server", str(e))
    results.exit()


if __name__ == "__main__":
    main()
