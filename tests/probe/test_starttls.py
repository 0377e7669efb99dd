"""STARTTLS against real servers (PostgreSQL, Dovecot, aiosmtpd) and against misbehaving peers."""

from __future__ import annotations

import asyncio
import shutil
import ssl
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from tests.probe import daemons, pki
from tlsaudit.errors import ProbeError, UsageError
from tlsaudit.probe.chain_fetch import fetch_chain, fetch_chain_over
from tlsaudit.probe.starttls import (
    StartTlsRefused,
    ldap_starttls_request,
    negotiate_starttls,
    starttls_for,
)

TIMEOUT = 5.0


@pytest.fixture(scope="module")
def leaf() -> pki.Issued:
    return pki.make_leaf(None, names=("localhost", "127.0.0.1"))


async def _starttls_then_chain(port: int, protocol: str) -> tuple[bytes, ...]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await negotiate_starttls(reader, writer, protocol, "localhost", TIMEOUT)
        return await fetch_chain_over(reader, writer, server_name="localhost", timeout=TIMEOUT)
    finally:
        writer.close()


async def _starttls_only(port: int, protocol: str, timeout: float = TIMEOUT) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await negotiate_starttls(reader, writer, protocol, "localhost", timeout)
    finally:
        writer.close()


# ------------------------------------------------------------------ choosing the protocol


@pytest.mark.parametrize(
    ("scheme", "port", "explicit", "expected"),
    [
        (None, 25, None, "smtp"),
        (None, 587, None, "smtp"),
        (None, 465, None, None),
        (None, 143, None, "imap"),
        (None, 993, None, None),
        (None, 110, None, "pop3"),
        (None, 995, None, None),
        (None, 21, None, "ftp"),
        (None, 389, None, "ldap"),
        (None, 636, None, None),
        (None, 5432, None, "postgres"),
        (None, 5222, None, "xmpp"),
        (None, 443, None, None),
        (None, 8080, None, None),
        ("smtp", 2525, None, "smtp"),
        ("postgresql", 6543, None, "postgres"),
        ("https", 25, None, None),
        ("smtps", 25, None, None),
        (None, 443, "imap", "imap"),
        (None, 25, "none", None),
        ("smtp", 25, "pop3", "pop3"),
    ],
)
def test_starttls_for(scheme: str | None, port: int, explicit: str | None, expected: str | None) -> None:
    assert starttls_for(scheme, port, explicit) == expected


def test_unknown_starttls_protocol_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="gopher"):
        starttls_for(None, 25, "gopher")


def test_ldap_request_encoding() -> None:
    oid = b"1.3.6.1.4.1.1466.20037"
    assert ldap_starttls_request() == b"\x30\x1d\x02\x01\x01\x77\x18\x80\x16" + oid


# ------------------------------------------------------------------ PostgreSQL


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[Path]:
    if daemons.find_pg_bin("postgres") is None or daemons.find_pg_bin("initdb") is None:
        pytest.fail("PostgreSQL server (postgres, initdb) is not installed")
    with daemons.postgres_cluster() as base:
        yield base


def test_postgres_ssl_on(pg_cluster: Path, leaf: pki.Issued) -> None:
    with daemons.postgres_server(pg_cluster, ssl=True, cert_pem=leaf.pem, key_pem=leaf.key_pem) as pg:
        chain = asyncio.run(_starttls_then_chain(pg.port, "postgres"))
        assert chain == (leaf.der,)
        again = asyncio.run(fetch_chain("127.0.0.1", pg.port, server_name="localhost", starttls="postgres"))
        assert again == (leaf.der,)


def test_postgres_ssl_off_is_refused(pg_cluster: Path, leaf: pki.Issued) -> None:
    server = daemons.postgres_server(pg_cluster, ssl=False, cert_pem=leaf.pem, key_pem=leaf.key_pem)
    with server as pg, pytest.raises(StartTlsRefused, match="answered 'N'"):
        asyncio.run(_starttls_only(pg.port, "postgres"))


# ------------------------------------------------------------------ Dovecot (IMAP, POP3)


def _need_dovecot() -> None:
    if shutil.which("dovecot") is None and not Path("/usr/sbin/dovecot").exists():
        pytest.fail("dovecot (apt: dovecot-imapd dovecot-pop3d) is not installed")


