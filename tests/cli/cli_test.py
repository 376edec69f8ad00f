#!/usr/bin/env python3
"""The duplex command line as a user meets it: one-line errors and exit codes,
logging, signals, and a server that runs out of file descriptors.

Usage: cli_test.py DUPLEX_BINARY [TEST_NAME ...]
"""
import asyncio
import hashlib
import os
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

import websockets

DUPLEX = None
TIMEOUT = 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args, stdin=None, timeout=TIMEOUT):
    return subprocess.run([DUPLEX, *args], input=stdin, capture_output=True, text=True, timeout=timeout)


class Server:
    """`duplex serve` on an ephemeral port, stopped by PID at the end."""

    def __init__(self, *args, preexec_fn=None, env=None):
        self.proc = subprocess.Popen([DUPLEX, "serve", "--echo", "--host", "127.0.0.1", "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=preexec_fn, env=env)
        line = self.proc.stdout.readline()
        if not line.startswith(("listening on ws://", "listening on wss://")):
            self.proc.kill()
            raise AssertionError(f"no listening line, got {line!r}: {self.proc.stderr.read()}")
        self.port = int(line.rsplit(":", 1)[1])
        self.url = f"ws://127.0.0.1:{self.port}/"
        io = self.proc.stdout.readline().strip()
        self.io = io.removeprefix("io: ") if io.startswith("io: ") else None

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        return self.proc.returncode, err

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()



class BadArguments(unittest.TestCase):
    def assert_one_line_failure(self, result, *needles):
        self.assertNotEqual(result.returncode, 0)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, f"expected one line, got: {result.stderr!r}")
        for n in needles:
            self.assertIn(n, lines[0])

    def test_out_of_range_port(self):
        self.assert_one_line_failure(run("serve", "--port", "70000"), "--port")

    def test_unknown_option(self):
        self.assert_one_line_failure(run("serve", "--bogus"), "--bogus")

    def test_missing_static_directory(self):
        self.assert_one_line_failure(run("serve", "--static", "/nonexistent/dir"), "--static")

    def test_negative_timeout(self):
        self.assert_one_line_failure(run("serve", "--idle-timeout", "-1"), "--idle-timeout")

    def test_echo_and_broadcast_exclude_each_other(self):
        self.assert_one_line_failure(run("serve", "--echo", "--broadcast"), "--broadcast")

    def test_no_subcommand(self):
        self.assertNotEqual(run().returncode, 0)

    def test_url_with_other_scheme(self):
        r = run("connect", "http://example.com/")
        self.assert_one_line_failure(r, "unsupported URL scheme")
        self.assertEqual(r.returncode, 2)

    def test_url_with_fragment(self):
        self.assert_one_line_failure(run("connect", "ws://example.com/#x"), "fragment")

    def test_bad_header_argument(self):
        self.assert_one_line_failure(run("connect", "ws://127.0.0.1:9/", "-H", "no-colon"), "NAME:VALUE")

    def test_unknown_io_backend(self):
        self.assert_one_line_failure(run("serve", "--io", "kqueue"), "--io")

    def test_help_on_every_subcommand(self):
        for sub in ("serve", "connect", "bench", "tour"):
            r = run(sub, "--help")
            self.assertEqual(r.returncode, 0, sub)
            self.assertIn("Usage", r.stdout, sub)


def make_certificate(directory, name, key_type="rsa:2048"):
    """A self-signed certificate for 127.0.0.1 made by `openssl`; returns (cert, key)."""
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", key_type, "-nodes", "-days", "1",
                    "-subj", "/CN=" + name, "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=TIMEOUT)
    return cert, key


def tls_handshake(port, ciphers=None, version=None):
    """Connects with TLS (no verification); returns (subject CN of the server's
    certificate, negotiated cipher) or raises ssl.SSLError."""
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw:
        with ctx.wrap_socket(raw) as tls:
            der = tls.getpeercert(binary_form=True)
            pem = ssl.DER_cert_to_PEM_cert(der)
            out = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=pem,
                                 capture_output=True, text=True, check=True).stdout
            return out.strip().rsplit("=", 1)[1].strip(), tls.cipher()[0]


