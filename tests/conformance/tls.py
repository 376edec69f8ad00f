"""TLS for the conformance harness (wss://), on top of the same raw sockets.

TlsSocket looks like the plain sockets the rest of the harness uses (fileno,
send, recv, recv_into with MSG_DONTWAIT, shutdown, close), so the frame and
handshake code runs unchanged over TLS.  It drives an ssl.SSLObject through
memory BIOs instead of wrapping the socket, for two reasons:

- the session reads on one thread and writes on another; every use of the
  SSL object happens under one lock, and no lock is ever held while waiting;
- poll() on the TCP socket does not know about bytes OpenSSL has already
  decrypted, so wsproto_raw asks `buffered_input()` before it polls.

Every call is non-blocking: a call that cannot make progress raises
BlockingIOError, and the caller polls the TCP socket (wsproto_raw._wait) with
its own deadline, exactly as for a plain socket.
"""

import select
import socket
import ssl
import threading
import time

_PLAINTEXT_CHUNK = 256 * 1024   # plaintext encrypted per send() call
_RAW_CHUNK = 256 * 1024         # ciphertext read from TCP at a time


class TlsError(Exception):
    """The TLS handshake failed or did not finish in time."""


def client_context(cafile):
    """TLS 1.2+ client context that trusts only the CAs in `cafile` and checks the name."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(cafile=cafile)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def server_context(certfile, keyfile):
    """TLS 1.2+ server context with the given PEM certificate chain and key."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(certfile, keyfile)
    return ctx


class TlsSocket:
    def __init__(self, raw, ctx, *, server_side, server_hostname=None):
        self._raw = raw
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._obj = ctx.wrap_bio(self._in, self._out, server_side=server_side,
                                 server_hostname=server_hostname)
        self._lock = threading.Lock()
        self._pending_out = bytearray()  # ciphertext not yet accepted by TCP
        self._maybe_more = False         # incoming BIO may hold records not yet decrypted
        self._eof = False

    # ------------------------------------------------------------ set-up

    @classmethod
    def connect(cls, raw, ctx, server_hostname, deadline):
        s = cls(raw, ctx, server_side=False, server_hostname=server_hostname)
        s._handshake(deadline)
        return s

    @classmethod
    def accept(cls, raw, ctx, deadline):
        s = cls(raw, ctx, server_side=True)
        s._handshake(deadline)
        return s

    def _handshake(self, deadline):
        while True:
            try:
                with self._lock:
                    self._obj.do_handshake()
                    self._collect_out()
                break
            except ssl.SSLWantReadError:
                with self._lock:
                    self._collect_out()
                self._flush_blocking(deadline)
                if not self._feed_blocking(deadline):
                    raise TlsError("connection closed during the TLS handshake")
            except ssl.SSLError as e:
                # Let the peer see our alert, if any, before we give up.
                try:
                    with self._lock:
                        self._collect_out()
                    self._flush_blocking(min(deadline, time.monotonic() + 1))
                except (OSError, TimeoutError):
                    pass
                detail = getattr(e, "verify_message", "")
                raise TlsError("%s%s" % (e.reason or e, ": " + detail if detail else "")) from None
        # Records that came in with the end of the handshake (a client's
        # request right behind its Finished) are already in the incoming BIO.
        with self._lock:
            self._maybe_more = True
        self._flush_blocking(deadline)

    def version(self):
        return self._obj.version()

    # ------------------------------------------------------------ plumbing

    def _collect_out(self):
        data = self._out.read()
        if data:
            self._pending_out += data

    def _try_flush(self):
        """Write queued ciphertext without blocking; True once none is left."""
        while self._pending_out:
            try:
                n = self._raw.send(self._pending_out[:_RAW_CHUNK], socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return False
            del self._pending_out[:n]
        return True

    def _poll_raw(self, events, deadline):
        poller = select.poll()
        poller.register(self._raw.fileno(), events)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("deadline passed")
            if poller.poll(int(min(remaining, 0.1) * 1000) + 1):
                return

    def _flush_blocking(self, deadline):
        while True:
            with self._lock:
                if self._try_flush():
                    return
            self._poll_raw(select.POLLOUT, deadline)

    def _feed_blocking(self, deadline):
        """Reads some ciphertext into the incoming BIO; False at end of stream."""
        while True:
            self._poll_raw(select.POLLIN, deadline)
            try:
                data = self._raw.recv(_RAW_CHUNK, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                continue
            if not data:
                return False
            with self._lock:
                self._in.write(data)
            return True

    # ------------------------------------------------------------ socket-like API

    def fileno(self):
        return self._raw.fileno()

    def setsockopt(self, *args):
        return self._raw.setsockopt(*args)

    def getsockname(self):
        return self._raw.getsockname()

    def buffered_input(self):
        """True if a read can make progress without new bytes from TCP."""
        with self._lock:
            return self._eof or self._obj.pending() > 0 or self._maybe_more

    def has_pending_output(self):
        with self._lock:
            return bool(self._pending_out)

    def flush_some(self):
        """One non-blocking attempt to hand queued ciphertext to TCP."""
        with self._lock:
            self._try_flush()

    def send(self, data, flags=0):
        with self._lock:
            if not self._try_flush():
                raise BlockingIOError("TLS output still queued")
            view = memoryview(data)[:_PLAINTEXT_CHUNK]
            try:
                n = self._obj.write(view)
            except ssl.SSLError as e:
                raise ConnectionResetError("TLS write failed: %s" % (e.reason or e)) from None
            self._collect_out()
            self._try_flush()
            return n

    def recv_into(self, buffer, nbytes=0, flags=0):
        view = memoryview(buffer)
        if nbytes:
            view = view[:nbytes]
        with self._lock:
            while True:
                if self._eof:
                    return 0
                try:
                    n = self._obj.read(len(view), view)
                    self._maybe_more = True
                    self._collect_out()
                    self._try_flush()
                    if n == 0:  # only at the end of the TLS stream
                        self._eof = True
                    return n
                except ssl.SSLWantReadError:
                    self._maybe_more = False
                    self._collect_out()
                    self._try_flush()
                except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                    # close_notify, or TCP ended without one: both end the stream.
                    self._eof = True
                    return 0
                except ssl.SSLError as e:
                    raise ConnectionResetError("TLS error: %s" % (e.reason or e)) from None
                try:
                    data = self._raw.recv(_RAW_CHUNK, socket.MSG_DONTWAIT)
                except (BlockingIOError, InterruptedError):
                    raise BlockingIOError("no TLS record yet") from None
                if data:
                    self._in.write(data)
                else:
                    self._in.write_eof()

    def recv(self, n, flags=0):
        buf = bytearray(n)
        k = self.recv_into(buf, n)
        return bytes(buf[:k])

    def shutdown(self, how):
        """Sends close_notify (best effort), then shuts the TCP socket down."""
        with self._lock:
            try:
                self._obj.unwrap()
            except (ssl.SSLWantReadError, ssl.SSLError, ValueError):
                pass
            self._collect_out()
        try:
            self._flush_blocking(time.monotonic() + 1.0)
        except (OSError, TimeoutError):
            pass
        self._raw.shutdown(how)

    def close(self):
        self._raw.close()
