"""A real HTTP server on 127.0.0.1 that plays the part of the web's feeds, good and bad."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FEEDS = Path(__file__).parent / "data" / "feeds"


def rss(title: str, entries: Iterable[tuple[str, str, datetime]]) -> bytes:
    """An RSS 2.0 document of (headline, link, published) entries, the link doubling as the GUID."""
    items = "".join(
        f"<item><title>{escape(headline)}</title><link>{escape(link)}</link><guid>{escape(link)}</guid>"
        f"<pubDate>{format_datetime(published)}</pubDate></item>"
        for headline, link, published in entries
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>https://example.com/</link>{items}</channel></rss>").encode()


def feed_file(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    gzip: bool = False
    hang: bool = False  # hold the request until the server stops: a server that never answers
    endless: bool = False  # stream data until the client gives up
    trickle: float | None = None  # seconds between the body's bytes: a server that answers, but slowly


@dataclass(frozen=True)
class SeenRequest:
    path: str
    headers: dict[str, str]


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[SeenRequest] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append(SeenRequest(self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = server.routes.get(self.path)
                if route is None:
                    self._send(404, b"not found", "text/plain")
                    return
                if route.hang:
                    server.stopping.wait(timeout=60)
                    return
                if route.endless:
                    self._stream_forever(route)
                    return
                if route.trickle is not None:
                    self._trickle(route, route.trickle)
                    return
                validators_match = (route.etag and self.headers.get("If-None-Match") == route.etag) or (
                    route.last_modified and self.headers.get("If-Modified-Since") == route.last_modified
                )
                if validators_match:
                    self._send(304, b"", None, route)
                    return
                self._send(route.status, route.body, route.content_type, route)

            def _send(self, status: int, body: bytes, content_type: str | None, route: Route | None = None) -> None:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                if route is not None:
                    if route.etag:
                        self.send_header("ETag", route.etag)
                    if route.last_modified:
                        self.send_header("Last-Modified", route.last_modified)
                    if route.gzip and "gzip" in self.headers.get("Accept-Encoding", ""):
                        body = gzip.compress(body)
                        self.send_header("Content-Encoding", "gzip")
                    for name, value in route.headers.items():
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def _trickle(self, route: Route, interval: float) -> None:
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                try:
                    for index in range(len(route.body)):
                        # Waiting on the stop event, not sleeping, so that stopping the server ends it at once.
                        if server.stopping.wait(interval):
                            break
                        self.wfile.write(route.body[index : index + 1])
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

            def _stream_forever(self, route: Route) -> None:
                self.send_response(200)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"<item><title>more</title></item>" * 2000
                try:
                    # Bounded, so a client that never stops reading cannot keep the test running forever.
                    for _ in range(20_000):
                        if server.stopping.is_set():
                            break
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, body: bytes = b"", **options: object) -> str:
        self.routes[path] = Route(body=body, **options)
        return self.url(path)

    def requests_to(self, path: str) -> list[SeenRequest]:
        return [request for request in self.requests if request.path == path]

    def start(self) -> FeedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
