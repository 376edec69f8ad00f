#!/usr/bin/env python3
"""The certificate checks of the Duplex client (library and `duplex connect`),
`duplex serve` over TLS, and permessage-deflate over TLS.

  tls_checks.py --client duplex_interop_client --cli duplex --certs DIR \\
      --log-dir DIR -- /usr/bin/python3 py_server.py

DIR holds what tests/tls/make_test_certs.sh makes: ca.pem, server.pem/.key
(localhost and 127.0.0.1, signed by the CA), wrong-name.pem/.key
(wrong.example, signed by the CA), self-signed.pem/.key (localhost and
127.0.0.1, signed by itself). Starts the Python peer server with each of the
three, and once without TLS; our client must accept the first with --cacert
(by address and by name), refuse the others (the error naming OpenSSL's
reason), connect to them with --insecure, and fail rather than hang when one
side speaks TLS and the other does not."""

import argparse
import asyncio
import contextlib
import os
import re
import ssl

import websockets

from cli_checks import InteractiveCli
from peer_deflate import compressible_text
from results import Results, require_files, require_program
from server_process import ServerError, ServerProcess
from subprocess_run import run_bounded

SCENARIO_LIMIT = 60.0
STEP_LIMIT = 15.0

# What OpenSSL says (X509_verify_cert_error_string, with "certificate verify
# failed" around it) for each refusal. OpenSSL 3 writes "self-signed", older
# versions "self signed".
UNTRUSTED = r"certificate verify failed|unable to get local issuer certificate"
SELF_SIGNED = r"self[- ]signed certificate"
WRONG_NAME = r"Hostname mismatch"
# For an address, OpenSSL checks the certificate's IP entries ("IP address
# mismatch"); a client that checks the address as a name gets "Hostname
# mismatch". Either way the certificate is refused.
WRONG_ADDRESS = r"IP address mismatch|Hostname mismatch"
# A TLS client against a plain server, or the other way round: any error, as
# long as it comes (the point is not hanging).
ANY_ERROR = r"."


def by_name(url):
    return url.replace("://127.0.0.1:", "://localhost:", 1)


def library_checks(results, args, servers):
    good, wrong, self_signed, plain = (servers[k] for k in ("good", "wrong", "self", "plain"))
    trust = ["--cacert", args.ca]
    cases = [
        ("trusted CA, by address", trust, f"{good}/echo", ["echo", "over TLS"]),
        ("trusted CA, by name", trust, f"{by_name(good)}/echo", ["echo", "over TLS"]),
        ("no --cacert: system CAs only", [], f"{good}/echo", ["connect-fails", UNTRUSTED]),
        (
            "--cacert missing",
            ["--cacert", os.path.join(args.certs, "missing.pem")],
            f"{good}/echo",
            ["connect-fails", ANY_ERROR],
        ),
        ("wrong name", trust, f"{by_name(wrong)}/echo", ["connect-fails", WRONG_NAME]),
        ("wrong address", trust, f"{wrong}/echo", ["connect-fails", WRONG_ADDRESS]),
        ("self-signed", [], f"{self_signed}/echo", ["connect-fails", SELF_SIGNED]),
        ("self-signed, --cacert", trust, f"{self_signed}/echo", ["connect-fails", SELF_SIGNED]),
        ("self-signed, --insecure", ["--insecure"], f"{self_signed}/echo", ["echo", "insecure"]),
        ("wrong name, --insecure", ["--insecure"], f"{by_name(wrong)}/echo", ["echo", "insecure"]),
        (
            "wss:// to a plain server",
            trust,
            plain.replace("ws://", "wss://", 1) + "/echo",
            ["connect-fails", ANY_ERROR],
        ),
        (
            "ws:// to a TLS server",
            [],
            good.replace("wss://", "ws://", 1) + "/echo",
            ["connect-fails", ANY_ERROR],
        ),
        ("the whole size set, by name", trust, f"{by_name(good)}/echo", ["sizes"]),
        (
            "permessage-deflate",
            trust + ["--deflate"],
            f"{good}/deflate/default",
            [
                "deflate",
                "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
            ],
        ),
    ]
    for name, options, url, scenario in cases:
        check = f"duplex client: {name}"
        run = run_bounded([args.client] + options + [url] + scenario, SCENARIO_LIMIT)
        if run.timed_out:
            results.fail(check, f"still running after {SCENARIO_LIMIT:.0f} s")
        elif run.returncode == 0:
            results.ok(check, run.stdout.strip().split(": ", 2)[-1])
        else:
            results.fail(check, f"exit {run.returncode}: {(run.stderr or run.stdout).strip()}")


