"""Fetch a web page or PDF by URL for import, without letting the URL reach inside our network.

Safety rules (docs/url-import.md):

* Only ``http`` and ``https`` URLs, on any port, without user names or passwords.
* Every connection, the first and each redirect's, resolves the host name and refuses it
  when any of its addresses is not allowed; the connection is then made to the address that
  was checked (never to a second resolution, which a DNS-rebinding server would answer
  differently), and the connected peer address is checked once more.
* Allowed: public (global) addresses. ``URL_IMPORT_ALLOW_PRIVATE=true`` adds private and
  loopback ones. Never allowed: link-local (169.254.0.0/16, fe80::/10: cloud metadata lives
  there), the metadata addresses fd00:ec2::254 and 100.100.100.200, multicast, reserved,
  unspecified, and shared (carrier-grade NAT) addresses unless private ones are allowed.
* At most ``max_redirects`` redirects, ``max_bytes`` of body, ``timeout_s`` in all; only
  ``text/html``/``application/xhtml+xml`` and ``application/pdf`` responses are accepted.
* No proxy from the environment is used (a proxy would make the address checks moot).
"""

from __future__ import annotations

import html
import ipaddress
import re
import socket
import ssl
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

import anyio
import certifi
import httpcore

from app.documents.detect import DocumentKind, sanitize_filename

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALWAYS_BLOCKED = tuple(
    ipaddress.ip_network(network)
    for network in (
        "169.254.0.0/16",  # link-local: AWS, GCP, Azure, OpenStack metadata (169.254.169.254)
        "fe80::/10",  # IPv6 link-local
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "0.0.0.0/8",
        "255.255.255.255/32",
    )
)
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
ACCEPTED_TYPES = {
    "text/html": DocumentKind.WEBPAGE,
    "application/xhtml+xml": DocumentKind.WEBPAGE,
    "application/pdf": DocumentKind.PDF,
}
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HEADERS = [
    (b"User-Agent", b"DocChat-URL-import/1.0"),
    (b"Accept", b"text/html,application/xhtml+xml,application/pdf;q=0.9"),
    (b"Accept-Encoding", b"gzip, deflate"),
]
TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.I | re.S)
MAX_URL_CHARS = 2048
TITLE_SNIFF_BYTES = 256 * 1024
INVALID_URL = "This is not a valid web address."
UNSAFE_URL_CHARS = re.compile(r"[\x00-\x20\x7f]")
# Kept as they are when the path and query are percent-encoded (RFC 3986 reserved and "%").
URL_SAFE_CHARS = "/%:@!$&'()*+,;=-._~"


