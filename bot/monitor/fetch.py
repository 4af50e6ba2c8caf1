"""Fetching feeds over HTTP: conditional, bounded in time and size, careful about where it goes."""

from __future__ import annotations

import asyncio
import email.utils
import ssl
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from bot.config import PollingSettings
from bot.monitor.netguard import (
    BlockedAddressError,
    Resolver,
    check_host,
    is_public_address,
    refusal,
    system_resolver,
)

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.5"
)
_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT = {301, 308}


class FetchError(Exception):
    """A fetch that failed. `str()` is the plain reason recorded for the feed ("HTTP 404", "timed out…")."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True)
class FetchResult:
    status: int  # 200, or 304 when the feed has not changed since the validators we sent
    url: str  # where the content finally came from
    content: bytes
    headers: dict[str, str]
    etag: str | None
    last_modified: str | None
    moved_to: str | None = None  # the new address, when the feed moved permanently (301/308)


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _BoundedDecoder:
    """Undoes Content-Encoding while counting decoded bytes, so a small compressed body cannot expand
    past the size cap in memory (a gzip bomb stops at the cap, not after it)."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.size = 0
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._wbits: int | None = None
        elif encoding in ("gzip", "x-gzip"):
            self._wbits = 16 + zlib.MAX_WBITS
        elif encoding == "deflate":
            self._wbits = zlib.MAX_WBITS
        else:
            raise FetchError(f"unsupported content encoding {encoding!r}")
        self._inflater = zlib.decompressobj(self._wbits) if self._wbits is not None else None
        self._started = False

    def _grow(self, chunk: bytes) -> bytes:
        self.size += len(chunk)
        if self.size > self.limit:
            raise FetchError(f"response too large: over {self.limit:,} bytes")
        return chunk

    def feed(self, data: bytes) -> bytes:
        if self._inflater is None:
            return self._grow(data)
        out = []
        while data:
            try:
                chunk = self._inflater.decompress(data, self.limit - self.size + 1)
            except zlib.error:
                if self._wbits == zlib.MAX_WBITS and not self._started:
                    # Some servers send raw deflate without the zlib header the standard asks for.
                    self._wbits = -zlib.MAX_WBITS
                    self._inflater = zlib.decompressobj(self._wbits)
                    continue
                raise FetchError("the response's compressed data is corrupt") from None
            self._started = True
            out.append(self._grow(chunk))
            if self._inflater.unconsumed_tail:
                data = self._inflater.unconsumed_tail
            elif self._inflater.eof and self._inflater.unused_data:
                # A gzip file may hold several members one after another.
                data = self._inflater.unused_data
                self._inflater = zlib.decompressobj(self._wbits)
            else:
                data = b""
        return b"".join(out)

    def flush(self) -> bytes:
        return self._grow(self._inflater.flush()) if self._inflater is not None else b""