def cli_echo(results, name, argv):
    cli = InteractiveCli(argv)
    cli.send_line("hello over TLS")
    echoed = cli.read_line()
    status, stderr = cli.finish(close_stdin=True)
    results.check(
        name,
        echoed == "hello over TLS" and status == 0,
        "line echoed, exit 0",
        f"stdout line {echoed!r}, exit {status}, stderr {stderr!r}",
    )


def cli_refused(results, name, argv, url, pattern):
    """Exit 1 and one line `duplex: cannot connect to URL: ...` with the reason."""
    run = run_bounded(argv + [url], STEP_LIMIT)
    if run.timed_out:
        return results.fail(name, f"still running after {STEP_LIMIT:.0f} s")
    lines = run.stderr.strip().splitlines()
    prefix = f"duplex: cannot connect to {url}: "
    results.check(
        name,
        run.returncode == 1
        and len(lines) == 1
        and lines[0].startswith(prefix)
        and re.search(pattern, lines[0][len(prefix) :], re.IGNORECASE),
        f"exit 1, {lines[0]!r}" if lines else "",
        f"expected exit 1 and one 'duplex: cannot connect to {url}: ...' line matching "
        f"/{pattern}/, got exit {run.returncode}, stderr {run.stderr.strip()!r}",
    )


def cli_checks(results, args, servers):
    good, wrong, self_signed = servers["good"], servers["wrong"], servers["self"]
    connect = [args.cli, "connect"]
    trust = ["--cacert", args.ca]
    cli_echo(results, "duplex connect --cacert, by address", connect + trust + [f"{good}/echo"])
    cli_echo(
        results, "duplex connect --cacert, by name", connect + trust + [f"{by_name(good)}/echo"]
    )
    cli_refused(results, "duplex connect without --cacert", connect, f"{good}/echo", UNTRUSTED)
    cli_refused(
        results,
        "duplex connect --cacert, wrong name",
        connect + trust,
        f"{by_name(wrong)}/echo",
        WRONG_NAME,
    )
    cli_refused(
        results, "duplex connect, self-signed", connect, f"{self_signed}/echo", SELF_SIGNED
    )
    cli_refused(
        results,
        "duplex connect --cacert, self-signed",
        connect + trust,
        f"{self_signed}/echo",
        SELF_SIGNED,
    )
    cli_echo(
        results,
        "duplex connect --insecure, self-signed",
        connect + ["--insecure", f"{self_signed}/echo"],
    )
    # The peer sends the deflate set over TLS; we echo it.
    url = f"{good}/drive-deflate/default"
    name = "duplex connect --deflate --echo over TLS"
    run = run_bounded(connect + trust + ["--deflate", "--echo", url], SCENARIO_LIMIT)
    report = run.stderr.strip()
    agreed = "client_no_context_takeover server_no_context_takeover"
    results.check(
        name,
        not run.timed_out
        and run.returncode == 0
        and re.search(rf"closed: 1000\b.*: ok: {agreed}$", report),
        "the peer saw every echo, compressed",
        f"exit {run.returncode}{' (timed out)' if run.timed_out else ''}, {report!r}",
    )