def test_dovecot_imap_and_pop3(leaf: pki.Issued) -> None:
    _need_dovecot()
    with daemons.dovecot_server(ssl=True, cert_pem=leaf.pem, key_pem=leaf.key_pem) as dc:
        assert asyncio.run(_starttls_then_chain(dc.imap, "imap")) == (leaf.der,)
        assert asyncio.run(_starttls_then_chain(dc.pop3, "pop3")) == (leaf.der,)


def test_dovecot_without_tls_refuses(leaf: pki.Issued) -> None:
    _need_dovecot()
    with daemons.dovecot_server(ssl=False, cert_pem=leaf.pem, key_pem=leaf.key_pem) as dc:
        with pytest.raises(StartTlsRefused, match="imap: STARTTLS answered"):
            asyncio.run(_starttls_only(dc.imap, "imap"))
        with pytest.raises(StartTlsRefused, match="pop3: STLS answered"):
            asyncio.run(_starttls_only(dc.pop3, "pop3"))


# ------------------------------------------------------------------ OpenLDAP (slapd)


def _need_slapd() -> None:
    if daemons.find_slapd() is None:
        pytest.fail("slapd (apt: slapd) is not installed")


def test_slapd_starttls(leaf: pki.Issued) -> None:
    _need_slapd()
    with daemons.slapd_server(tls=True, cert_pem=leaf.pem, key_pem=leaf.key_pem) as ldap:
        assert asyncio.run(_starttls_then_chain(ldap.port, "ldap")) == (leaf.der,)


def test_slapd_without_tls_refuses(leaf: pki.Issued) -> None:
    _need_slapd()
    server = daemons.slapd_server(tls=False, cert_pem=leaf.pem, key_pem=leaf.key_pem)
    with server as ldap, pytest.raises(StartTlsRefused, match="ldap: StartTLS answered"):
        asyncio.run(_starttls_only(ldap.port, "ldap"))


# ------------------------------------------------------------------ XMPP (Prosody)


def _need_prosody() -> None:
    if daemons.find_prosody() is None:
        pytest.fail("prosody (apt: prosody) is not installed")


def test_prosody_starttls(leaf: pki.Issued) -> None:
    _need_prosody()
    with daemons.prosody_server(tls=True, cert_pem=leaf.pem, key_pem=leaf.key_pem) as xmpp:
        assert asyncio.run(_starttls_then_chain(xmpp.port, "xmpp")) == (leaf.der,)


def test_prosody_without_tls_refuses(leaf: pki.Issued) -> None:
    _need_prosody()
    server = daemons.prosody_server(tls=False, cert_pem=leaf.pem, key_pem=leaf.key_pem)
    with server as xmpp, pytest.raises(StartTlsRefused, match=r"xmpp: (STARTTLS not offered|stream error)"):
        asyncio.run(_starttls_only(xmpp.port, "xmpp"))


# ------------------------------------------------------------------ SMTP (aiosmtpd)


async def _with_aiosmtpd(
    leaf: pki.Issued, tmp_path: Path, *, tls: bool, body: Callable[[int], Awaitable[None]]
) -> None:
    from aiosmtpd.handlers import Sink
    from aiosmtpd.smtp import SMTP

    ctx: ssl.SSLContext | None = None
    if tls:
        cert, key = pki.write_server_files(tmp_path, "smtp", [leaf])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Sink(), tls_context=ctx), "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        await body(port)
    finally:
        server.close()
        await server.wait_closed()


def test_smtp_starttls(leaf: pki.Issued, tmp_path: Path) -> None:
    pytest.importorskip("aiosmtpd", reason="aiosmtpd (PyPI) is not installed")

    async def body(port: int) -> None:
        assert await _starttls_then_chain(port, "smtp") == (leaf.der,)

    asyncio.run(_with_aiosmtpd(leaf, tmp_path, tls=True, body=body))


def test_smtp_without_tls_refuses(leaf: pki.Issued, tmp_path: Path) -> None:
    pytest.importorskip("aiosmtpd", reason="aiosmtpd (PyPI) is not installed")

    async def body(port: int) -> None:
        with pytest.raises(StartTlsRefused, match=r"smtp: STARTTLS answered \d{3}"):
            await _starttls_only(port, "smtp")

    asyncio.run(_with_aiosmtpd(leaf, tmp_path, tls=False, body=body))


# ------------------------------------------------------------------ misbehaving peers


