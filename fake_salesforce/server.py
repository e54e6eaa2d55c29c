"""A standalone, threaded HTTP(S) server for a fake org, in the foreground or a background thread."""
from __future__ import annotations

import ssl
import threading
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import create_app
from .org import Org


class _KeepAliveHandler(WSGIRequestHandler):
    # HTTP/1.1 keeps connections open between requests, as clients' pools expect.
    protocol_version = "HTTP/1.1"

    def log_request(self, code="-", size="-"):
        if self.server.quiet:  # type: ignore[attr-defined]
            return
        super().log_request(code, size)


class FakeServer:
    """Serve ``org`` on ``host:port`` (port 0 picks a free one).

    >>> server = FakeServer(Org()).start()   # background thread
    >>> server.url                           # e.g. http://127.0.0.1:53117
    >>> server.stop()
    """

    def __init__(self, org: Org | None = None, host: str = "127.0.0.1", port: int = 0, *,
                 certfile: str | Path | None = None, keyfile: str | Path | None = None,
                 quiet: bool = True):
        self.org = org or Org()
        self.app = create_app(self.org)
        context = None
        if certfile:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(certfile), str(keyfile))
        self.scheme = "https" if context else "http"
        self.certfile = str(certfile) if certfile else None
        self._server = make_server(host, port, self.app, threaded=True,
                                   request_handler=_KeepAliveHandler, ssl_context=context)
        self._server.quiet = quiet
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self._server.server_address[0]

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        host = "localhost" if self.scheme == "https" and self.host == "127.0.0.1" else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def start(self) -> "FakeServer":
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-salesforce",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