class UrlImportError(Exception):
    """The URL cannot be imported; ``message`` tells the user why."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class BlockedAddress(UrlImportError):
    pass


class UnsupportedContent(UrlImportError):
    pass


class TooLarge(UrlImportError):
    pass


@dataclass(frozen=True)
class FetchLimits:
    timeout_s: float
    max_bytes: int
    max_redirects: int
    allow_private: bool


@dataclass(frozen=True)
class FetchedDocument:
    url: str  # after redirects
    data: bytes
    kind: DocumentKind
    filename: str


def address_allowed(address: IPAddress, *, allow_private: bool) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address in NAT64:
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if any(address in network for network in ALWAYS_BLOCKED):
        return False
    if address.is_link_local or address.is_multicast or address.is_unspecified:
        return False
    if address.is_global:
        return True
    if not allow_private:
        return False
    is_shared = isinstance(address, ipaddress.IPv4Address) and address in SHARED_ADDRESS_SPACE
    return address.is_private or address.is_loopback or is_shared


def check_url(url: str) -> str:
    """The URL, in ASCII and without its fragment, if it may be fetched at all (scheme,
    host, no credentials); raises otherwise."""
    url = url.strip()
    if len(url) > MAX_URL_CHARS:
        raise UrlImportError(f"This address is longer than {MAX_URL_CHARS:,} characters.")
    if UNSAFE_URL_CHARS.search(url):
        raise UrlImportError(INVALID_URL)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlImportError(INVALID_URL) from None
    if parts.scheme not in ("http", "https"):
        raise UrlImportError("Only http:// and https:// addresses can be imported.")
    if not parts.hostname:
        raise UrlImportError("This address has no host name.")
    if parts.username is not None or parts.password is not None:
        raise UrlImportError("Addresses with a user name or password cannot be imported.")
    if port == 0:
        raise UrlImportError(INVALID_URL)
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise UrlImportError(INVALID_URL) from None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    path = quote(parts.path or "/", safe=URL_SAFE_CHARS)
    query = quote(parts.query, safe=URL_SAFE_CHARS + "?")
    return urlunsplit((parts.scheme, netloc, path, query, ""))


class _CheckedNetwork(httpcore.AsyncNetworkBackend):
    """Connects only to addresses the policy allows, to the very address it checked."""

    def __init__(self, *, allow_private: bool) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _resolve(host, port)
        blocked = [
            a for a in addresses if not address_allowed(a, allow_private=self._allow_private)
        ]
        if blocked:
            raise BlockedAddress(_blocked_message(host, blocked[0]))
        last_error: Exception | None = None
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    str(address), port, timeout=timeout, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last_error = error
                continue
            peer = _peer_address(stream)
            if peer is None or not address_allowed(peer, allow_private=self._allow_private):
                await stream.aclose()
                raise BlockedAddress(_blocked_message(host, peer or address))
            return stream
        raise httpcore.ConnectError(str(last_error or "no address"))

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("Local sockets cannot be imported.")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return [literal]
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        raise UrlImportError(f"The host name {host} could not be found.") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UrlImportError(f"The host name {host} could not be found.")
    return addresses


def _peer_address(stream: httpcore.AsyncNetworkStream) -> IPAddress | None:
    peer = stream.get_extra_info("server_addr")
    if not peer:
        sock = stream.get_extra_info("socket")
        peer = sock.getpeername() if sock is not None else None
    if not peer:
        return None
    try:
        return ipaddress.ip_address(str(peer[0]).split("%", 1)[0])
    except ValueError:
        return None


def _blocked_message(host: str, address: IPAddress) -> str:
    return (
        f"{host} resolves to {address}, a private, local or reserved address: DocChat only "
        "imports pages from public addresses."
    )


async def fetch_document(url: str, limits: FetchLimits) -> FetchedDocument:
    """The page or PDF at ``url``, following redirects; raises UrlImportError with a
    sentence for the user (blocked address, timeout, size, type, HTTP error)."""
    current = check_url(url)
    context = ssl.create_default_context(cafile=certifi.where())
    network = _CheckedNetwork(allow_private=limits.allow_private)
    try:
        with anyio.fail_after(limits.timeout_s):
            async with httpcore.AsyncConnectionPool(
                ssl_context=context, network_backend=network, max_connections=4, retries=0
            ) as pool:
                for _hop in range(limits.max_redirects + 1):
                    async with pool.stream("GET", current, headers=HEADERS) as response:
                        if response.status not in REDIRECT_STATUSES:
                            return await _read(current, response, limits)
                        current = _redirect_target(current, response)
                raise UrlImportError(
                    f"This address redirects more than {limits.max_redirects} times."
                )
    except TimeoutError:
        raise UrlImportError(
            f"The page took longer than {limits.timeout_s:g} seconds to download."
        ) from None
    except (httpcore.ConnectError, httpcore.ConnectTimeout, OSError):
        raise UrlImportError(f"Could not connect to {urlsplit(current).hostname}.") from None
    except ssl.SSLError:
        raise UrlImportError(
            f"The secure connection to {urlsplit(current).hostname} failed (certificate or TLS)."
        ) from None
    except (httpcore.UnsupportedProtocol, httpcore.LocalProtocolError):
        raise UrlImportError(INVALID_URL) from None
    except (httpcore.ProtocolError, httpcore.NetworkError, httpcore.TimeoutException):
        raise UrlImportError(
            f"{urlsplit(current).hostname} sent a response that could not be read."
        ) from None


def _redirect_target(url: str, response: httpcore.Response) -> str:
    location = _header(response, b"location")
    if not location:
        raise UrlImportError(f"The page answered {response.status} without a new address.")
    return check_url(urljoin(url, location))


async def _read(url: str, response: httpcore.Response, limits: FetchLimits) -> FetchedDocument:
    if response.status != 200:
        try:
            phrase = f" ({HTTPStatus(response.status).phrase.lower()})"
        except ValueError:
            phrase = ""
        raise UrlImportError(f"The page answered with HTTP status {response.status}{phrase}.")
    media_type = (_header(response, b"content-type") or "").split(";")[0].strip().lower()
    kind = ACCEPTED_TYPES.get(media_type)
    if kind is None:
        shown = media_type or "no content type"
        raise UnsupportedContent(
            f"This address returns {shown}; DocChat imports web pages (HTML) and PDF files."
        )
    declared = _header(response, b"content-length")
    if declared and declared.isdigit() and int(declared) > limits.max_bytes:
        raise TooLarge(_too_large(limits))
    decoder = _decoder(_header(response, b"content-encoding"))
    body = bytearray()
    async for piece in response.aiter_stream():
        # An inflated piece is cut one byte past the limit: enough to know it is too large.
        body += decoder(piece, limits.max_bytes - len(body) + 1) if decoder else piece
        if len(body) > limits.max_bytes:
            raise TooLarge(_too_large(limits))
    data = bytes(body)
    if not data:
        raise UrlImportError("The page is empty.")
    if kind is DocumentKind.PDF and b"%PDF-" not in data[:1024]:
        raise UnsupportedContent("This address says it returns a PDF, but it is not one.")
    return FetchedDocument(url=url, data=data, kind=kind, filename=_filename(url, data, kind))


def _decoder(encoding: str | None) -> Any:
    """A bounded gzip/deflate decoder (``(piece, max_out) -> bytes``), or None for none."""
    encoding = (encoding or "identity").strip().lower()
    if encoding == "identity":
        return None
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise UnsupportedContent(
            f"The page is compressed with {encoding}, which DocChat cannot read."
        )
    # 47: a zlib or gzip header, detected; raw deflate is what some servers send as "deflate".
    decompressor = zlib.decompressobj(47)

    def decode(piece: bytes, max_out: int) -> bytes:
        try:
            return decompressor.decompress(piece, max(max_out, 1))
        except zlib.error:
            raise UrlImportError("The page's compressed data is damaged.") from None

    return decode


def _too_large(limits: FetchLimits) -> str:
    return f"The page is larger than {limits.max_bytes // (1024 * 1024)} MB, the import limit."


def _header(response: httpcore.Response, name: bytes) -> str | None:
    for key, value in response.headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _filename(url: str, data: bytes, kind: DocumentKind) -> str:
    """The page's title (HTML) or the URL's last path segment, with the format's extension."""
    parts = urlsplit(url)
    stem = ""
    if kind is DocumentKind.WEBPAGE:
        match = TITLE.search(data[:TITLE_SNIFF_BYTES])
        if match:
            stem = html.unescape(match.group(1).decode("utf-8", errors="replace"))
    if not stem.strip():
        segment = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
        stem = segment.rsplit(".", 1)[0] if segment else parts.hostname or "page"
    extension = ".pdf" if kind is DocumentKind.PDF else ".html"
    return sanitize_filename(" ".join(stem.split())[:150] + extension)
