#!/usr/bin/env python3
"""Conformance cases against a WebSocket echo CLIENT; the harness is the server.

Usage: run_client_cases.py [options] -- CLIENT_COMMAND... (one argument containing {url})

Listens on 127.0.0.1, and for each selected case starts CLIENT_COMMAND with
{url} replaced by ws://127.0.0.1:PORT/case/CASE-ID.  The client must connect,
echo every message, and exit once the connection is closed: with status 0
after a normal close (1000/1001), with a non-zero status otherwise.
"""

import os
import select
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cli import case_timeout, over_budget, parse_options  # noqa: E402
from judge import FAILED, NON_STRICT, judge, worse  # noqa: E402
from report import Reporter  # noqa: E402
from session import Session  # noqa: E402
from wsproto_raw import HandshakeError, server_handshake  # noqa: E402


def accept_client(listener, proc, deadline):
    """The client's connection, or None if it exited or the deadline passed first."""
    poller = select.poll()
    poller.register(listener.fileno(), select.POLLIN)
    while time.monotonic() < deadline:
        if poller.poll(100):
            conn, _ = listener.accept()
            return conn
        if proc.poll() is not None:
            return None
    return None


def wait_exit(proc, seconds):
    """Exit status, or None after killing a client that did not exit in time."""
    try:
        return proc.wait(seconds)
    except subprocess.TimeoutExpired:
        proc.kill()  # only the process this runner started, by its PID
        proc.wait(5)
        return None


def _exit_matches(expect, status):
    return expect == "any" or (status == 0) == (expect == "zero")


def run_case(case, listener, template, timeout, exit_timeout, log):
    plan = case.build()
    port = listener.getsockname()[1]
    url = "ws://127.0.0.1:%d/case/%s" % (port, case.id)
    command = [arg.replace("{url}", url) for arg in template]
    log.write(("\n===== case %s: %s\n" % (case.id, " ".join(command))).encode())
    log.flush()
    deadline = time.monotonic() + timeout
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
    except OSError as e:
        return FAILED, "cannot start client: %s" % e, 0.0, ""
    try:
        return _drive(case, plan, proc, listener, deadline, exit_timeout)
    finally:
        if proc.poll() is None:  # interrupted: never leave the client behind
            proc.kill()
            proc.wait(5)


def _drive(case, plan, proc, listener, deadline, exit_timeout):
    conn = accept_client(listener, proc, deadline)
    if conn is None:
        status = wait_exit(proc, 1)
        return FAILED, "client did not connect (exit status %s)" % status, 0.0, "exit=%s" % status
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        path, leftover = server_handshake(conn, deadline)
        if path != "/case/" + case.id:
            raise HandshakeError("client asked for %r instead of %r" % (path, "/case/" + case.id))
    except (HandshakeError, TimeoutError, OSError) as e:
        conn.close()
        status = wait_exit(proc, exit_timeout)
        return FAILED, "opening handshake: %s" % (e or type(e).__name__), 0.0, "exit=%s" % status
    out = Session(conn, leftover, harness_is_client=False, deadline=deadline).run(plan)
    verdict, reason = judge(plan, out)
    status = wait_exit(proc, exit_timeout)
    if status is None:
        verdict = FAILED
        reason = "; ".join(r for r in (reason, "client did not exit within %g s (killed)" % exit_timeout) if r)
    elif verdict != FAILED and not _exit_matches(plan.close.exit, status):
        verdict = worse(verdict, NON_STRICT)
        wanted = "0" if plan.close.exit == "zero" else "non-zero"
        reason = "; ".join(r for r in (reason, "exit status %d, expected %s" % (status, wanted)) if r)
    return verdict, reason, out.seconds, "exit=%s" % status


def main(argv):
    args, template = parse_options(argv, "run_client_cases.py", __doc__.splitlines()[0],
                                   "CLIENT_COMMAND... (one argument containing {url})",
                                   os.path.join(tempfile.gettempdir(), "duplex-conformance-client.log"))
    if not any("{url}" in arg for arg in template):
        print("run_client_cases.py: no argument of CLIENT_COMMAND contains {url}", file=sys.stderr)
        return 2
    reporter = Reporter("conformance.client", args.allow_non_strict, args.junit)
    started = time.monotonic()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    with open(args.log, "wb") as log:
        try:
            for i, case in enumerate(args.selected):
                if over_budget(reporter, args, started, i):
                    break
                verdict, reason, seconds, note = run_case(
                    case, listener, template, case_timeout(case, args.timeout), args.timeout, log)
                reporter.case(case, verdict, reason, seconds, note)
        finally:
            listener.close()
    return reporter.finish(time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
