"""A server program under test as a child process: started, awaited until it
prints "listening on ws://127.0.0.1:PORT" (or wss://), and stopped by its
PID with SIGTERM. Its stderr (and any stdout after that line) goes to a log
file."""

import os
import re
import select
import signal
import subprocess
import threading
import time

LISTENING = re.compile(rb"^listening on (wss?://127\.0\.0\.1:\d+)\r?$")
START_LIMIT = 15.0
STOP_LIMIT = 10.0


class ServerError(Exception):
    pass


def log_tail(path, lines=8):
    try:
        with open(path, "rb") as f:
            text = f.read().decode(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


class ServerProcess:
    """with ServerProcess(name, argv, log_path) as server: ... server.url ...
    server.stop() returns the exit code; leaving the block kills a server
    that is still running (after a failure, say)."""

    def __init__(self, name, argv, log_path):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.url = None
        self._process = None
        self._log = None
        self._copier = None

    def __enter__(self):
        self._log = open(self.log_path, "wb")
        try:
            self._process = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log
            )
        except OSError as e:
            self._log.close()
            raise ServerError(f"cannot start {self.name} ({self.argv[0]}): {e}") from e
        try:
            self.url = self._await_listening()
        except BaseException:
            self._ensure_gone()
            raise
        # Whatever it prints later goes to the log, so a full pipe never blocks it.
        self._copier = threading.Thread(target=self._copy_stdout_to_log, daemon=True)
        self._copier.start()
        return self

    def __exit__(self, *exc):
        self._ensure_gone()
        return False

    def _await_listening(self):
        deadline = time.monotonic() + START_LIMIT
        pending = b""
        fd = self._process.stdout.fileno()
        while (remaining := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([fd], [], [], min(remaining, 0.5))
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break  # stdout closed: the process is ending
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    if match := LISTENING.match(line):
                        return match.group(1).decode()
                    self._log.write(line + b"\n")
            elif self._process.poll() is not None:
                break
        self._log.write(pending)
        self._log.flush()
        if time.monotonic() >= deadline:
            state = f"printed no listening line in {START_LIMIT:.0f} s"
        else:
            try:
                state = f"exited with {self._process.wait(timeout=STOP_LIMIT)}"
            except subprocess.TimeoutExpired:
                state = "closed its stdout without a listening line"
        raise ServerError(f"{self.name} {state}; log: {log_tail(self.log_path)}")

    def _copy_stdout_to_log(self):
        try:
            for line in self._process.stdout:
                self._log.write(line)
                self._log.flush()
        except ValueError:
            pass  # the log was closed: the server is gone and we are done

    def terminate(self):
        """Sends SIGTERM to the server (our own child, by its PID)."""
        self._process.send_signal(signal.SIGTERM)

    def wait(self):
        """The exit code (ServerError if it does not exit in time)."""
        try:
            return self._process.wait(timeout=STOP_LIMIT)
        except subprocess.TimeoutExpired:
            raise ServerError(f"{self.name} still running {STOP_LIMIT:.0f} s after SIGTERM")

    def stop(self):
        """SIGTERM, then the exit code."""
        self.terminate()
        return self.wait()

    def _ensure_gone(self):
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=STOP_LIMIT)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=STOP_LIMIT)
        if self._copier:
            self._copier.join(timeout=STOP_LIMIT)
        self._log.close()