async def _with_canned(reply: bytes, body: Callable[[int], Awaitable[None]], *, after_bytes: int = 0) -> None:
    """A peer that sends `reply` (after reading `after_bytes` bytes from the client) and then waits."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if after_bytes:
                await reader.readexactly(after_bytes)
            writer.write(reply)
            await writer.drain()
            await reader.read(65536)
            await asyncio.sleep(10)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        await body(server.sockets[0].getsockname()[1])
    finally:
        server.close()


def _expect(reply: bytes, protocol: str, error: type[Exception], match: str, *, after_bytes: int = 0) -> None:
    async def body(port: int) -> None:
        with pytest.raises(error, match=match):
            await _starttls_only(port, protocol, timeout=1.0)

    asyncio.run(_with_canned(reply, body, after_bytes=after_bytes))


def test_http_server_on_smtp_probe_is_refused() -> None:
    _expect(b"HTTP/1.1 400 Bad Request\r\n\r\n", "smtp", StartTlsRefused, "not a valid reply")


def test_silent_server_is_a_timeout_not_a_refusal() -> None:
    async def body(port: int) -> None:
        with pytest.raises(ProbeError, match="timeout") as info:
            await _starttls_only(port, "smtp", timeout=0.5)
        assert not isinstance(info.value, StartTlsRefused)

    asyncio.run(_with_canned(b"", body))


def test_overlong_line_is_refused() -> None:
    _expect(b"220 " + b"x" * 10000 + b"\r\n", "smtp", StartTlsRefused, "longer than")


def test_endless_multiline_reply_is_refused() -> None:
    _expect(b"220-hello\r\n" * 300, "smtp", StartTlsRefused, "more than 200 lines")


def test_control_characters_are_made_inert() -> None:
    async def body(port: int) -> None:
        with pytest.raises(StartTlsRefused) as info:
            await _starttls_only(port, "pop3", timeout=1.0)
        assert "\x1b" not in info.value.reason
        assert "-ERR ?[31mno" in info.value.reason

    asyncio.run(_with_canned(b"-ERR \x1b[31mno\r\n", body))


def test_ftp_refusal() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220-Welcome\r\n continued text\r\n220 ready\r\n")
        await reader.readline()
        writer.write(b"530 Please login with USER and PASS.\r\n")
        await writer.drain()
        await reader.read(100)
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        try:
            with pytest.raises(StartTlsRefused, match="AUTH TLS answered 530"):
                await _starttls_only(server.sockets[0].getsockname()[1], "ftp", timeout=2.0)
        finally:
            server.close()

    asyncio.run(main())


def _ldap_response(code: int, diagnostic: bytes = b"") -> bytes:
    fields = b"\x0a\x01" + bytes([code]) + b"\x04\x00" + b"\x04" + bytes([len(diagnostic)]) + diagnostic
    op = b"\x78" + bytes([len(fields)]) + fields
    body = b"\x02\x01\x01" + op
    return b"\x30" + bytes([len(body)]) + body


def test_ldap_success_and_refusal_answers() -> None:
    request_len = len(ldap_starttls_request())

    async def ok(port: int) -> None:
        await _starttls_only(port, "ldap", timeout=1.0)

    asyncio.run(_with_canned(_ldap_response(0), ok, after_bytes=request_len))
    _expect(
        _ldap_response(2, b"unsupported extended operation"),
        "ldap",
        StartTlsRefused,
        "protocolError: unsupported extended operation",
        after_bytes=request_len,
    )
    _expect(b"\x30\x84\xff\xff\xff\xff", "ldap", StartTlsRefused, "too long", after_bytes=request_len)


def test_xmpp_answers() -> None:
    features = (
        b"<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
        b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
        b"</stream:features>"
    )

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"version='1.0'>")
        writer.write(features)
        await reader.readuntil(b"/>")
        writer.write(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        await writer.drain()
        await reader.read(100)
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        try:
            await _starttls_only(server.sockets[0].getsockname()[1], "xmpp", timeout=2.0)
        finally:
            server.close()

    asyncio.run(main())
    no_tls = b"<stream:stream version='1.0'><stream:features><mechanisms/></stream:features>"
    _expect(no_tls, "xmpp", StartTlsRefused, "not offered")
    unknown_host = (
        b"<stream:stream version='1.0'><stream:error><host-unknown "
        b"xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
    )
    _expect(unknown_host, "xmpp", StartTlsRefused, r"host-unknown.*name the XMPP domain with --sni DOMAIN")
