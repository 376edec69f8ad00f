#!/usr/bin/env python3
"""Conformance cases against a WebSocket echo SERVER; the harness is the client.

Usage: run_server_cases.py [options] -- SERVER_COMMAND...

Starts SERVER_COMMAND, waits for it to print "listening on ws://HOST:PORT"
(or wss:// with --tls-ca), then runs every selected case on its own connection
to 127.0.0.1:PORT, path /.  At the end the server gets SIGTERM and must exit
with status 0 within 10 s.

Cases that negotiate permessage-deflate (12-14) send the case's offer and
judge the server's answer against RFC 7692 before anything else.
"""

import argparse
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pmd  # noqa: E402
from cli import case_timeout, over_budget, parse_options  # noqa: E402
from judge import FAILED, judge, unsupported  # noqa: E402
from plan import Plan  # noqa: E402
from report import Reporter  # noqa: E402
from session import Session  # noqa: E402
from tls import TlsError, TlsSocket, client_context  # noqa: E402
from wsproto_raw import HandshakeError, client_handshake  # noqa: E402

LISTENING = re.compile(r"listening on (wss?)://([^\s:]+|\[[^\]]+\]):(\d+)")
STARTUP_SECONDS = 15
SHUTDOWN_SECONDS = 10


class ServerUnderTest:
    """The server process; its stdout is scanned for the port, and all of its
    output is kept flowing into the log so it can never block on a full pipe."""

    def __init__(self, command, log_path):
        open(log_path, "wb").close()  # fresh log per run; appends keep both writers intact
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.log, start_new_session=True)
        self.port = None
        self.scheme = None
        self._found = threading.Event()
        self._drain = threading.Thread(target=self._drain_stdout, daemon=True)
        self._drain.start()

    def _drain_stdout(self):
        for line in iter(self.proc.stdout.readline, b""):
            try:
                self.log.write(line)
                self.log.flush()
            except ValueError:  # log already closed at shutdown
                return
            if self.port is None:
                m = LISTENING.search(line.decode("utf-8", "replace"))
                if m:
                    self.scheme = m.group(1)
                    self.port = int(m.group(3))
                    self._found.set()
        self._found.set()

    def wait_listening(self):
        self._found.wait(STARTUP_SECONDS)
        return self.port

    def exit_status(self):
        return self.proc.poll()

    def stop(self):
        """SIGTERM, then up to 10 s to exit; returns the exit status, or None if it had to be killed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(SHUTDOWN_SECONDS)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            status = None
        self._drain.join(2)
        self.log.close()
        return status


def run_case(case, port, timeout, tls):
    """Returns (verdict, reason, seconds, note)."""
    plan = case.build()
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError as e:
        return FAILED, "cannot connect: %s" % e, 0.0, ""
    sock.settimeout(None)  # session I/O uses poll() with its own deadlines
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    host = "127.0.0.1"
    if tls is not None:
        try:
            sock = TlsSocket.connect(sock, tls.context, tls.server_name, deadline)
        except (TlsError, TimeoutError, OSError) as e:
            sock.close()
            return FAILED, "TLS handshake: %s" % (e or type(e).__name__), 0.0, ""
        host = tls.server_name
    wanted = plan.deflate
    offer = pmd.offer_header(wanted.offers) if wanted is not None and wanted.negotiate else None
    try:
        leftover, selected = client_handshake(sock, "%s:%d" % (host, port), "/", deadline, offer)
    except (HandshakeError, TimeoutError, OSError) as e:
        sock.close()
        return FAILED, "opening handshake: %s" % (e or type(e).__name__), 0.0, ""
    agreement = None
    if offer is not None:
        try:
            agreement = pmd.check_response(selected, wanted.offers)
        except pmd.Violation as e:
            # RFC 7692 5: the client must fail the connection; we just drop it.
            sock.close()
            return FAILED, "offer %r answered with %r, which breaks RFC 7692: %s" % (
                offer, selected, e), 0.0, ""
    session = Session(sock, leftover, harness_is_client=True, deadline=deadline, deflate=agreement)
    if offer is not None and agreement is None:
        out = session.run(Plan([]))
        verdict, reason = unsupported(out, "server declined the offer %r" % offer)
        return verdict, reason, out.seconds, ""
    out = session.run(plan)
    verdict, reason = judge(plan, out)
    note = ""
    if agreement is not None:
        note = "; ".join(n for n in (agreement.short(), out.deflate_note()) if n)
    return verdict, reason, out.seconds, note


def _tls_options(p):
    p.add_argument("--tls-ca", metavar="FILE",
                   help="connect with TLS (wss://), trusting only the CA certificates in FILE")
    p.add_argument("--tls-server-name", metavar="NAME", default="127.0.0.1",
                   help="name the server's certificate must match (also sent as SNI and in "
                        "Host when it is a DNS name); default %(default)s")


def main(argv):
    args, command = parse_options(argv, "run_server_cases.py", __doc__.splitlines()[0],
                                  "SERVER_COMMAND...",
                                  os.path.join(tempfile.gettempdir(), "duplex-conformance-server.log"),
                                  _tls_options)
    reporter = Reporter("conformance.server", args.allow_non_strict, args.junit,
                        fail_unsupported=args.fail_unsupported)
    tls = None
    if args.tls_ca:
        try:
            tls = argparse.Namespace(context=client_context(args.tls_ca),
                                     server_name=args.tls_server_name)
        except (OSError, ssl.SSLError) as e:
            reporter.problem("cannot load --tls-ca %s: %s" % (args.tls_ca, e))
            reporter.finish(0.0)
            return 2
    want_scheme = "wss" if tls else "ws"
    started = time.monotonic()
    try:
        server = ServerUnderTest(command, args.log)
    except OSError as e:
        reporter.problem("cannot start %s: %s" % (command[0], e))
        reporter.finish(0.0)
        return 2
    try:
        port = server.wait_listening()
        if port is None:
            reporter.problem("server printed no 'listening on %s://HOST:PORT' line within %d s "
                             "(see %s)" % (want_scheme, STARTUP_SECONDS, args.log))
        elif server.scheme != want_scheme:
            reporter.problem("server is listening on %s://, expected %s:// (%s)" % (
                server.scheme, want_scheme,
                "--tls-ca was given" if tls else "give --tls-ca for a TLS server"))
        else:
            for i, case in enumerate(args.selected):
                if over_budget(reporter, args, started, i):
                    break
                status = server.exit_status()
                if status is not None:
                    reporter.problem("server exited with status %s before case %s; %d cases not run"
                                     % (status, case.id, len(args.selected) - i))
                    break
                verdict, reason, seconds, note = run_case(case, port, case_timeout(case, args.timeout),
                                                          tls)
                reporter.case(case, verdict, reason, seconds, note)
    finally:
        status = server.stop()
    if status is None:
        reporter.problem("server did not exit within %d s of SIGTERM (killed)" % SHUTDOWN_SECONDS)
    elif status != 0:
        reporter.problem("server exited with status %d after SIGTERM, expected 0" % status)
    return reporter.finish(time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
