"""STARTTLS: the plaintext exchange that turns a mail, directory or database connection into TLS.

`negotiate_starttls` runs on an open stream and returns once the next byte the client sends may be a
ClientHello. Every read is bounded by the overall timeout and by a maximum line or message size; a
server that says no, or says something that is not its protocol, raises `StartTlsRefused` (a fact
about the server); a timeout or a network error raises `ProbeError` (the result is unknown).
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable

from tlsaudit.errors import ProbeError, UsageError

MAX_LINE = 4096
MAX_LINES = 200
MAX_MESSAGE = 65536
CLIENT_NAME = "tlsaudit.invalid"

PROTOCOLS: tuple[str, ...] = ("smtp", "imap", "pop3", "ftp", "ldap", "postgres", "xmpp")

# Ports and URL schemes where the plaintext protocol comes first.
STARTTLS_PORTS: dict[int, str] = {
    25: "smtp",
    587: "smtp",
    143: "imap",
    110: "pop3",
    21: "ftp",
    389: "ldap",
    5432: "postgres",
    5222: "xmpp",
}
STARTTLS_SCHEMES: dict[str, str] = {
    "smtp": "smtp",
    "submission": "smtp",
    "imap": "imap",
    "pop3": "pop3",
    "pop": "pop3",
    "ftp": "ftp",
    "ldap": "ldap",
    "postgres": "postgres",
    "postgresql": "postgres",
    "xmpp": "xmpp",
}
# Ports and schemes that speak TLS from the first byte (no STARTTLS even on a STARTTLS-ish service).
IMPLICIT_TLS_PORTS: frozenset[int] = frozenset({443, 465, 636, 853, 990, 993, 995, 5223, 8443})
IMPLICIT_TLS_SCHEMES: frozenset[str] = frozenset(
    {"https", "smtps", "imaps", "pop3s", "ftps", "ldaps", "xmpps"}
)


def _xml_attribute(value: str) -> str:
    """A quoted XML attribute value (the stdlib helper drags in urllib at import time)."""
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return f'"{escaped}"'


class StartTlsRefused(ProbeError):
    """The server refused STARTTLS or answered with something that is not its protocol."""


def starttls_for(scheme: str | None, port: int, explicit: str | None) -> str | None:
    """The STARTTLS protocol to use: `explicit` (a --starttls value, "none" for off) wins, then the
    URL scheme, then the well-known port. None means TLS from the first byte."""
    if explicit is not None:
        value = explicit.strip().lower()
        if value in ("none", "off", "no"):
            return None
        value = STARTTLS_SCHEMES.get(value, value)
        if value not in PROTOCOLS:
            raise UsageError(f"unknown STARTTLS protocol {explicit!r} (choose from {', '.join(PROTOCOLS)})")
        return value
    if scheme is not None:
        s = scheme.lower()
        if s in IMPLICIT_TLS_SCHEMES:
            return None
        if s in STARTTLS_SCHEMES:
            return STARTTLS_SCHEMES[s]
    if port in IMPLICIT_TLS_PORTS:
        return None
    return STARTTLS_PORTS.get(port)


async def negotiate_starttls(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    protocol: str,
    server_name: str,
    timeout: float,
) -> None:
    """Run the STARTTLS exchange of `protocol` on an open connection."""
    handler = _HANDLERS.get(protocol)
    if handler is None:
        raise UsageError(f"unknown STARTTLS protocol {protocol!r} (choose from {', '.join(PROTOCOLS)})")
    session = _Session(reader, writer)
    try:
        await asyncio.wait_for(handler(session, server_name), timeout)
    except TimeoutError as exc:
        raise ProbeError(
            f"timeout during {protocol} STARTTLS (last reply: {session.last or 'none'})"
        ) from exc
    except (ConnectionError, OSError) as exc:
        raise ProbeError(f"connection error during {protocol} STARTTLS: {exc}") from exc
    except asyncio.IncompleteReadError as exc:
        raise StartTlsRefused(
            f"{protocol}: connection closed by the server (last reply: {session.last or 'none'})"
        ) from exc


def printable(data: bytes | str, limit: int = 160) -> str:
    """Server text made safe to show: printable ASCII only, bounded length."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = "".join(ch if ch.isprintable() and ord(ch) < 127 else "?" for ch in text.strip())
    return text if len(text) <= limit else text[:limit] + "..."


