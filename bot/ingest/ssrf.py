"""The SSRF guard: feeds added from chat must not make the bot fetch internal addresses.

Two checks, both needed:
- `check_url` looks at the URL itself (scheme, IP literals, well-known internal names). aiohttp
  connects to an IP literal without resolving it, so this is the only check such URLs get.
- `GuardedResolver` checks every address a host name resolves to, at connect time, for every
  redirect hop. Checking the resolved IP (not the name) is what defeats names pointing inward and
  DNS rebinding: the address checked is the address connected to.

`allow_private` (config feeds only) lets loopback, private and link-local addresses through;
cloud metadata endpoints, multicast and unspecified addresses stay refused even then.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.client_reqrep import ClientRequest
from aiohttp.connector import Connection
from aiohttp.resolver import ThreadedResolver
from aiohttp.tracing import Trace

from bot.errors import UnsafeURLError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Instance metadata services: credentials live there. Refused even for allow_private feeds.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, ...
        ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
    }
)
METADATA_HOSTS: frozenset[str] = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"}
)
# Names that mean "this machine" whatever DNS says.
LOCAL_HOSTS: frozenset[str] = frozenset(
    {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
)

_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, 6to4, Teredo, NAT64, v4-compatible)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    packed = ip.packed
    if packed[:12] == bytes(12) and packed[12:] != bytes(4) and int(ip) > 1:  # ::a.b.c.d (deprecated)
        return ipaddress.IPv4Address(packed[12:])
    if ip in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(packed[12:])
    return None


def ip_problem(ip: IPAddress, *, allow_private: bool) -> str | None:
    """Why `ip` must not be fetched, or None when it may."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "a scoped IPv6 address"
        inner = _embedded_v4(ip)
        if inner is not None:
            problem = ip_problem(inner, allow_private=allow_private)
            return f"{problem} (inside an IPv6 address)" if problem else None
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip == ipaddress.IPv4Address("255.255.255.255"):
        return "the broadcast address"
    if allow_private:
        if ip.is_reserved and not ip.is_private:
            return "a reserved address"
        return None
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a shared (carrier-grade NAT) address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "a non-public address"
    return None


