#!/usr/bin/env python3
"""Conformance cases against a WebSocket echo CLIENT; the harness is the server.

Usage: run_client_cases.py [options] -- CLIENT_COMMAND... (one argument containing {url})

Listens on 127.0.0.1, and for each selected case starts CLIENT_COMMAND with
{url} replaced by ws://127.0.0.1:PORT/case/CASE-ID (wss:// with --tls-cert and
--tls-key; --url-host changes the host part).  The client must connect, echo
every message, and exit once the connection is closed: with status 0 after a
normal close (1000/1001), with a non-zero status otherwise.

Cases that negotiate permessage-deflate (12-14) judge the client's offer and
answer it with the case's parameters where RFC 7692 lets that offer get them;
otherwise the case is UNSUPPORTED.
"""

import argparse
import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pmd  # noqa: E402
from cli import case_timeout, over_budget, parse_options  # noqa: E402
from judge import FAILED, NON_STRICT, judge, unsupported, worse  # noqa: E402
from plan import Plan  # noqa: E402
from report import Reporter  # noqa: E402
from session import Session  # noqa: E402
from tls import TlsError, TlsSocket, server_context  # noqa: E402
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


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return "signal %d" % number


def _exit_matches(expect, status):
    return expect == "any" or (status == 0) == (expect == "zero")


def run_case(case, listener, template, timeout, exit_timeout, log, endpoint):
    plan = case.build()
    port = listener.getsockname()[1]
    url = "%s://%s:%d/case/%s" % (endpoint.scheme, endpoint.host, port, case.id)
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
        return _drive(case, plan, proc, listener, deadline, exit_timeout, endpoint.tls)
    finally:
        if proc.poll() is None:  # interrupted: never leave the client behind
            proc.kill()
            proc.wait(5)


class _Negotiation:
    """Answers the client's extension offer the way the case wants (pmd.choose)."""

    def __init__(self, wanted):
        self.wanted = wanted      # plan.Deflate or None
        self.agreement = None
        self.unsupported = ""     # why the case cannot run as meant

    def __call__(self, path, offered):
        if self.wanted is None:
            return None  # decline everything, as for categories 1-10
        if not self.wanted.negotiate:
            return None
        try:
            self.agreement, self.unsupported = pmd.choose(offered, self.wanted.accepts)
        except pmd.Violation as e:
            raise HandshakeError("Sec-WebSocket-Extensions %r breaks RFC 7692: %s"
                                 % (offered, e)) from None
        return self.agreement.header if self.agreement else None


def _drive(case, plan, proc, listener, deadline, exit_timeout, tls):
    conn = accept_client(listener, proc, deadline)
    if conn is None:
        status = wait_exit(proc, 1)
        return FAILED, "client did not connect (exit status %s)" % status, 0.0, "exit=%s" % status
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls is not None:
        try:
            conn = TlsSocket.accept(conn, tls, deadline)
        except (TlsError, TimeoutError, OSError) as e:
            conn.close()
            status = wait_exit(proc, exit_timeout)
            return FAILED, "TLS handshake: %s" % (e or type(e).__name__), 0.0, "exit=%s" % status
    negotiation = _Negotiation(plan.deflate)
    try:
        path, leftover = server_handshake(conn, deadline, negotiation)
        if path != "/case/" + case.id:
            raise HandshakeError("client asked for %r instead of %r" % (path, "/case/" + case.id))
    except (HandshakeError, TimeoutError, OSError) as e:
        conn.close()
        status = wait_exit(proc, exit_timeout)
        return FAILED, "opening handshake: %s" % (e or type(e).__name__), 0.0, "exit=%s" % status
    agreement = negotiation.agreement
    session = Session(conn, leftover, harness_is_client=False, deadline=deadline, deflate=agreement)
    if negotiation.unsupported:
        out = session.run(Plan([]))
        verdict, reason = unsupported(out, negotiation.unsupported)
        expect_exit = "zero"
    else:
        out = session.run(plan)
        verdict, reason = judge(plan, out)
        expect_exit = plan.close.exit
    status = wait_exit(proc, exit_timeout)
    note = "exit=%s" % status
    if agreement is not None:
        note = "; ".join(n for n in (note, agreement.short(), out.deflate_note()) if n)
    if status is None:
        verdict = FAILED
        reason = "; ".join(r for r in (reason, "client did not exit within %g s (killed)" % exit_timeout) if r)
    elif status < 0:
        verdict = FAILED
        reason = "; ".join(r for r in (reason, "client died of %s" % _signal_name(-status)) if r)
    elif verdict != FAILED and not _exit_matches(expect_exit, status):
        verdict = worse(verdict, NON_STRICT)
        wanted = "0" if expect_exit == "zero" else "non-zero"
        reason = "; ".join(r for r in (reason, "exit status %d, expected %s" % (status, wanted)) if r)
    return verdict, reason, out.seconds, note


def _endpoint_options(p):
    p.add_argument("--tls-cert", metavar="FILE",
                   help="serve TLS (wss://) with this PEM certificate chain; needs --tls-key")
    p.add_argument("--tls-key", metavar="FILE", help="the PEM private key for --tls-cert")
    p.add_argument("--url-host", default="127.0.0.1", metavar="HOST",
                   help="host part of {url}, e.g. localhost to match a certificate's DNS name "
                        "(the harness listens on 127.0.0.1 only); default %(default)s")


def main(argv):
    args, template = parse_options(argv, "run_client_cases.py", __doc__.splitlines()[0],
                                   "CLIENT_COMMAND... (one argument containing {url})",
                                   os.path.join(tempfile.gettempdir(), "duplex-conformance-client.log"),
                                   _endpoint_options)
    if not any("{url}" in arg for arg in template):
        print("run_client_cases.py: no argument of CLIENT_COMMAND contains {url}", file=sys.stderr)
        return 2
    if bool(args.tls_cert) != bool(args.tls_key):
        print("run_client_cases.py: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    endpoint = argparse.Namespace(scheme="ws", host=args.url_host, tls=None)
    if args.tls_cert:
        try:
            endpoint.tls = server_context(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as e:
            print("run_client_cases.py: cannot load --tls-cert/--tls-key: %s" % e, file=sys.stderr)
            return 2
        endpoint.scheme = "wss"
    if ":" in endpoint.host and not endpoint.host.startswith("["):
        endpoint.host = "[%s]" % endpoint.host
    reporter = Reporter("conformance.client", args.allow_non_strict, args.junit,
                        fail_unsupported=args.fail_unsupported)
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
                    case, listener, template, case_timeout(case, args.timeout), args.timeout, log,
                    endpoint)
                reporter.case(case, verdict, reason, seconds, note)
        finally:
            listener.close()
    return reporter.finish(time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
