"""The client's address behind reverse proxies (pure ASGI).

X-Forwarded-For is a list that every proxy appends to, and its left part is whatever the
client sent. So the client is never its left-most entry: it is either a header the platform's
edge sets itself (and overwrites when a client sends it), such as Fly's `Fly-Client-IP`, or the
entry `TRUSTED_PROXY_HOPS` places from the right, the one the outermost trusted proxy
appended. Everything that keys on the client (rate limits, the access log) reads
`scope["client"]`, which this middleware sets. uvicorn's own proxy-header handling stays off.
"""

from __future__ import annotations

import ipaddress

from starlette.types import ASGIApp, Receive, Scope, Send

_FORWARDED_FOR = b"x-forwarded-for"
_FORWARDED_PROTO = b"x-forwarded-proto"
_SCHEMES = frozenset({"http", "https"})


def _address(value: str) -> str | None:
    """The IP address in one forwarded entry ("1.2.3.4", "1.2.3.4:5678", "[::1]:80"), or None."""
    value = value.strip()
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def resolve_client(
    headers: list[tuple[bytes, bytes]],
    peer: str | None,
    *,
    client_ip_header: bytes | None,
    trusted_proxy_hops: int,
) -> str | None:
    """The client address for one request, or `peer` when the headers do not name one."""
    if client_ip_header is not None:
        values = [value for name, value in headers if name == client_ip_header]
        if values:
            # One value when the edge overwrites the header; if it appended, its own is last.
            address = _address(values[-1].decode("latin-1").split(",")[-1])
            if address is not None:
                return address
    if trusted_proxy_hops > 0:
        entries = [
            entry
            for name, value in headers
            if name == _FORWARDED_FOR
            for entry in value.decode("latin-1").split(",")
            if entry.strip()
        ]
        if entries:
            # Fewer entries than hops: the request entered behind the outer proxies, and every
            # entry was still written by a trusted one.
            address = _address(entries[-min(trusted_proxy_hops, len(entries))])
            if address is not None:
                return address
    return peer


class ClientAddressMiddleware:
    """Installed only behind a proxy (CLIENT_IP_HEADER or TRUSTED_PROXY_HOPS set); without one
    the connection's peer already is the client."""

    def __init__(
        self, app: ASGIApp, *, client_ip_header: str | None, trusted_proxy_hops: int
    ) -> None:
        self.app = app
        self.client_ip_header = client_ip_header.lower().encode() if client_ip_header else None
        self.trusted_proxy_hops = trusted_proxy_hops

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        peer_host, peer_port = scope.get("client") or (None, 0)
        host = resolve_client(
            headers,
            peer_host,
            client_ip_header=self.client_ip_header,
            trusted_proxy_hops=self.trusted_proxy_hops,
        )
        if host is not None:
            scope["client"] = (host, peer_port if host == peer_host else 0)
        proto = [value for name, value in headers if name == _FORWARDED_PROTO]
        scheme = proto[-1].decode("latin-1").split(",")[-1].strip().lower() if proto else ""
        if scheme in _SCHEMES:
            scope["scheme"] = scheme
        await self.app(scope, receive, send)
