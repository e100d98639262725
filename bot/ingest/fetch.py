"""Fetching feeds politely and defensively.

One aiohttp session per address policy (the strict one for feeds added from chat, a permissive
one for config feeds with `allow_private`): connection pools must not be shared between them, or
a pooled connection to an internal host made for a config feed could serve a chat-added URL.

Conditional GET, per-host and global concurrency limits, manual redirects (each hop checked by the
SSRF guard), a total deadline, and a body cap enforced on the wire and again after decompression:
decompression is done here, chunk by chunk with a bounded output, so a gzip bomb is stopped at the
cap without ever being inflated in memory.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
import urllib.request
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Literal, NamedTuple
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from bot.config import PollSettings
from bot.errors import FeedError
from bot.ingest.ssrf import AddressGuard, GuardedConnector, GuardedResolver, IPNetwork
from bot.log import get_logger

log = get_logger(__name__)

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_CHECKED_URLS = 50_000


class FetchResult(NamedTuple):
    """What a fetch got. A named tuple rather than a frozen dataclass: as immutable, and made in
    less than half the time (a poll makes one per feed; a frozen dataclass sets each field
    through object.__setattr__, which cost a 1,000-feed poll about 3 ms)."""

    status: Literal["ok", "not_modified"]
    http_status: int
    body: bytes
    final_url: str
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None  # the whole Content-Type header, parameters included
    charset: str | None = None
    cache_max_age: float | None = None  # seconds: Cache-Control max-age / s-maxage, or Expires - Date
    retry_after: float | None = None  # seconds
    elapsed: float = 0.0

    @property
    def not_modified(self) -> bool:
        return self.status == "not_modified"

    @property
    def url(self) -> str:
        return self.final_url


# -- header parsing (pure) ------------------------------------------------------------------------


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def parse_retry_after(
    value: str | None, *, date: str | None = None, now: datetime | None = None
) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date (relative to the
    response's Date header when present, else `now`)."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    when = _http_date(text)
    if when is None:
        return None
    base = _http_date(date) or now or datetime.now(UTC)
    return max(0.0, (when - base).total_seconds())


def parse_cache_max_age(
    cache_control: str | None,
    *,
    expires: str | None = None,
    date: str | None = None,
    now: datetime | None = None,
) -> float | None:
    """Freshness lifetime in seconds: s-maxage or max-age, else Expires - Date; None if unstated.
    no-cache / no-store mean 0 (no extra delay beyond our own schedule)."""
    if cache_control:
        directives: dict[str, str] = {}
        for part in cache_control.split(","):
            key, _, val = part.strip().partition("=")
            directives[key.strip().lower()] = val.strip().strip('"')
        if "no-store" in directives or "no-cache" in directives:
            return 0.0
        for key in ("s-maxage", "max-age"):
            if key in directives:
                try:
                    return max(0.0, float(int(directives[key])))
                except ValueError:
                    continue
    expires_at = _http_date(expires)
    if expires_at is not None:
        base = _http_date(date) or now or datetime.now(UTC)
        return max(0.0, (expires_at - base).total_seconds())
    return None


def _charset_of(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"').strip("'").lower()
    return None


# -- decompression with a bounded output ----------------------------------------------------------


class _Decoder:
    """Incremental gzip/deflate decoding that never produces more than `cap` + 1 bytes."""

    def __init__(self, encoding: str, url: str, cap: int):
        self.encoding = encoding
        self.url = url
        self.cap = cap
        self.total = 0
        self._obj: zlib._Decompress | None = None
        self._identity = False
        self._pending = b""

    def _start(self, head: bytes) -> None:
        # Servers that label an uncompressed body as gzip/deflate are common enough to tolerate.
        if self.encoding == "gzip":
            if head[:2] == b"\x1f\x8b":
                self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:
                self._identity = True
        elif len(head) >= 2 and head[0] & 0x0F == 8 and int.from_bytes(head[:2], "big") % 31 == 0:
            self._obj = zlib.decompressobj(zlib.MAX_WBITS)  # zlib-wrapped deflate, as the RFC says
        elif head[:1] in (b"<", b"{", b"\xef", b"\xff", b"\xfe", b" ", b"\n", b"\r", b"\t"):
            self._identity = True  # plainly not compressed
        else:
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send

    def _add(self, data: bytes) -> bytes:
        self.total += len(data)
        if self.total > self.cap:
            raise FeedError(
                f"{self.url}: body larger than {self.cap:,} bytes after decompression; refusing it"
            )
        return data

    def feed(self, chunk: bytes) -> bytes:
        if self._obj is None and not self._identity:
            self._pending += chunk
            if len(self._pending) < 2:
                return b""
            chunk, self._pending = self._pending, b""
            self._start(chunk)
        if self._identity:
            return self._add(chunk)
        assert self._obj is not None
        out: list[bytes] = []
        data = chunk
        try:
            while data:
                piece = self._obj.decompress(data, self.cap - self.total + 1)
                out.append(self._add(piece))
                data = self._obj.unconsumed_tail
                if self._obj.eof:
                    break  # trailing garbage after the stream is ignored
        except zlib.error as exc:
            raise FeedError(f"{self.url}: corrupt {self.encoding} body ({exc})") from None
        return b"".join(out)

    def finish(self) -> bytes:
        if self._obj is None and not self._identity:
            if not self._pending:
                return b""
            self._identity = True
            return self._add(self._pending)
        if self._obj is None:
            return b""
        try:
            tail = self._add(self._obj.flush(max(1, self.cap - self.total + 1)))
        except zlib.error as exc:
            raise FeedError(f"{self.url}: corrupt {self.encoding} body ({exc})") from None
        if not self._obj.eof and self.encoding == "gzip":
            raise FeedError(f"{self.url}: truncated gzip body")
        return tail


# -- the fetcher ----------------------------------------------------------------------------------


class _SilenceWatch:
    """The read limit: the longest silence while waiting for a response or reading its body.

    aiohttp's own read limit (sock_read) re-arms a timer on every chunk received, so a request
    makes and cancels at least two timers, which cost about a tenth of a 304's client time. Here
    one timer looks over every request in flight four times per limit and cancels those silent
    for longer than the limit: it is enforced within a quarter of itself, for a few dictionary
    updates per request.
    """

    def __init__(self, limit: float):
        self.limit = limit
        self._last: dict[asyncio.Task[object], float] = {}
        self._expired: set[asyncio.Task[object]] = set()
        self._timer: asyncio.TimerHandle | None = None

    def begin(self, task: asyncio.Task[object]) -> None:
        loop = asyncio.get_running_loop()
        self._last[task] = loop.time()
        if self._timer is None:
            self._timer = loop.call_later(self.limit / 4, self._sweep)

    def progress(self) -> None:
        """The running fetch has heard from its server."""
        task = asyncio.current_task()
        if task in self._last:
            self._last[task] = asyncio.get_running_loop().time()

    def end(self, task: asyncio.Task[object]) -> bool:
        """Stop watching `task`; True if the watch cancelled it."""
        self._last.pop(task, None)
        if task in self._expired:
            self._expired.discard(task)
            return True
        return False

    def _sweep(self) -> None:
        self._timer = None
        if not self._last:
            return
        loop = asyncio.get_running_loop()
        silent_since = loop.time() - self.limit
        for task, last in list(self._last.items()):
            if last <= silent_since and task not in self._expired:
                self._expired.add(task)
                task.cancel()
        self._timer = loop.call_later(self.limit / 4, self._sweep)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class _HostSlot:
    """One of a host's `per_host_concurrency` slots, moved along redirect hops.

    A hop to another host gives the current slot back before waiting for the next one, so a
    fetch never holds one host's slot while it waits for another's."""

    def __init__(self, fetcher: Fetcher):
        self._fetcher = fetcher
        self._host: str | None = None
        self._sem: asyncio.Semaphore | None = None

    async def take(self, host: str) -> None:
        if host == self._host:
            return
        self.release()
        sem = self._fetcher._host_semaphore(host)
        await sem.acquire()
        self._host, self._sem = host, sem

    def release(self) -> None:
        if self._sem is not None:
            self._sem.release()
        self._host, self._sem = None, None


class Fetcher:
    """Fetches feed documents. Use as `async with Fetcher(settings) as f:` or call `close()`.

    `resolver` replaces the system DNS lookup under the SSRF guard and `exempt_networks` lists
    networks the guard treats as public; both exist for tests (a loopback server standing in for a
    public one) and are never set from configuration.
    """

    def __init__(
        self,
        settings: PollSettings,
        *,
        resolver: AbstractResolver | None = None,
        exempt_networks: Sequence[str] = (),
    ):
        self.settings = settings
        self._resolver = resolver
        exempt: tuple[IPNetwork, ...] = tuple(ipaddress.ip_network(n) for n in exempt_networks)
        self._guards = {
            False: AddressGuard(allow_private=False, exempt=exempt),
            True: AddressGuard(allow_private=True, exempt=exempt),
        }
        self._sessions: dict[bool, aiohttp.ClientSession] = {}
        self._global: asyncio.Semaphore | None = None
        self._hosts: dict[str, asyncio.Semaphore] = {}
        # URL -> (host, parsed URL) for URLs the guard's URL check accepted: that check depends on
        # nothing but the URL and the policy, and polling asks about the same URLs every cycle
        # (parsing a URL costs aiohttp about a tenth of a 304's client time). Resolved and
        # connected addresses are still checked on every new connection.
        self._checked: dict[tuple[bool, bool, str], tuple[str, URL | None]] = {}
        self._whole = self._timeout(settings.total_timeout_s)
        self._silence = _SilenceWatch(settings.read_timeout_s)
        self._closed = False

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        self._closed = True
        self._silence.close()
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()

    def _session(self, allow_private: bool) -> aiohttp.ClientSession:
        session = self._sessions.get(allow_private)
        if session is None:
            s = self.settings
            guard = self._guards[allow_private]
            connector = GuardedConnector(
                guard,
                resolver=GuardedResolver(guard, self._resolver),
                limit=s.global_concurrency,
                limit_per_host=s.per_host_concurrency,
                ttl_dns_cache=60,  # only addresses the guard accepted get cached
            )
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._whole,
                headers={"User-Agent": s.user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"},
                auto_decompress=False,  # we decompress with a bounded output (see _Decoder)
                trust_env=False,  # an environment proxy would resolve names for us, past the guard
                raise_for_status=False,
            )
            self._sessions[allow_private] = session
        return session

    def _check_url(self, url: str, allow_private: bool, allow_file: bool) -> tuple[str, URL | None]:
        """AddressGuard.check_url (the host, "" for file://) and the URL parsed for aiohttp,
        remembered for the URLs the guard accepted (refusals always re-run)."""
        key = (allow_private, allow_file, url)
        checked = self._checked.get(key)
        if checked is None:
            host = self._guards[allow_private].check_url(url, allow_file=allow_file)
            try:
                parsed = URL(url) if host else None
            except (ValueError, TypeError) as exc:
                raise FeedError(f"{url}: invalid URL ({exc})", permanent=True) from None
            if len(self._checked) >= _CHECKED_URLS:
                self._checked.clear()  # a crude bound; refilling costs one check per URL
            checked = self._checked[key] = (host, parsed)
        return checked

    def _host_semaphore(self, host: str) -> asyncio.Semaphore:
        sem = self._hosts.get(host)
        if sem is None:
            sem = self._hosts[host] = asyncio.Semaphore(self.settings.per_host_concurrency)
        return sem

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        allow_private: bool = False,
        allow_file: bool = False,
    ) -> FetchResult:
        """GET a feed (conditionally when `etag` / `last_modified` are given).

        Raises FeedError naming the URL and the problem; `permanent` for 404/410, unsafe URLs and
        missing files, `retry_after` (seconds) for 429/503.
        """
        if self._closed:
            raise RuntimeError("Fetcher is closed")
        host, target = self._check_url(url, allow_private, allow_file)
        if target is None:  # file://
            return await asyncio.to_thread(self._read_file, url, last_modified)
        if self._global is None:
            self._global = asyncio.Semaphore(self.settings.global_concurrency)
        # The host slot first, then a global one: feeds queued behind a busy host must not sit on
        # global slots other hosts could use. The time limits start once both are held.
        slot = _HostSlot(self)
        task = asyncio.current_task()
        assert task is not None
        try:
            await slot.take(host)
            async with self._global:
                watch = self._silence
                watch.begin(task)
                try:
                    return await self._fetch_http(url, target, slot, etag, last_modified, allow_private)
                except asyncio.CancelledError:
                    # A read timeout if the watch cancelled the fetch and nobody else did as well.
                    if watch.end(task) and not task.uncancel():
                        limit = f"no data for {self.settings.read_timeout_s:g} s: the read limit"
                        raise FeedError(f"{url}: timed out ({limit})") from None
                    raise
                finally:
                    if watch.end(task):  # the watch's cancellation was absorbed on the way out
                        task.uncancel()
        finally:
            slot.release()

    async def _fetch_http(
        self,
        url: str,
        target: URL,
        slot: _HostSlot,
        etag: str | None,
        last_modified: str | None,
        allow_private: bool,
    ) -> FetchResult:
        s = self.settings
        session = self._session(allow_private)
        headers: dict[str, str] | None = None
        if etag or last_modified:
            headers = {}
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
        started = time.monotonic()
        current = url
        chain = [url]
        for hop in range(s.max_redirects + 1):
            # The session's total limit covers the first request, body included; a redirect's
            # request gets what is left of it, so the limit holds for the whole chain.
            timeout = self._whole
            if hop:  # the first URL was checked by fetch(), which also took its host's slot
                host, parsed = self._check_url(current, allow_private, False)
                assert parsed is not None  # only file:// URLs have none, and hops may not be those
                target = parsed
                await slot.take(host)
                left = max(0.001, s.total_timeout_s - (time.monotonic() - started))
                timeout = self._timeout(left)
                self._silence.progress()
            try:
                request = session.get(target, headers=headers, allow_redirects=False, timeout=timeout)
                async with request as resp:
                    self._silence.progress()
                    if resp.status in _REDIRECTS:
                        current = self._next_hop(url, current, resp, chain)
                        continue
                    return await self._result(url, current, resp, etag, last_modified, started)
            except FeedError:
                raise
            except aiohttp.ServerTimeoutError as exc:
                limit = f"connect limit {s.connect_timeout_s:g} s"
                raise FeedError(f"{url}: timed out ({limit}; {exc})") from None
            except TimeoutError:  # aiohttp's total limit (its connect limit raises the above)
                total = s.total_timeout_s
                raise FeedError(f"{url}: timed out after {total:g} s (total time limit)") from None
            except aiohttp.ClientConnectorError as exc:
                raise FeedError(f"{url}: cannot connect to {exc.host}:{exc.port} ({exc.os_error})") from None
            except aiohttp.InvalidURL as exc:
                raise FeedError(f"{url}: invalid URL {exc}", permanent=True) from None
            except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError) as exc:
                raise FeedError(f"{url}: connection broken while reading ({exc})") from None
            except aiohttp.ClientResponseError as exc:
                raise FeedError(f"{url}: bad HTTP response ({exc.message})") from None
            except aiohttp.ClientError as exc:
                raise FeedError(f"{url}: request failed ({type(exc).__name__}: {exc})") from None
            except (ValueError, UnicodeError) as exc:
                raise FeedError(f"{url}: invalid URL ({exc})", permanent=True) from None
        raise FeedError(f"{url}: more than {s.max_redirects} redirects ({' -> '.join(chain)})")

    def _timeout(self, total: float) -> aiohttp.ClientTimeout:
        # No sock_read: the read limit is _SilenceWatch's.
        return aiohttp.ClientTimeout(total=total, sock_connect=self.settings.connect_timeout_s)

    @staticmethod
    def _next_hop(url: str, current: str, resp: aiohttp.ClientResponse, chain: list[str]) -> str:
        location = resp.headers.get("Location")
        if not location:
            raise FeedError(f"{url}: HTTP {resp.status} redirect without a Location header")
        target = urljoin(current, location.strip())
        target = target.split("#", 1)[0]
        if target in chain:
            raise FeedError(f"{url}: redirect loop ({' -> '.join([*chain, target])})")
        chain.append(target)
        log.debug("feed.redirect", feed=url, status=resp.status, to=target)
        return target

    async def _result(
        self,
        url: str,
        final_url: str,
        resp: aiohttp.ClientResponse,
        etag: str | None,
        last_modified: str | None,
        started: float,
    ) -> FetchResult:
        h = resp.headers
        status = resp.status
        date = h.get("Date")
        retry_after = parse_retry_after(h.get("Retry-After"), date=date)
        if status == 304:
            if not (etag or last_modified):
                raise FeedError(f"{url}: HTTP 304 Not Modified to a request that was not conditional")
            return FetchResult(
                status="not_modified",
                http_status=304,
                body=b"",
                final_url=final_url,
                etag=h.get("ETag") or etag,
                last_modified=h.get("Last-Modified") or last_modified,
                cache_max_age=parse_cache_max_age(
                    h.get("Cache-Control"), expires=h.get("Expires"), date=date
                ),
                retry_after=retry_after,
                elapsed=time.monotonic() - started,
            )
        if status != 200:
            reason = f"HTTP {status}" + (f" {resp.reason}" if resp.reason else "")
            if status in (404, 410):
                gone = "gone" if status == 410 else "not found"
                raise FeedError(f"{url}: {reason} (the feed is {gone})", permanent=True)
            if status in (429, 503):
                wait = f"; retry after {retry_after:g} s" if retry_after is not None else ""
                raise FeedError(f"{url}: {reason}{wait}", retry_after=retry_after)
            raise FeedError(f"{url}: {reason}")
        body = await self._read_body(url, resp)
        content_type = h.get("Content-Type")
        return FetchResult(
            status="ok",
            http_status=status,
            body=body,
            final_url=final_url,
            etag=h.get("ETag"),
            last_modified=h.get("Last-Modified"),
            content_type=content_type,
            charset=_charset_of(content_type),
            cache_max_age=parse_cache_max_age(h.get("Cache-Control"), expires=h.get("Expires"), date=date),
            retry_after=retry_after,
            elapsed=time.monotonic() - started,
        )

    async def _read_body(self, url: str, resp: aiohttp.ClientResponse) -> bytes:
        cap = self.settings.max_body_bytes
        length = resp.content_length
        if length is not None and length > cap:
            raise FeedError(f"{url}: body of {length:,} bytes is larger than the {cap:,}-byte limit")
        encoding = (resp.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding in ("x-gzip",):
            encoding = "gzip"
        decoder: _Decoder | None = None
        if encoding in ("gzip", "deflate"):
            decoder = _Decoder(encoding, url, cap)
        elif encoding not in ("identity", ""):
            raise FeedError(f"{url}: unsupported Content-Encoding {encoding!r}")
        received = 0
        parts: list[bytes] = []
        # Chunk by chunk (each as soon as it arrives), so the silence watch sees the progress.
        async for chunk in resp.content.iter_chunked(_CHUNK):
            self._silence.progress()
            received += len(chunk)
            if received > cap:
                raise FeedError(f"{url}: body larger than the {cap:,}-byte limit; stopped reading")
            parts.append(decoder.feed(chunk) if decoder else chunk)
        if decoder is not None:
            parts.append(decoder.finish())
        return b"".join(parts)

    def _read_file(self, url: str, last_modified: str | None) -> FetchResult:
        started = time.monotonic()
        path = Path(urllib.request.url2pathname(urlsplit(url).path))
        try:
            stat = path.stat()
            if not path.is_file():
                raise FeedError(f"{url}: {path} is not a file", permanent=True)
            if stat.st_size > self.settings.max_body_bytes:
                raise FeedError(
                    f"{url}: file of {stat.st_size:,} bytes is larger than the "
                    f"{self.settings.max_body_bytes:,}-byte limit"
                )
            stamp = formatdate(stat.st_mtime, usegmt=True)
            if last_modified and last_modified == stamp:
                return FetchResult(
                    status="not_modified", http_status=304, body=b"", final_url=url,
                    last_modified=stamp, elapsed=time.monotonic() - started,
                )  # fmt: skip
            with path.open("rb") as handle:
                body = handle.read(self.settings.max_body_bytes + 1)
        except FileNotFoundError:
            raise FeedError(f"{url}: no such file {path}", permanent=True) from None
        except PermissionError:
            raise FeedError(f"{url}: cannot read {path} (permission denied)", permanent=True) from None
        except OSError as exc:
            raise FeedError(f"{url}: cannot read {path} ({exc.strerror or exc})") from None
        if len(body) > self.settings.max_body_bytes:
            raise FeedError(f"{url}: file larger than the {self.settings.max_body_bytes:,}-byte limit")
        return FetchResult(
            status="ok", http_status=200, body=body, final_url=url, last_modified=stamp,
            elapsed=time.monotonic() - started,
        )  # fmt: skip
