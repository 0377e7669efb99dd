"""Parse what the user typed into targets, and resolve names to every address they have."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from tlsaudit.errors import TargetsFileError, UsageError
from tlsaudit.models import Target

DEFAULT_PORT = 443

# scheme -> (default port, STARTTLS protocol or None for implicit TLS)
SCHEMES: dict[str, tuple[int, str | None]] = {
    "https": (443, None),
    "tls": (443, None),
    "smtp": (25, "smtp"),
    "submission": (587, "smtp"),
    "smtps": (465, None),
    "imap": (143, "imap"),
    "imaps": (993, None),
    "pop3": (110, "pop3"),
    "pop3s": (995, None),
    "ftp": (21, "ftp"),
    "ftps": (990, None),
    "ldap": (389, "ldap"),
    "ldaps": (636, None),
    "postgres": (5432, "postgres"),
    "postgresql": (5432, "postgres"),
    "xmpp": (5222, "xmpp"),
}

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$"
)


def _check_host(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as exc:
        raise UsageError(f"invalid host name {host!r}") from exc
    if not _HOSTNAME.match(ascii_host):
        raise UsageError(f"invalid host name {host!r}")
    return ascii_host.rstrip(".").lower()


def _check_port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UsageError(f"invalid port {text!r}")
    return int(text)


def parse_target(
    text: str, *, default_port: int = DEFAULT_PORT, sni: str | None = None, starttls: str | None = None
) -> Target:
    """host, host:port, [v6]:port, v6, IP, https://host[:port]/path, smtp://host (STARTTLS by scheme)."""
    raw = text.strip()
    if not raw:
        raise UsageError("empty target")
    scheme_starttls: str | None = None
    port = default_port
    if "://" in raw:
        parts = urlsplit(raw)
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            raise UsageError(
                f"unsupported scheme {scheme!r} in {raw!r} (known: {', '.join(sorted(SCHEMES))})"
            )
        port, scheme_starttls = SCHEMES[scheme]
        try:
            if parts.port is not None:
                port = parts.port
        except ValueError as exc:
            raise UsageError(f"invalid port in {raw!r}") from exc
        if not parts.hostname:
            raise UsageError(f"no host in {raw!r}")
        host = parts.hostname
    elif raw.startswith("["):
        close = raw.find("]")
        if close < 0:
            raise UsageError(f"unbalanced '[' in {raw!r}")
        host = raw[1:close]
        rest = raw[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise UsageError(f"unexpected text after ']' in {raw!r}")
            port = _check_port(rest[1:])
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise UsageError(f"{host!r} in brackets is not an IPv6 address") from exc
    elif raw.count(":") > 1:
        host = raw  # a bare IPv6 literal
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise UsageError(f"{raw!r} is neither host:port nor an IPv6 address") from exc
    elif ":" in raw:
        host, port_text = raw.rsplit(":", 1)
        port = _check_port(port_text)
    else:
        host = raw
    host = _check_host(host)
    return Target(raw=raw, host=host, port=port, sni=sni, starttls=starttls or scheme_starttls)


def parse_targets_file(
    lines: Iterable[str], source: str, *, default_port: int = DEFAULT_PORT
) -> list[Target]:
    """One target per line; '#' starts a comment; a bad line names its number."""
    targets: list[Target] = []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if len(text.split()) != 1:
            raise TargetsFileError(source, number, line, "one target per line expected")
        try:
            targets.append(parse_target(text, default_port=default_port))
        except UsageError as exc:
            raise TargetsFileError(source, number, line, str(exc)) from exc
    return targets


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    target: Target
    addresses: tuple[str, ...]
    error: str = ""


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def resolve(target: Target, *, timeout: float) -> Resolution:
    """Every IPv4 and IPv6 address of the name, in a stable order (IPv4 first)."""
    if is_ip(target.host):
        return Resolution(target=target, addresses=(target.host,))
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except TimeoutError:
        return Resolution(target=target, addresses=(), error=f"name resolution timed out after {timeout:g}s")
    except socket.gaierror as exc:
        return Resolution(target=target, addresses=(), error=f"name resolution failed: {exc.strerror}")
    seen: list[str] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])
        if family in (socket.AF_INET, socket.AF_INET6) and address not in seen:
            seen.append(address)
    ordered = sorted(seen, key=lambda a: (ipaddress.ip_address(a).version, ipaddress.ip_address(a)))
    return Resolution(target=target, addresses=tuple(ordered))