class _Session:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.last = ""

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def line(self) -> str:
        try:
            raw = await self.reader.readuntil(b"\n")
        except asyncio.LimitOverrunError as exc:
            raise StartTlsRefused(f"a reply line longer than {MAX_LINE} bytes") from exc
        if len(raw) > MAX_LINE:
            raise StartTlsRefused(f"a reply line longer than {MAX_LINE} bytes")
        self.last = printable(raw)
        return raw.decode("latin-1").rstrip("\r\n")

    async def exactly(self, n: int) -> bytes:
        return await self.reader.readexactly(n)

    async def coded_reply(self, what: str) -> tuple[int, list[str]]:
        """An SMTP/FTP reply: `ddd-text` lines (FTP: any text) ending with `ddd text`."""
        text = await self.line()
        if not (text[:3].isdigit() and text[3:4] in ("", " ", "-")):
            raise StartTlsRefused(f"{what}: not a valid reply: {printable(text)}")
        code, lines = text[:3], [text]
        while not (text.startswith(code) and text[3:4] in ("", " ")):
            if len(lines) >= MAX_LINES:
                raise StartTlsRefused(f"{what}: reply of more than {MAX_LINES} lines")
            text = await self.line()
            lines.append(text)
        return int(code), lines


Handler = Callable[[_Session, str], Awaitable[None]]


async def _smtp(s: _Session, server_name: str) -> None:
    code, lines = await s.coded_reply("smtp greeting")
    if code != 220:
        raise StartTlsRefused(f"smtp: greeting {printable(lines[-1])}")
    await s.send(f"EHLO {CLIENT_NAME}\r\n".encode())
    code, lines = await s.coded_reply("smtp EHLO")
    if code != 250:
        raise StartTlsRefused(f"smtp: EHLO answered {printable(lines[-1])}")
    advertised = any(line[4:].strip().upper().startswith("STARTTLS") for line in lines)
    await s.send(b"STARTTLS\r\n")
    code, lines = await s.coded_reply("smtp STARTTLS")
    if code != 220:
        note = "" if advertised else " (STARTTLS not advertised)"
        raise StartTlsRefused(f"smtp: STARTTLS answered {printable(lines[-1])}{note}")


async def _imap(s: _Session, server_name: str) -> None:
    greeting = await s.line()
    if not greeting.upper().startswith("* OK"):
        raise StartTlsRefused(f"imap: greeting {printable(greeting)}")
    await s.send(b"a STARTTLS\r\n")
    for _ in range(MAX_LINES):
        reply = await s.line()
        if reply.startswith("* "):
            continue
        if reply.upper().startswith("A OK"):
            return
        raise StartTlsRefused(f"imap: STARTTLS answered {printable(reply)}")
    raise StartTlsRefused("imap: too many untagged replies")


async def _pop3(s: _Session, server_name: str) -> None:
    greeting = await s.line()
    if not greeting.startswith("+OK"):
        raise StartTlsRefused(f"pop3: greeting {printable(greeting)}")
    await s.send(b"STLS\r\n")
    reply = await s.line()
    if not reply.startswith("+OK"):
        raise StartTlsRefused(f"pop3: STLS answered {printable(reply)}")


async def _ftp(s: _Session, server_name: str) -> None:
    code, lines = await s.coded_reply("ftp greeting")
    if code != 220:
        raise StartTlsRefused(f"ftp: greeting {printable(lines[-1])}")
    await s.send(b"AUTH TLS\r\n")
    code, lines = await s.coded_reply("ftp AUTH TLS")
    if code != 234:
        raise StartTlsRefused(f"ftp: AUTH TLS answered {printable(lines[-1])}")


_LDAP_STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"
_LDAP_RESULT_NAMES = {2: "protocolError", 52: "unavailable", 53: "unwillingToPerform", 1: "operationsError"}


def ldap_starttls_request(message_id: int = 1) -> bytes:
    """LDAPMessage { messageID, [APPLICATION 23] ExtendedRequest { [0] requestName } } in BER."""
    name = b"\x80" + bytes([len(_LDAP_STARTTLS_OID)]) + _LDAP_STARTTLS_OID
    op = b"\x77" + bytes([len(name)]) + name
    msg_id = b"\x02\x01" + bytes([message_id])
    body = msg_id + op
    return b"\x30" + bytes([len(body)]) + body


async def _ber_element(s: _Session) -> tuple[int, bytes]:
    tag = (await s.exactly(1))[0]
    first = (await s.exactly(1))[0]
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4:
            raise StartTlsRefused("ldap: not a BER-encoded reply")
        length = int.from_bytes(await s.exactly(n), "big")
    if length > MAX_MESSAGE:
        raise StartTlsRefused("ldap: reply too long")
    return tag, await s.exactly(length)


