"""A standalone, threaded HTTP(S) server for a fake org, in the foreground or a background thread.

Served by cheroot: a thread pool with HTTP/1.1 keep-alive, so clients' connection pools are
reused (werkzeug's development server closes every connection).
"""
from __future__ import annotations

import ipaddress
import re
import select
import socket
import sys
import threading
import time
from pathlib import Path

from cheroot import server as cheroot_server
from cheroot import wsgi

from .app import create_app
from .org import Org


class _AccessLog:
    """One line per request on stderr: ``METHOD path status ms``."""

    def __init__(self, app, stream=None):
        self.app = app
        self.stream = stream or sys.stderr

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        status_holder = []

        def recording_start_response(status, headers, exc_info=None):
            status_holder.append(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, recording_start_response)
        finally:
            query = environ.get("QUERY_STRING")
            path = environ.get("PATH_INFO", "") + ("?" + query if query else "")
            ms = (time.perf_counter() - started) * 1000
            print(f"{environ.get('REQUEST_METHOD')} {path} {status_holder[0] if status_holder else '-'} "
                  f"{ms:.1f}ms", file=self.stream, flush=True)


_REPEATED_SLASHES = re.compile(rb"^([A-Z]+ )/{2,}")


class _RequestLine:
    """The request's input, with a request target of ``//services/...`` read as ``/services/...``.

    Salesforce accepts repeated slashes at the start of a path, and some clients send them
    (the CLI keeps an instance URL with a trailing slash and appends ``/services/...``);
    cheroot would take ``//services`` for a host name and refuse the request.
    """

    def __init__(self, rfile):
        self._rfile = rfile

    def readline(self, *args):
        return _REPEATED_SLASHES.sub(rb"\1/", self._rfile.readline(*args), count=1)

    def __getattr__(self, name):
        return getattr(self._rfile, name)


class _Balance:
    """``serve --workers``: each worker keeps about its share of the open connections.

    The system hands each new connection to one of the processes listening on the port by a
    hash of its addresses, so 8 connections may fall 6 to 2; a client keeping them open then
    keeps one worker busy and the other half idle. Each worker counts its open connections in
    a slot of the org's board; one holding more than its share (all of them over the workers,
    rounded up) ends a connection after its next answer (``Connection: close``, which every
    HTTP/1.1 client follows with a new connection, landing anew)."""

    def __init__(self, board, index: int, count: int):
        self.board, self.count = board, count
        self.slots = range(board.CONNECTIONS, board.CONNECTIONS + count)
        self.mine = board.CONNECTIONS + index
        self._lock = threading.Lock()   # the slot is written by this process only
        board.put(self.mine, 0)

    def _add(self, n: int) -> None:
        with self._lock:
            self.board.put(self.mine, self.board.get(self.mine) + n)

    def opened(self) -> None:
        self._add(1)

    def closed(self) -> None:
        self._add(-1)

    def leave(self) -> bool:
        """Whether to end a connection after the answer being sent (then it is counted no more)."""
        with self._lock:
            mine = self.board.get(self.mine)
            total = sum(self.board.get(slot) for slot in self.slots)
            if mine * self.count < total + self.count:   # mine <= total / count, rounded up
                return False
            self.board.put(self.mine, mine - 1)
            return True


class _Request(cheroot_server.HTTPRequest):
    def read_request_line(self):
        rfile, self.rfile = self.rfile, _RequestLine(self.rfile)
        try:
            return super().read_request_line()
        finally:
            self.rfile = rfile

    def send_headers(self):
        balance = self.server.balance
        if balance is not None and not self.close_connection and self.conn.counted and balance.leave():
            self.conn.counted = False
            self.close_connection = True
        return super().send_headers()


