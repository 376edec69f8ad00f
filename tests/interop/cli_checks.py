"""`duplex connect` against a peer server: what a user of the command line
sees (exit status, stdout lines, the stderr report) for echo, a close code
chosen by the server, a subprotocol, fragmented sends and a refused upgrade.

`connect` is the command up to the URL: [duplex, "connect", OPTIONS...]."""

import os
import re
import select
import subprocess
import time

from peer_common import FRAGMENT_SIZE, REJECT_BODY, text_of_size
from subprocess_run import run_bounded

SIZES_LIMIT = 150.0
STEP_LIMIT = 15.0


class InteractiveCli:
    """`duplex connect` with a stdin we keep open, so that the end of input
    (which makes it close with 1000) comes only when the check says so."""

    def __init__(self, argv):
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self._stdout = b""

    def send_line(self, text):
        self.process.stdin.write(text.encode() + b"\n")
        self.process.stdin.flush()

    def read_line(self, limit=STEP_LIMIT):
        """The next stdout line, or None if none comes within `limit` seconds."""
        deadline = time.monotonic() + limit
        fd = self.process.stdout.fileno()
        while b"\n" not in self._stdout and (remaining := deadline - time.monotonic()) > 0:
            if not select.select([fd], [], [], remaining)[0]:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            self._stdout += chunk
        if b"\n" not in self._stdout:
            return None
        line, self._stdout = self._stdout.split(b"\n", 1)
        return line.decode(errors="replace")

    def finish(self, close_stdin, limit=STEP_LIMIT):
        """Exit status and stderr; kills the process (ours) if it outlives `limit`."""
        if close_stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None, ""
        if not self.process.stdin.closed:
            self.process.stdin.close()
        stderr = self.process.stderr.read().decode(errors="replace").strip()
        self.process.stdout.close()
        self.process.stderr.close()
        return self.process.returncode, stderr


def echo_every_size(results, connect, peer, base_url):
    name = f"duplex connect --echo vs {peer} /drive-sizes"
    run = run_bounded(connect + ["--echo", f"{base_url}/drive-sizes"], SIZES_LIMIT)
    if run.timed_out:
        return results.fail(name, f"still running after {SIZES_LIMIT:.0f} s")
    report = run.stderr.strip()
    results.check(
        name,
        run.returncode == 0 and re.search(r"closed: 1000\b.*: sizes ok$", report),
        f"the {peer} server saw every echo ({report})",
        f"exit {run.returncode}, stderr: {report!r}",
    )


def closed_by_server(results, connect, peer, base_url):
    name = f"duplex connect vs {peer} /close 4001"
    cli = InteractiveCli(connect + [f"{base_url}/close"])
    cli.send_line("4001 bye now")
    status, stderr = cli.finish(close_stdin=False)
    results.check(
        name,
        status == 1 and re.fullmatch(r"duplex: closed: 4001\b.*: bye now", stderr),
        f"exit 1, {stderr!r}",
        f"expected exit 1 and 'duplex: closed: 4001 ...: bye now', got exit {status}, {stderr!r}",
    )


def subprotocol_and_echo(results, connect, peer, base_url):
    name = f"duplex connect -v --subprotocol chat.v1 vs {peer} /protocol"
    url = f"{base_url}/protocol"
    cli = InteractiveCli(connect + ["-v", "--subprotocol", "chat.v1", url])
    cli.send_line("hello, peer")
    echoed = cli.read_line()
    status, stderr = cli.finish(close_stdin=True)
    connected = f"duplex: connected to {url} subprotocol=chat.v1"
    results.check(
        name,
        echoed == "hello, peer" and status == 0 and connected in stderr.splitlines(),
        "echo printed, subprotocol reported, exit 0",
        f"stdout line {echoed!r}, exit {status}, stderr {stderr!r}",
    )


def fragmented_line(results, connect, peer, base_url):
    """--fragment-size: /fragmented takes only messages in frames of that size
    (the Python peer counts them) and echoes in such frames."""
    name = f"duplex connect --fragment-size {FRAGMENT_SIZE} vs {peer} /fragmented"
    line = text_of_size(5 * FRAGMENT_SIZE + 1)
    url = f"{base_url}/fragmented"
    cli = InteractiveCli(connect + ["--fragment-size", str(FRAGMENT_SIZE), url])
    cli.send_line(line)
    echoed = cli.read_line()
    status, stderr = cli.finish(close_stdin=True)
    results.check(
        name,
        echoed == line and status == 0,
        f"{len(line)}-byte line echoed, exit 0",
        f"echo {'identical' if echoed == line else repr((echoed or '')[:40])}, "
        f"exit {status}, stderr {stderr!r}",
    )


def refused_upgrade(results, connect, peer, base_url):
    name = f"duplex connect vs {peer} /reject"
    url = f"{base_url}/reject"
    run = run_bounded(connect + [url], STEP_LIMIT)
    lines = run.stderr.strip().splitlines()
    results.check(
        name,
        run.returncode == 1
        and len(lines) == 1
        and lines[0].startswith(f"duplex: cannot connect to {url}: ")
        and "403" in lines[0]
        and REJECT_BODY in lines[0],
        f"exit 1, {lines[0]!r}" if lines else "",
        f"exit {run.returncode}, stderr {run.stderr.strip()!r}",
    )


def run_cli_checks(results, connect, peer, base_url):
    echo_every_size(results, connect, peer, base_url)
    closed_by_server(results, connect, peer, base_url)
    subprotocol_and_echo(results, connect, peer, base_url)
    fragmented_line(results, connect, peer, base_url)
    refused_upgrade(results, connect, peer, base_url)
