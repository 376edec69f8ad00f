#!/usr/bin/env python3
"""Conformance cases against a WebSocket echo SERVER; the harness is the client.

Usage: run_server_cases.py [options] -- SERVER_COMMAND...

Starts SERVER_COMMAND, waits for it to print "listening on ws://HOST:PORT",
then runs every selected case on its own connection to 127.0.0.1:PORT, path /.
At the end the server gets SIGTERM and must exit with status 0 within 10 s.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cli import case_timeout, over_budget, parse_options  # noqa: E402
from judge import FAILED, judge  # noqa: E402
from report import Reporter  # noqa: E402
from session import Session  # noqa: E402
from wsproto_raw import HandshakeError, client_handshake  # noqa: E402

LISTENING = re.compile(r"listening on ws://([^\s:]+|\[[^\]]+\]):(\d+)")
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
                    self.port = int(m.group(2))
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


def run_case(case, port, timeout):
    plan = case.build()
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError as e:
        return FAILED, "cannot connect: %s" % e, 0.0
    sock.settimeout(None)  # session I/O uses poll() with its own deadlines
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        leftover = client_handshake(sock, "127.0.0.1:%d" % port, "/", deadline)
    except (HandshakeError, TimeoutError, OSError) as e:
        sock.close()
        return FAILED, "opening handshake: %s" % (e or type(e).__name__), 0.0
    out = Session(sock, leftover, harness_is_client=True, deadline=deadline).run(plan)
    verdict, reason = judge(plan, out)
    return verdict, reason, out.seconds


def main(argv):
    args, command = parse_options(argv, "run_server_cases.py", __doc__.splitlines()[0],
                                  "SERVER_COMMAND...",
                                  os.path.join(tempfile.gettempdir(), "duplex-conformance-server.log"))
    reporter = Reporter("conformance.server", args.allow_non_strict, args.junit)
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
            reporter.problem("server printed no 'listening on ws://HOST:PORT' line within %d s "
                             "(see %s)" % (STARTUP_SECONDS, args.log))
        else:
            for i, case in enumerate(args.selected):
                if over_budget(reporter, args, started, i):
                    break
                status = server.exit_status()
                if status is not None:
                    reporter.problem("server exited with status %s before case %s; %d cases not run"
                                     % (status, case.id, len(args.selected) - i))
                    break
                verdict, reason, seconds = run_case(case, port, case_timeout(case, args.timeout))
                reporter.case(case, verdict, reason, seconds)
    finally:
        status = server.stop()
    if status is None:
        reporter.problem("server did not exit within %d s of SIGTERM (killed)" % SHUTDOWN_SECONDS)
    elif status != 0:
        reporter.problem("server exited with status %d after SIGTERM, expected 0" % status)
    return reporter.finish(time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
