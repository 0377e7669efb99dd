"""The HTTP request sent after a full handshake, and how its answer is read: the status line and the
Strict-Transport-Security header (RFC 6797). Pure: bytes in, facts out; the handshake and the reading
happen in `chain_fetch`.
"""

from __future__ import annotations

import ipaddress
import re

from tlsaudit.models import Hsts, HttpCheck, HttpOutcome

# The most of the answer read: the status line and headers of any sane server fit in it.
MAX_HEADER_BYTES = 16384
_STATUS_LINE = re.compile(rb"^HTTP/\d(?:\.\d)? (\d{3})(?: [^\r\n]*)?$")
_DIRECTIVE_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an RFC 7230 token


def host_header(host: str, port: int) -> str:
    """The Host header a browser would send for https://host:port/ (IPv6 literals in brackets)."""
    try:
        is_v6 = ipaddress.ip_address(host.strip("[]")).version == 6
    except ValueError:
        is_v6 = False
    name = f"[{host.strip('[]')}]" if is_v6 else host
    return name if port == 443 else f"{name}:{port}"


def http_request(host: str, port: int) -> bytes:
    """One GET of `/` that asks the server to close afterwards (nothing is read past the headers)."""
    return (
        f"GET / HTTP/1.1\r\nHost: {host_header(host, port)}\r\nUser-Agent: tlsaudit\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n"
    ).encode("ascii")


def headers_complete(data: bytes) -> bool:
    """Enough has been read: the end of the headers, or the most we read."""
    return b"\r\n\r\n" in data or b"\n\n" in data or len(data) >= MAX_HEADER_BYTES


def read_answer(data: bytes, *, closed: bool) -> tuple[HttpCheck, Hsts | None]:
    """What the bytes received after the request say. `closed`: the server closed (or the read ended)
    before the end of the headers. Only the first Strict-Transport-Security header counts (RFC 6797 8.1)."""
    head = data[:MAX_HEADER_BYTES]
    first, _, rest = head.partition(b"\n")
    match = _STATUS_LINE.match(first.rstrip(b"\r"))
    if match is None:
        if not head:
            detail = "the server closed the connection without answering the HTTP request"
        else:
            detail = f"the answer is not HTTP: {first[:60]!r}"
        return HttpCheck(outcome=HttpOutcome.NOT_HTTP, detail=detail), None
    status = int(match.group(1))
    status_line = first.rstrip(b"\r").decode("latin-1")
    end = rest.find(b"\r\n\r\n")
    if end < 0 and not headers_complete(head) and closed:
        return (
            HttpCheck(
                outcome=HttpOutcome.FAILED, status=status, detail=f"headers cut off after {len(head)} bytes"
            ),
            None,
        )
    for line in rest.split(b"\n"):
        name, sep, value = line.rstrip(b"\r").partition(b":")
        if not line.strip(b"\r"):
            break  # end of the headers
        if sep and name.strip().lower() == b"strict-transport-security":
            return HttpCheck(outcome=HttpOutcome.ANSWERED, status=status, detail=status_line), parse_hsts(
                value.decode("latin-1")
            )
    return HttpCheck(outcome=HttpOutcome.ANSWERED, status=status, detail=status_line), None


def parse_hsts(value: str) -> Hsts | None:
    """RFC 6797 6.1: directives separated by `;`, names case-insensitive, values may be quoted. A header
    without a valid max-age, or with a directive twice, is ignored by browsers (6.1, 8.1): None."""
    seen: dict[str, str | None] = {}
    for part in value.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, raw = part.partition("=")
        name = name.strip().lower()
        if not _DIRECTIVE_NAME.match(name) or name in seen:
            return None
        seen[name] = raw.strip().strip('"') if sep else None
    max_age = seen.get("max-age")
    if max_age is None or not max_age.isdigit():
        return None
    return Hsts(
        max_age=int(max_age),
        include_subdomains="includesubdomains" in seen,
        preload="preload" in seen,
    )