def _parse_ip(host: str) -> IPAddress | None:
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    # Legacy numeric IPv4 spellings (127.1, 0x7f000001, 2130706433) that resolvers accept.
    if text and all(c in "0123456789abcdefxABCDEFX." for c in text) and any(c.isdigit() for c in text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


@dataclass(frozen=True, slots=True)
class AddressGuard:
    """One policy for URLs and resolved addresses.

    `exempt` lists networks treated as public. It exists so tests can stand a loopback server in
    for a public one; nothing in the configuration sets it.
    """

    allow_private: bool = False
    exempt: tuple[IPNetwork, ...] = ()

    def ip_problem(self, ip: IPAddress) -> str | None:
        if any(ip in net for net in self.exempt if net.version == ip.version):
            return None
        return ip_problem(ip, allow_private=self.allow_private)

    def check_ip(self, ip: IPAddress, *, url_or_host: str) -> None:
        problem = self.ip_problem(ip)
        if problem:
            raise UnsafeURLError(f"refusing {url_or_host}: {ip} is {problem}")

    def check_host(self, host: str, *, url: str) -> None:
        problem = _host_problem(self, host)
        if problem:
            raise UnsafeURLError(f"refusing {url}: {problem}")

    def check_address(self, address: str, *, url_or_host: str) -> None:
        """check_ip for an address in text form (as sockets and resolvers report it)."""
        problem = _address_problem(self, address)
        if problem:
            raise UnsafeURLError(f"refusing {url_or_host}: {problem}")

    def check_url(self, url: str, *, allow_file: bool = False) -> str:
        """Raise UnsafeURLError if `url` is refused; return its lower-case host ("" for file://)."""
        try:
            parts = urlsplit(url.strip())
            host = parts.hostname
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError as exc:
            raise UnsafeURLError(f"refusing {url}: not a valid URL ({exc})") from None
        scheme = parts.scheme.lower()
        if scheme == "file":
            if not allow_file:
                raise UnsafeURLError(f"refusing {url}: file:// URLs are allowed only in the config file")
            if host not in (None, "", "localhost"):
                raise UnsafeURLError(f"refusing {url}: file:// URLs must name a local path")
            return ""
        if scheme not in ("http", "https"):
            shown = scheme or "no scheme"
            raise UnsafeURLError(f"refusing {url}: only http and https URLs are allowed, not {shown}")
        if not host:
            raise UnsafeURLError(f"refusing {url}: the URL has no host")
        self.check_host(host, url=url)
        return host


# Polling asks about the same few hundred hosts over and over; parsing addresses is not free.
@functools.lru_cache(maxsize=8192)
def _host_problem(guard: AddressGuard, host: str) -> str | None:
    name = host.lower().rstrip(".")
    if name in METADATA_HOSTS:
        return f"{name} is a cloud metadata host"
    if not guard.allow_private and (name in LOCAL_HOSTS or name.endswith(".localhost")):
        return f"{name} names this machine"
    ip = _parse_ip(name)
    if ip is not None:
        problem = guard.ip_problem(ip)
        if problem:
            return f"{ip} is {problem}"
    return None


@functools.lru_cache(maxsize=8192)
def _address_problem(guard: AddressGuard, address: str) -> str | None:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and "%" in address:
        return f"{address} is a scoped IPv6 address"
    problem = guard.ip_problem(ip)
    return f"{ip} is {problem}" if problem else None


def check_url(url: str, *, allow_private: bool, allow_file: bool) -> None:
    """Raise UnsafeURLError when `url` must not be fetched (scheme, IP literal, internal name).

    Host names are checked again on their resolved addresses at connect time by the Fetcher.
    """
    AddressGuard(allow_private=allow_private).check_url(url, allow_file=allow_file)


async def resolve_and_check(
    host: str, port: int, allow_private: bool, *, guard: AddressGuard | None = None
) -> list[IPAddress]:
    """Resolve `host` and return its addresses; UnsafeURLError if any of them is refused.

    One refused address refuses the name: a name that mixes public and internal addresses is
    either misconfigured or an attack, and the connector could pick either.
    """
    policy = guard or AddressGuard(allow_private=allow_private)
    policy.check_host(host, url=host)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeURLError(f"refusing {host}: it does not resolve ({exc.strerror})") from None
    addresses = _unique(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos)
    for ip in addresses:
        policy.check_ip(ip, url_or_host=host)
    return addresses


def _unique(items: Iterable[IPAddress]) -> list[IPAddress]:
    seen: list[IPAddress] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that refuses names resolving to addresses the guard forbids.

    aiohttp calls it for every new connection to a host name (including redirect hops), and the
    connector connects only to the addresses returned here. `inner` does the actual lookup
    (the system resolver by default; tests pass one that maps names).
    """

    def __init__(self, guard: AddressGuard, inner: AbstractResolver | None = None):
        self.guard = guard
        self._inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.guard.check_host(host, url=host)
        if self._inner is None:
            self._inner = ThreadedResolver()
        results = await self._inner.resolve(host, port, family)
        for result in results:
            self.guard.check_address(result["host"], url_or_host=host)
        return results

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()


class GuardedConnector(aiohttp.TCPConnector):
    """A connector that also checks the address each connection actually reached.

    Defence in depth behind GuardedResolver: whatever produced the address (the resolver, its
    cache, a future aiohttp path that skips it), a connection to a refused peer is closed before
    a request is sent on it. A TCP connection's peer never changes, so a kept-alive connection is
    checked once, not on every request it carries.
    """

    def __init__(self, guard: AddressGuard, **kwargs: Any):
        super().__init__(**kwargs)
        self.guard = guard
        self._passed: weakref.WeakSet[asyncio.BaseTransport] = weakref.WeakSet()

    async def connect(  # the signature is aiohttp's
        self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout  # noqa: ASYNC109
    ) -> Connection:
        conn = await super().connect(req, traces, timeout)
        transport = conn.transport
        if transport is None or transport in self._passed:
            return conn
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and peer:
            try:
                self.guard.check_address(str(peer[0]), url_or_host=str(req.url))
            except UnsafeURLError:
                conn.close()  # never pooled: the next request to that host connects afresh
                raise
        self._passed.add(transport)
        return conn


class StaticResolver(AbstractResolver):
    """Maps names to fixed addresses; anything else fails like an unknown name."""

    def __init__(self, hosts: dict[str, Sequence[str]]):
        self.hosts = {k.lower(): list(v) for k, v in hosts.items()}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = self.hosts.get(host.lower())
        if not addresses:
            raise OSError(socket.EAI_NONAME, f"unknown host {host}")
        results: list[ResolveResult] = []
        for address in addresses:
            ip = ipaddress.ip_address(address)
            fam = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            results.append(
                ResolveResult(hostname=host, host=address, port=port, family=fam, proto=0, flags=0)
            )
        return results

    async def close(self) -> None:
        return None
