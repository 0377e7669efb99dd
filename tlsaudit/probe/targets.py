"""Parse what the user typed into targets, and resolve names to every address they have."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from tlsaudit.errors import TargetsFileError, TargetsFileErrors, UsageError
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


def _split_address(raw: str) -> tuple[str, str | None]:
    """`NAME[:PORT]{IP}`: the part in braces is the address to connect to (the name stays the SNI)."""
    if not raw.endswith("}"):
        if "{" in raw or "}" in raw:
            raise UsageError(f"unbalanced braces in {raw!r} (the address goes last: host:port{{ip}})")
        return raw, None
    opening = raw.rfind("{")
    if opening <= 0 or "{" in raw[:opening] or "}" in raw[:-1]:
        raise UsageError(f"unbalanced braces in {raw!r} (the address goes last: host:port{{ip}})")
    text = raw[opening + 1 : -1].strip().strip("[]")
    try:
        address = str(ipaddress.ip_address(text))
    except ValueError as exc:
        raise UsageError(f"{text!r} in braces is not an IP address") from exc
    return raw[:opening].strip(), address


def parse_target(
    text: str, *, default_port: int = DEFAULT_PORT, sni: str | None = None, starttls: str | None = None
) -> Target:
    """host, host:port, [v6]:port, v6, IP, https://host[:port]/path, smtp://host (STARTTLS by scheme);
    any of them followed by `{IP}` to connect to that address while sending the name as SNI."""
    raw = text.strip()
    if not raw:
        raise UsageError("empty target")
    spec, address = _split_address(raw)
    if not spec:
        raise UsageError(f"no host before the address in {raw!r}")
    scheme_starttls: str | None = None
    port = default_port
    if "://" in spec:
        parts = urlsplit(spec)
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
    elif spec.startswith("["):
        close = spec.find("]")
        if close < 0:
            raise UsageError(f"unbalanced '[' in {raw!r}")
        host = spec[1:close]
        rest = spec[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise UsageError(f"unexpected text after ']' in {raw!r}")
            port = _check_port(rest[1:])
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise UsageError(f"{host!r} in brackets is not an IPv6 address") from exc
    elif spec.count(":") > 1:
        host = spec  # a bare IPv6 literal
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise UsageError(f"{spec!r} is neither host:port nor an IPv6 address") from exc
    elif ":" in spec:
        host, port_text = spec.rsplit(":", 1)
        port = _check_port(port_text)
    else:
        host = spec
    host = _check_host(host)
    if address == host:
        address = None
    return Target(
        raw=raw, host=host, port=port, sni=sni, starttls=starttls or scheme_starttls, address=address
    )


def parse_targets_file(
    lines: Iterable[str], source: str, *, default_port: int = DEFAULT_PORT
) -> list[Target]:
    """One target per line; '#' starts a comment. Every bad line is reported (`FILE:LINE: reason`), all at
    once; a file without any target is an error of its own."""
    targets: list[Target] = []
    problems: list[TargetsFileError] = []
    for number, line in enumerate(lines, start=1):
        text = line.lstrip("\ufeff").split("#", 1)[0].strip()
        if not text:
            continue
        if len(text.split()) != 1:
            problems.append(TargetsFileError(source, number, line, "one target per line expected"))
            continue
        try:
            targets.append(parse_target(text, default_port=default_port))
        except UsageError as exc:
            problems.append(TargetsFileError(source, number, line, str(exc)))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise TargetsFileErrors(problems)
    if not targets:
        raise UsageError(f"no targets in {source}")
    return targets


def parse_targets(texts: Iterable[str], *, default_port: int = DEFAULT_PORT) -> list[Target]:
    """Targets given on the command line; every bad one is reported (one line each), not only the first."""
    targets: list[Target] = []
    problems: list[str] = []
    for text in texts:
        try:
            targets.append(parse_target(text, default_port=default_port))
        except UsageError as exc:
            problems.append(f"target {text!r}: {exc}")
    if problems:
        raise UsageError("\n".join(problems))
    return targets


def target_key(target: Target) -> tuple[str, int, str | None, str | None, str | None]:
    """What makes two targets the same scan, however they were written (`[::1]:443`, `https://[::1]/`)."""
    return (target.host, target.port, target.starttls, target.sni, target.address)


def unique_targets(targets: Iterable[Target]) -> list[Target]:
    """The targets in their first-seen order, each endpoint once."""
    seen: dict[tuple[str, int, str | None, str | None, str | None], Target] = {}
    for target in targets:
        seen.setdefault(target_key(target), target)
    return list(seen.values())


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
    if target.address is not None:
        return Resolution(target=target, addresses=(target.address,))
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