def _ber_items(data: bytes) -> list[tuple[int, bytes]]:
    items: list[tuple[int, bytes]] = []
    i = 0
    while i < len(data):
        if i + 2 > len(data):
            raise StartTlsRefused("ldap: truncated BER element")
        tag, first = data[i], data[i + 1]
        i += 2
        if first >= 0x80:
            n = first & 0x7F
            if n == 0 or n > 4 or i + n > len(data):
                raise StartTlsRefused("ldap: bad BER length")
            length = int.from_bytes(data[i : i + n], "big")
            i += n
        else:
            length = first
        if i + length > len(data):
            raise StartTlsRefused("ldap: truncated BER element")
        items.append((tag, data[i : i + length]))
        i += length
    return items


async def _ldap(s: _Session, server_name: str) -> None:
    await s.send(ldap_starttls_request())
    tag, body = await _ber_element(s)
    if tag != 0x30:
        raise StartTlsRefused(f"ldap: not an LDAP message (tag 0x{tag:02x})")
    items = _ber_items(body)
    if len(items) < 2 or items[0][0] != 0x02:
        raise StartTlsRefused("ldap: malformed LDAPMessage")
    op_tag, op = items[1]
    if op_tag != 0x78:  # [APPLICATION 24] ExtendedResponse (also used for a notice of disconnection)
        raise StartTlsRefused(f"ldap: unexpected reply (tag 0x{op_tag:02x})")
    fields = _ber_items(op)
    if len(fields) < 3 or fields[0][0] != 0x0A:
        raise StartTlsRefused("ldap: malformed ExtendedResponse")
    code = int.from_bytes(fields[0][1], "big")
    s.last = f"resultCode {code}"
    if code != 0:
        name = _LDAP_RESULT_NAMES.get(code, str(code))
        raise StartTlsRefused(f"ldap: StartTLS answered {name}: {printable(fields[2][1])}")


_PG_SSL_REQUEST = struct.pack("!II", 8, 80877103)


async def _postgres(s: _Session, server_name: str) -> None:
    await s.send(_PG_SSL_REQUEST)
    answer = await s.exactly(1)
    s.last = printable(answer)
    if answer == b"S":
        return
    if answer == b"N":
        raise StartTlsRefused("postgres: the server does not accept SSL (answered 'N')")
    raise StartTlsRefused(f"postgres: unexpected answer to SSLRequest: {answer!r}")


_XMPP_TLS_NS = "urn:ietf:params:xml:ns:xmpp-tls"


async def _xml_until(s: _Session, markers: tuple[bytes, ...], what: str) -> bytes:
    buf = b""
    while not any(m in buf for m in markers):
        chunk = await s.reader.read(4096)
        if not chunk:
            raise StartTlsRefused(f"xmpp: connection closed while waiting for {what}")
        buf += chunk
        s.last = printable(buf[-160:])
        if len(buf) > MAX_MESSAGE:
            raise StartTlsRefused(f"xmpp: more than {MAX_MESSAGE} bytes without {what}")
        if b"<stream:error" in buf and b"</stream:error>" in buf:
            error = printable(buf[buf.index(b"<stream:error") :])
            # RFC 6120 4.7.2: the stream names the XMPP domain; an address is rarely one the server serves.
            hint = " (name the XMPP domain with --sni DOMAIN)" if b"host-unknown" in buf else ""
            raise StartTlsRefused(f"xmpp: stream error: {error}{hint}")
    return buf


async def _xmpp(s: _Session, server_name: str) -> None:
    header = (
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
        f"xmlns:stream='http://etherx.jabber.org/streams' to={_xml_attribute(server_name)} version='1.0'>"
    )
    await s.send(header.encode())
    features = await _xml_until(s, (b"</stream:features>", b"<stream:features/>"), "stream features")
    if b"starttls" not in features:
        raise StartTlsRefused("xmpp: STARTTLS not offered in the stream features")
    await s.send(f"<starttls xmlns='{_XMPP_TLS_NS}'/>".encode())
    reply = await _xml_until(s, (b"<proceed", b"<failure"), "proceed")
    if b"<proceed" not in reply:
        raise StartTlsRefused("xmpp: STARTTLS answered <failure/>")


_HANDLERS: dict[str, Handler] = {
    "smtp": _smtp,
    "imap": _imap,
    "pop3": _pop3,
    "ftp": _ftp,
    "ldap": _ldap,
    "postgres": _postgres,
    "xmpp": _xmpp,
}