class _Connection(cheroot_server.HTTPConnection):
    RequestHandlerClass = _Request
    counted = False   # in the server's _Balance

    def __init__(self, server, sock, makefile=cheroot_server.MakeFile):
        super().__init__(server, sock, makefile)
        if server.balance is not None:
            server.balance.opened()
            self.counted = True

    def communicate(self):
        """Answer a request, then, while the client sends the next one within ``LINGER``
        seconds, the next one (at most half the pool's threads wait so at once)."""
        keep = super().communicate()
        lingering = self.server.lingering
        if not keep or not lingering.acquire(blocking=False):
            return keep
        try:
            poller = None
            while keep:
                if not self.rfile.has_data():
                    if poller is None:
                        poller = select.poll()
                        poller.register(self.socket.fileno(), select.POLLIN)
                    if not poller.poll(LINGER * 1000):
                        return True   # to the selector thread, which waits on every idle connection
                keep = super().communicate()
            return False
        finally:
            lingering.release()

    def close(self):
        if self.counted:
            self.counted = False
            self.server.balance.closed()
        super().close()


def _why_not_bound(host: str, port: int) -> str | None:
    """The system's own reason why ``host:port`` cannot be listened on (the server's message
    buries it in a longer text)."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        return f"unknown host ({e.strerror})"
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
            try:
                probe.bind(address)
            except OSError as e:
                return e.strerror
    return None


def _is_loopback(host: str) -> bool:
    try:
        return all(ipaddress.ip_address(a[4][0]).is_loopback
                   for a in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM))
    except (socket.gaierror, ValueError):
        return False


# A client that stops mid-request holds one worker thread until this many seconds pass; with 64
# workers, 50 such connections leave room for everyone else (tests/fake/test_slow_clients.py).
SOCKET_TIMEOUT = 5
# After answering on a kept-alive connection, the thread waits this long for the connection's
# next request before handing it back to the selector thread: a client sending one request after
# another is served by one thread, without two hand-overs between threads a request (which cost
# a quarter of the server's CPU a request, in thread switches, when clients keep it busy).
LINGER = 0.05


class FakeServer:
    """Serve ``org`` on ``host:port`` (port 0 picks a free one). ``reuse_port``: other
    processes may listen on the same port, the system sharing the connections among them;
    ``worker``: (this process's index, how many there are) of ``serve --workers``, which share
    ``org`` (its ``shared`` option) and keep their shares of the connections even (``_Balance``).

    >>> server = FakeServer(Org()).start()   # background thread
    >>> server.url                           # e.g. http://127.0.0.1:53117
    >>> server.stop()
    """

    def __init__(self, org: Org | None = None, host: str = "127.0.0.1", port: int = 0, *,
                 certfile: str | Path | None = None, keyfile: str | Path | None = None,
                 quiet: bool = True, threads: int = 64, pages_open: bool = False,
                 control_token: str | None = None, fault_rules: list[dict] | None = None,
                 control_api: bool = True, reuse_port: bool = False,
                 worker: tuple[int, int] | None = None):
        self.org = org or Org()
        self.app = create_app(self.org, pages_open=pages_open, control_token=control_token,
                              loopback_only=_is_loopback(host), fault_rules=fault_rules,
                              control_api=control_api)
        self._server = wsgi.Server((host, port), self.app if quiet else _AccessLog(self.app),
                                   numthreads=threads, server_name="fake-salesforce",
                                   timeout=SOCKET_TIMEOUT, reuse_port=reuse_port)
        self._server.ConnectionClass = _Connection
        self._server.lingering = threading.BoundedSemaphore(max(threads // 2, 1))
        self._server.balance = _Balance(self.org.board, *worker) if worker else None
        self.scheme = "http"
        self.certfile = str(certfile) if certfile else None
        if certfile:
            from cheroot.ssl.builtin import BuiltinSSLAdapter

            self._server.ssl_adapter = BuiltinSSLAdapter(str(certfile), str(keyfile))
            self.scheme = "https"
        try:
            self._server.prepare()  # binds now, so the port is known and errors surface here
        except OSError as e:
            raise OSError(f"cannot listen on {host}:{port}: {_why_not_bound(host, port) or e}") from None
        self._thread: threading.Thread | None = None
        self._stop_lock = threading.Lock()
        self._stopped = False

    @property
    def host(self) -> str:
        return self._server.bind_addr[0]

    @property
    def port(self) -> int:
        return self._server.bind_addr[1]

    @property
    def url(self) -> str:
        host = "localhost" if self.scheme == "https" and self.host == "127.0.0.1" else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def start(self) -> "FakeServer":
        self._thread = threading.Thread(target=self._server.serve, name="fake-salesforce", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve()

    def stop(self) -> None:
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        self._server.stop()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