class Limits(unittest.TestCase):
    """The limits table of the README, through the command line."""

    def test_tls_policy_refuses_weak_suites_and_old_versions(self):
        import ssl
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            cert, key = make_certificate(d, "policy")
            with Server("--tls-cert", cert, "--tls-key", key) as server:
                _, cipher = tls_handshake(server.port, "ECDHE-RSA-AES128-GCM-SHA256",
                                          ssl.TLSVersion.TLSv1_2)
                self.assertEqual(cipher, "ECDHE-RSA-AES128-GCM-SHA256")
                # RSA key exchange (no forward secrecy) and CBC with SHA-1.
                for weak in ("AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA", "AES128-SHA"):
                    with self.subTest(cipher=weak), self.assertRaises(ssl.SSLError):
                        tls_handshake(server.port, weak, ssl.TLSVersion.TLSv1_2)
                _, cipher = tls_handshake(server.port, version=ssl.TLSVersion.TLSv1_3)
                self.assertTrue(cipher.startswith("TLS_"), cipher)
            with Server("--tls-cert", cert, "--tls-key", key, "--tls-min-version", "1.3") as server:
                with self.assertRaises(ssl.SSLError):
                    tls_handshake(server.port, version=ssl.TLSVersion.TLSv1_2)
                tls_handshake(server.port, version=ssl.TLSVersion.TLSv1_3)
            r = run("serve", "--tls-cert", cert, "--tls-key", key, "--port", "0",
                    "--tls-ciphers", "NO-SUCH-SUITE")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("no usable cipher", r.stderr)

    def test_sighup_reads_a_renewed_certificate_and_keeps_the_old_one_if_broken(self):
        import shutil
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            old_cert, old_key = make_certificate(d, "first")
            new_cert, new_key = make_certificate(d, "renewed")
            cert, key = os.path.join(d, "live.pem"), os.path.join(d, "live.key")
            shutil.copy(old_cert, cert)
            shutil.copy(old_key, key)
            with Server("--tls-cert", cert, "--tls-key", key) as server:
                self.assertEqual(tls_handshake(server.port)[0], "first")
                shutil.copy(new_cert, cert)
                shutil.copy(new_key, key)
                server.proc.send_signal(signal.SIGHUP)
                self.assertIn("TLS certificate and key read again", server.proc.stderr.readline())
                self.assertEqual(tls_handshake(server.port)[0], "renewed")
                with open(cert, "w") as f:
                    f.write("not a certificate\n")
                server.proc.send_signal(signal.SIGHUP)
                self.assertIn("keeping the TLS certificate in use", server.proc.stderr.readline())
                self.assertEqual(tls_handshake(server.port)[0], "renewed")
                code, _ = server.stop()
                self.assertEqual(code, 0)

    def test_connection_limits_answer_503(self):
        with Server("--max-connections-per-address", "1") as server:
            holder = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
            try:
                holder.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                               b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
                self.assertIn(b" 101 ", holder.recv(4096))
                with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as c:
                    c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                    answer = c.recv(4096).decode()
                    self.assertTrue(answer.startswith("HTTP/1.1 503 "), answer)
                    self.assertIn("too many connections from your address", answer)
            finally:
                holder.close()

    def test_bad_limit_values_are_one_line_errors(self):
        for args in (["--max-pending-handshakes", "0"], ["--tls-min-version", "1.1"],
                     ["--handshake-timeout", "0"], ["--max-backpressure", "10"]):
            with self.subTest(args=args):
                r = run("serve", *args)
                self.assertNotEqual(r.returncode, 0)
                lines = r.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, r.stderr)
                self.assertIn(args[0], lines[0])


def io_uring_usable():
    """Whether `--io auto` picks io_uring on this machine."""
    env = dict(os.environ)
    env.pop("DUPLEX_IO", None)
    with Server(env=env) as server:
        return server.io == "io_uring"