class Fetcher:
    """An HTTP client for feeds, shared by all polls of a process.

    Limits: `max_concurrency` requests at once overall and `per_host_concurrency` per host, a total
    time per fetch (redirects and body included), a cap on the decoded body, and `max_redirects` hops.
    """

    def __init__(
        self,
        settings: PollingSettings,
        *,
        allow_private_addresses: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.settings = settings
        self.allow_private = allow_private_addresses
        self._resolve = resolver
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(settings.timeout_seconds),
            limits=httpx.Limits(
                max_connections=settings.max_concurrency,
                max_keepalive_connections=settings.max_concurrency,
            ),
            headers={
                "User-Agent": settings.user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": "gzip, deflate",
            },
            transport=transport,
        )
        self._all = asyncio.Semaphore(settings.max_concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def _host_slot(self, url: str) -> asyncio.Semaphore:
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:  # such as "http://[::1/": _fetch refuses it with a plain reason
            host = ""
        if host not in self._hosts:
            self._hosts[host] = asyncio.Semaphore(self.settings.per_host_concurrency)
        return self._hosts[host]

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """Fetch `url`, sending If-None-Match / If-Modified-Since when we have validators.

        Raises FetchError (or its cousin BlockedAddressError) with a plain reason.
        """
        async with self._all, self._host_slot(url):
            try:
                async with asyncio.timeout(self.settings.timeout_seconds):
                    return await self._fetch(url, etag, last_modified)
            except TimeoutError:
                raise FetchError(f"timed out after {_seconds(self.settings.timeout_seconds)}") from None
            except httpx.TimeoutException:
                raise FetchError(f"timed out after {_seconds(self.settings.timeout_seconds)}") from None
            except BlockedAddressError as exc:
                raise FetchError(str(exc)) from None
            except OSError as exc:
                raise FetchError(str(exc) or exc.__class__.__name__) from None
            except httpx.ConnectError as exc:
                raise FetchError(f"could not connect to {urlsplit(url).netloc}: {_cause(exc)}") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"HTTP transport error: {_cause(exc)}") from None
            except (httpx.InvalidURL, ValueError) as exc:
                # A redirect to an address that urljoin accepts and httpx does not ("http:\\host/rss").
                raise FetchError(f"not a valid URL: {exc}") from None

    async def _fetch(self, url: str, etag: str | None, last_modified: str | None) -> FetchResult:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        moved_to: str | None = None
        still_permanent = True
        visited = {url}
        for _hop in range(self.settings.max_redirects + 1):
            host, port = _target(url)
            extensions = {}
            if not self.allow_private:
                await check_host(host, port, self._resolve)
                extensions["trace"] = _peer_check(host)
            async with self._client.stream("GET", url, headers=headers, extensions=extensions) as response:
                if response.status_code in _REDIRECTS:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError(f"HTTP {response.status_code} without a Location header")
                    target = urljoin(url, location.strip())
                    if target in visited:
                        raise FetchError(f"redirect loop at {target}")
                    visited.add(target)
                    if response.status_code in _PERMANENT and still_permanent:
                        moved_to = target
                    else:
                        still_permanent = False
                    url = target
                    continue
                if response.status_code == 304:
                    return FetchResult(304, url, b"", dict(response.headers),
                                       response.headers.get("etag") or etag,
                                       response.headers.get("last-modified") or last_modified, moved_to)
                if response.status_code != 200:
                    raise FetchError(
                        f"HTTP {response.status_code}",
                        retry_after=_retry_after(response.headers.get("retry-after")),
                    )
                content = await self._read_body(response)
                return FetchResult(200, url, content, dict(response.headers), response.headers.get("etag"),
                                   response.headers.get("last-modified"), moved_to)
        raise FetchError(f"too many redirects (more than {self.settings.max_redirects})")

    async def _read_body(self, response: httpx.Response) -> bytes:
        limit = self.settings.max_response_bytes
        declared = response.headers.get("content-length", "")
        encoding = response.headers.get("content-encoding", "")
        if declared.isdigit() and int(declared) > limit and encoding in ("", "identity"):
            raise FetchError(f"response too large: over {limit:,} bytes")
        decoder = _BoundedDecoder(encoding, limit)
        body = bytearray()
        async for chunk in response.aiter_raw():
            body += decoder.feed(chunk)
        body += decoder.flush()
        return bytes(body)


def _target(url: str) -> tuple[str, int]:
    """The host and port of an http(s) URL. Raises FetchError for anything else, such as a port out of range or
    a control character from a hostile redirect, which would otherwise escape as ValueError or httpx.InvalidURL."""
    try:
        parts = urlsplit(url)
        port = parts.port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        raise FetchError(f"not a valid URL: {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"not an http(s) URL: {url}")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _peer_check(host: str) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
    """An httpx trace hook that checks the address a new connection actually reached, before the request
    is sent on it: a DNS answer that changed since our own look-up (DNS rebinding) could make it differ from
    the one checked. (It used to be checked on the response, when the request had already gone out.)
    A connection kept alive for reuse was checked when it was made."""

    async def check(event: str, info: dict[str, Any]) -> None:
        if event != "connection.connect_tcp.complete":
            return
        stream = info["return_value"]
        peer = stream.get_extra_info("server_addr")
        if peer and not is_public_address(peer[0]):
            await stream.aclose()
            raise refusal(host, peer[0])

    return check


def _cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__
    if isinstance(exc, ssl.SSLError):
        return _tls_reason(exc)
    text = str(exc).strip()
    return text or exc.__class__.__name__


def _tls_reason(exc: ssl.SSLError) -> str:
    """An https failure in plain words: the TLS library's own text ("[SSL: WRONG_VERSION_NUMBER] wrong
    version number (_ssl.c:1006)") means nothing to whoever reads it."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "the server's https certificate could not be verified"
    if exc.reason == "WRONG_VERSION_NUMBER":
        return "the server does not speak https on this port (it may be a plain http:// server)"
    return "the https connection could not be set up"
