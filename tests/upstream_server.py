"""A raw-file server on 127.0.0.1 only, for the upstream fetch tests: serves a {url path: bytes} map (404 otherwise),
records what was asked, and shuts itself down after a bounded time even if a test forgets to."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LIFETIME_S = 60.0


class Served:
    """What the server holds and what it was asked for."""

    def __init__(self, files: dict[str, bytes] | Callable[[str], bytes | None]) -> None:
        self.files = files
        self.requests: list[str] = []
        self.base = ""

    def lookup(self, path: str) -> bytes | None:
        return self.files(path) if callable(self.files) else self.files.get(path)


@contextmanager
def serve(files: dict[str, bytes] | Callable[[str], bytes | None]) -> Iterator[Served]:
    served = Served(files)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.requests.append(self.path)
            data = served.lookup(self.path)
            self.send_response(404 if data is None else 200)
            self.send_header("Content-Length", str(0 if data is None else len(data)))
            self.end_headers()
            if data is not None:
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    # shutdown() waits for serve_forever's next poll.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    stopper = threading.Timer(LIFETIME_S, server.shutdown)
    stopper.daemon = True
    stopper.start()
    served.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield served
    finally:
        stopper.cancel()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