class IoBackends(unittest.TestCase):
    def echo_through(self, server):
        r = run("connect", server.url, stdin="over " + server.io + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "over " + server.io + "\n")

    def test_each_backend_by_name_says_so_and_echoes(self):
        backends = ["epoll"] + (["io_uring"] if io_uring_usable() else [])
        for io in backends:
            with self.subTest(io=io), Server("--io", io) as server:
                self.assertEqual(server.io, io)
                self.echo_through(server)
                code, err = server.stop()
                self.assertEqual((code, err), (0, ""))

    def test_environment_chooses_for_auto_and_a_bad_value_is_reported(self):
        env = dict(os.environ, DUPLEX_IO="epoll")
        with Server(env=env) as server:
            self.assertEqual(server.io, "epoll")
        env["DUPLEX_IO"] = "kqueue"
        with Server(env=env) as server:
            self.assertIn(server.io, ("epoll", "io_uring"))
            self.echo_through(server)
            _, err = server.stop()
            self.assertIn("DUPLEX_IO=kqueue is not", err)
            self.assertEqual(len(err.strip().splitlines()), 1, err)


class ConnectFailures(unittest.TestCase):
    def test_refused(self):
        r = run("connect", f"ws://127.0.0.1:{free_port()}/", stdin="")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("Connection refused", r.stderr)

    def test_unresolvable_host(self):
        r = run("connect", "ws://no-such-host.invalid/", "--connect-timeout", "8", stdin="")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("cannot connect to ws://no-such-host.invalid/", r.stderr)

    def test_connect_timeout_bounds_a_silent_server_too(self):
        # A server that accepts and never answers the upgrade: the timeout
        # asked for (1 s) ends the attempt, not the 10 s of the handshake.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            r = run("connect", f"ws://127.0.0.1:{port}/", "--connect-timeout", "1", stdin="",
                    timeout=7)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("timed out", r.stderr)

    def test_port_in_use(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            r = run("serve", "--host", "127.0.0.1", "--port", str(s.getsockname()[1]))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("Address already in use", r.stderr)


class ServeAndConnect(unittest.TestCase):
    def test_lines_out_messages_in_and_eof_closes(self):
        with Server() as server:
            r = run("connect", server.url, stdin="hello\nwörld\r\n\nlast without newline")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, "hello\nwörld\n\nlast without newline\n")
            self.assertEqual(r.stderr, "")
            code, _ = server.stop()
            self.assertEqual(code, 0)

    def test_binary_mode(self):
        with Server() as server:
            r = run("connect", "--binary", server.url, stdin="raw bytes")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, "raw bytes\n")

    def test_verbose_logs_connection_events_not_messages(self):
        with Server("--verbose") as server:
            r = run("connect", server.url, stdin="".join(f"m{i}\n" for i in range(50)))
            self.assertEqual(r.returncode, 0)
            code, err = server.stop()
            self.assertEqual(code, 0)
            lines = err.strip().splitlines()
            self.assertTrue(any("WebSocket open" in l for l in lines), err)
            self.assertTrue(any("WebSocket closed" in l and " 1000" in l for l in lines), err)
            self.assertLess(len(lines), 10, "one line per connection event, none per message")

    def test_quiet_by_default(self):
        with Server() as server:
            run("connect", server.url, stdin="x\n")
            code, err = server.stop()
            self.assertEqual(code, 0)
            self.assertEqual(err, "")

    def test_a_log_reader_that_goes_away_does_not_kill_the_server(self):
        # `duplex serve -v 2>&1 | head -1`: once the reader has gone, the
        # next log line used to end the server with SIGPIPE (exit 141).
        with Server("--verbose") as server:
            server.proc.stderr.close()  # the reader goes away
            for _ in range(3):  # each connection logs lines to the closed pipe
                r = run("connect", server.url, stdin="x\n")
                self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIsNone(server.proc.poll(), "the server died writing its log")
            server.proc.send_signal(signal.SIGTERM)
            self.assertEqual(server.proc.wait(timeout=TIMEOUT), 0)

    def test_origin_refuses_other_origins_and_requests_without_one(self):
        with Server("--origin", "https://a.example") as server:
            good = run("connect", server.url, "--origin", "https://a.example", stdin="x\n")
            self.assertEqual(good.returncode, 0, good.stderr)
            for extra in (["--origin", "https://b.example"], []):
                r = run("connect", server.url, *extra, stdin="x\n")
                self.assertEqual(r.returncode, 1, f"{extra}: {r.stderr}")
                self.assertIn("403", r.stderr)
        with Server("--origin", "https://a.example", "--allow-missing-origin") as server:
            r = run("connect", server.url, stdin="x\n")
            self.assertEqual(r.returncode, 0, r.stderr)

    def test_sigquit_is_graceful_and_sigusr1_is_ignored(self):
        async def scenario(server):
            async with websockets.connect(server.url) as ws:
                server.proc.send_signal(signal.SIGUSR1)
                server.proc.send_signal(signal.SIGUSR2)
                await ws.send("still here")
                self.assertEqual(await asyncio.wait_for(ws.recv(), TIMEOUT), "still here")
                server.proc.send_signal(signal.SIGQUIT)
                with self.assertRaises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), TIMEOUT)
                self.assertEqual(closed.exception.code, 1001)

        with Server() as server:
            asyncio.run(scenario(server))
            self.assertEqual(server.proc.wait(timeout=TIMEOUT), 0)

    def test_demo_mode_survives_sighup_and_stops_gracefully_on_sigquit(self):
        # The demo's producer threads must not take the signals the server
        # reads (one that did would end the process with its default).
        proc = subprocess.Popen([DUPLEX, "serve", "--host", "127.0.0.1", "--port", "0"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertTrue(proc.stdout.readline().startswith("listening on ws://"))
            for _ in range(3):  # demo, push and io lines: the producers run by now
                proc.stdout.readline()
            time.sleep(0.5)
            proc.send_signal(signal.SIGHUP)
            time.sleep(0.5)
            self.assertIsNone(proc.poll(), "SIGHUP ended the demo server")
            proc.send_signal(signal.SIGQUIT)
            self.assertEqual(proc.wait(timeout=TIMEOUT), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()

    def test_sigint_closes_clients_with_1001_and_exits_0(self):
        async def scenario(server):
            async with websockets.connect(server.url) as ws:
                await ws.send("before")
                self.assertEqual(await ws.recv(), "before")
                server.proc.send_signal(signal.SIGINT)
                with self.assertRaises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), TIMEOUT)
                self.assertEqual(closed.exception.code, 1001)
                self.assertEqual(closed.exception.reason, "server shutting down")

        with Server() as server:
            asyncio.run(scenario(server))
            self.assertEqual(server.proc.wait(timeout=TIMEOUT), 0)


def resident_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def read_http_head(sock):
    """Reads until the end of the head; returns (head, body bytes that came with it)."""
    got = b""
    for _ in range(1000):
        if b"\r\n\r\n" in got:
            break
        chunk = sock.recv(4096)
        if not chunk:
            break
        got += chunk
    head, _, rest = got.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


class StaticFiles(unittest.TestCase):
    """`serve --static`: files streamed from disk, over TCP and TLS."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="duplex-cli-static-")
        self.addCleanup(shutil.rmtree, self.dir)

    def backends(self):
        return ["epoll"] + (["io_uring"] if io_uring_usable() else [])

    def test_clients_that_do_not_read_keep_the_server_small(self):
        size = 64 * 1024 * 1024
        with open(os.path.join(self.dir, "large.bin"), "wb") as f:
            f.truncate(size)  # sparse
        for io in self.backends():
            with self.subTest(io=io), Server("--io", io, "--threads", "1", "--static", self.dir) as server:
                before = resident_bytes(server.proc.pid)
                socks = []
                try:
                    for _ in range(10):
                        s = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
                        socks.append(s)
                        s.sendall(b"GET /large.bin HTTP/1.1\r\nHost: h\r\n\r\n")
                        head, _ = read_http_head(s)
                        self.assertIn(f"Content-Length: {size}", head)
                        # ... and this client reads nothing more.
                    grown = resident_bytes(server.proc.pid) - before
                    # 640 MiB if each answer were held whole.
                    self.assertLess(grown, 48 * 1024 * 1024, f"the server grew by {grown} bytes")
                finally:
                    for s in socks:
                        s.close()

    @unittest.skipIf(shutil.which("openssl") is None, "needs the openssl command")
    def test_a_large_file_and_a_range_over_tls_on_each_backend(self):
        cert, key = os.path.join(self.dir, "cert.pem"), os.path.join(self.dir, "key.pem")
        made = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                               "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=localhost",
                               "-days", "1", "-keyout", key, "-out", cert],
                              capture_output=True, timeout=TIMEOUT)
        self.assertEqual(made.returncode, 0, made.stderr)
        site = os.path.join(self.dir, "site")
        os.mkdir(site)
        content = os.urandom(6 * 1024 * 1024 + 123)
        with open(os.path.join(site, "file.bin"), "wb") as f:
            f.write(content)
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE

        def fetch(port, extra=b""):
            with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw, \
                    context.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"GET /file.bin HTTP/1.1\r\nHost: h\r\n" + extra + b"\r\n")
                head, body = read_http_head(s)
                chunks = [body]
                for _ in range(100_000):  # small reads, to the end
                    chunk = s.recv(16 * 1024)
                    if not chunk:
                        break
                    chunks.append(chunk)
                return head, b"".join(chunks)

        for io in self.backends():
            with self.subTest(io=io), Server("--io", io, "--static", site, "--tls-cert", cert,
                                             "--tls-key", key) as server:
                head, body = fetch(server.port)
                self.assertTrue(head.startswith("HTTP/1.1 200 OK"), head)
                self.assertEqual(len(body), len(content))
                self.assertEqual(hashlib.sha256(body).hexdigest(), hashlib.sha256(content).hexdigest())
                head, body = fetch(server.port, b"Range: bytes=-100000\r\n")
                self.assertTrue(head.startswith("HTTP/1.1 206 Partial Content"), head)
                self.assertIn(f"Content-Range: bytes {len(content) - 100000}-{len(content) - 1}/{len(content)}",
                              head)
                self.assertEqual(body, content[-100000:])


class OutOfFileDescriptors(unittest.TestCase):
    # UBSan checks a pointer's readability through a pipe(), which needs two
    # free descriptors: in a process out of descriptors it reports valid
    # objects as broken. The release build runs this test.
    @unittest.skipIf(os.environ.get("DUPLEX_SANITIZED") == "1",
                     "the sanitizer runtime itself needs free file descriptors")
    def test_emfile_neither_spins_nor_crashes_and_recovers(self):

        limit = 32

        def low_fd_limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

        with Server("--threads", "1", preexec_fn=low_fd_limit) as server:
            # More connections than the server has descriptors for: the
            # kernel completes them, the server's accept() gets EMFILE.
            socks = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(limit * 2)]
            time.sleep(0.5)
            with open(f"/proc/{server.proc.pid}/stat") as f:
                before = sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13])
            wall0 = time.monotonic()
            time.sleep(2.0)
            with open(f"/proc/{server.proc.pid}/stat") as f:
                after = sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13])
            busy = (after - before) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - wall0)
            # A server retrying accept() in a loop would be busy ~100% of
            # the time; pausing between attempts keeps it near idle.
            self.assertLess(busy, 0.5, f"server busy {busy:.0%} of the time while out of descriptors")
            self.assertIsNone(server.proc.poll(), "the server must keep running")
            for s in socks:
                s.close()
            # Descriptors are free again: a new client is served.
            deadline = time.monotonic() + TIMEOUT
            while True:
                r = run("connect", server.url, stdin="after emfile\n")
                if r.returncode == 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            self.assertEqual(r.stdout, "after emfile\n", r.stderr)
            code, err = server.stop()
            self.assertEqual(code, 0)
            self.assertIn("Too many open files", err)
            self.assertLessEqual(err.count("accept failed"), 5, "the warning is rate-limited")


if __name__ == "__main__":
    DUPLEX = sys.argv.pop(1)
    unittest.main(verbosity=1)
