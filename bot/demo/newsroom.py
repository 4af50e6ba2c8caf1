"""The demo's news outlets: an HTTP server on 127.0.0.1 whose RSS feeds gain the bundled reports one by one
as the demo runs, and answer 304 Not Modified when nothing changed, as real feeds do."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files


@dataclass(frozen=True)
class Report:
    at: float  # release time, as a fraction of the demo's length
    feed: str
    title: str
    summary: str


@dataclass(frozen=True)
class Timeline:
    feeds: dict[str, str]  # path name -> outlet name
    follow: list[str]
    reports: list[Report]


def load_timeline() -> Timeline:
    raw = json.loads(files("bot.demo").joinpath("timeline.json").read_text(encoding="utf-8"))
    reports = [Report(r["at"], r["feed"], r["title"], r["summary"]) for r in raw["reports"]]
    return Timeline(raw["feeds"], raw["follow"], sorted(reports, key=lambda r: r.at))


class Newsroom:
    """Serves /<feed>.xml for each outlet of the timeline, releasing each report at its time."""

    def __init__(self, timeline: Timeline, seconds: float, clock=time.monotonic) -> None:
        self.timeline = timeline
        self.seconds = seconds
        self._clock = clock
        self._started = clock()
        self._wall_start = datetime.now(UTC)
        newsroom = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                name = self.path.strip("/").removesuffix(".xml")
                if name not in newsroom.timeline.feeds:
                    self._answer(404, b"not found", "text/plain")
                    return
                body = newsroom.feed(name)
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self._answer(304, b"", None, etag)
                    return
                self._answer(200, body, "application/rss+xml; charset=utf-8", etag)

            def _answer(self, status: int, body: bytes, content_type: str | None, etag: str | None = None) -> None:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                if etag:
                    self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> Newsroom:
        self._started = self._clock()
        self._wall_start = datetime.now(UTC)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, feed: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{feed}.xml"

    @property
    def progress(self) -> float:
        """How far through the timeline the demo is, 0 to 1 and beyond."""
        return (self._clock() - self._started) / self.seconds

    def released(self) -> list[Report]:
        progress = self.progress
        return [report for report in self.timeline.reports if report.at <= progress]

    def feed(self, name: str) -> bytes:
        items = []
        for number, report in enumerate(self.released()):
            if report.feed != name:
                continue
            published = self._wall_start + timedelta(seconds=report.at * self.seconds)
            link = f"https://{name}.example/news/{number}"
            items.append(
                f"<item><title>{escape(report.title)}</title><link>{link}</link><guid>{link}</guid>"
                f"<description>{escape(report.summary)}</description>"
                f"<pubDate>{format_datetime(published)}</pubDate></item>"
            )
        title = escape(self.timeline.feeds[name])
        return (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>https://{name}.example/</link><description>{title}</description>{''.join(reversed(items))}"
            "</channel></rss>"
        ).encode()