async def talk_to_serve(url, ca):
    """A Python client with compression against `duplex serve`: the agreed
    extensions, and a compressible message and a large one echoed."""
    context = ssl.create_default_context(cafile=ca)
    async with websockets.connect(
        url, ssl=context, compression="deflate", max_size=2**25, open_timeout=STEP_LIMIT
    ) as ws:
        answer = ", ".join(ws.response_headers.get_all("Sec-WebSocket-Extensions"))
        for message in (compressible_text(100_000), os.urandom(1 << 20)):
            await ws.send(message)
            got = await asyncio.wait_for(ws.recv(), STEP_LIMIT)
            if got != message:
                return answer, f"echo of {len(message)} bytes differs"
        return answer, None


def serve_check(results, args):
    name = "duplex serve --tls-cert --tls-key --deflate, Python client"
    log = os.path.join(args.log_dir, "tls_duplex_serve.log")
    argv = [args.cli, "serve", "--echo", "--port", "0", "--threads", "1", "--deflate"]
    argv += ["--tls-cert", args.cert, "--tls-key", args.key]
    try:
        with ServerProcess("duplex serve", argv, log) as serve:
            if not serve.url.startswith("wss://"):
                return results.fail(name, f"listening on {serve.url}, expected wss://")
            try:
                answer, why = asyncio.run(talk_to_serve(f"{serve.url}/anything", args.ca))
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as e:
                return results.fail(name, str(e) or type(e).__name__)
            results.check(
                name,
                why is None and answer.startswith("permessage-deflate"),
                f"{serve.url}, agreed to {answer!r}, echoes identical",
                why or f"agreed to {answer!r}, expected permessage-deflate",
            )
            status = serve.stop()
            results.check("duplex serve over TLS shutdown", status == 0, "exit 0", f"exit {status}")
    except ServerError as e:
        results.fail(name, str(e))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", required=True, help="duplex_interop_client")
    parser.add_argument("--cli", help="the duplex command-line tool")
    parser.add_argument("--certs", required=True, help="the directory of make_test_certs.sh")
    parser.add_argument("--log-dir", required=True)
    parser.add_argument("server_argv", nargs="+", help="the Python peer server command")
    args = parser.parse_args()
    require_program(args.server_argv[0], "python interpreter")
    args.ca = os.path.join(args.certs, "ca.pem")
    args.cert = os.path.join(args.certs, "server.pem")
    args.key = os.path.join(args.certs, "server.key")
    pairs = {
        "good": ("server.pem", "server.key"),
        "wrong": ("wrong-name.pem", "wrong-name.key"),
        "self": ("self-signed.pem", "self-signed.key"),
    }
    files = [os.path.join(args.certs, f) for pair in pairs.values() for f in pair]
    require_files(args.ca, *files)
    os.makedirs(args.log_dir, exist_ok=True)

    results = Results()
    processes = {
        name: ServerProcess(
            f"python server ({cert})",
            args.server_argv
            + ["--tls-cert", os.path.join(args.certs, cert)]
            + ["--tls-key", os.path.join(args.certs, key)],
            os.path.join(args.log_dir, f"tls_checks_{name}_server.log"),
        )
        for name, (cert, key) in pairs.items()
    }
    processes["plain"] = ServerProcess(
        "python server (no TLS)",
        args.server_argv,
        os.path.join(args.log_dir, "tls_checks_plain_server.log"),
    )
    try:
        with contextlib.ExitStack() as running:
            servers = {name: running.enter_context(p).url for name, p in processes.items()}
            library_checks(results, args, servers)
            if args.cli:
                cli_checks(results, args, servers)
                serve_check(results, args)
            for process in processes.values():
                status = process.stop()
                results.check(f"{process.name} shutdown", status == 0, "exit 0", f"exit {status}")
    except ServerError as e:
        results.fail("python servers", str(e))
    results.exit()


if __name__ == "__main__":
    main()
