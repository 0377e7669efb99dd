"""The capture listener against real clients and raw sockets on loopback."""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.capture.conftest import tool
from tests.conftest import IPV6_LOOPBACK
from tlsaudit.capture.certs import CaptureCredentials, generate_credentials
from tlsaudit.capture.listener import Capture, CaptureServer
from tlsaudit.tls.client_hello import build_sslv2_client_hello

RECORDED = Path(__file__).parents[1] / "data" / "client_hellos"


@pytest.fixture(scope="module")
def creds(tmp_path_factory: pytest.TempPathFactory) -> CaptureCredentials:
    return generate_credentials(tmp_path_factory.mktemp("pki"))


def serve(
    creds: CaptureCredentials, client: Callable[[int], Awaitable[object]], io_timeout: float = 5.0
) -> list[Capture]:
    async def main() -> list[Capture]:
        seen: list[Capture] = []
        async with CaptureServer("127.0.0.1", 0, seen.append, creds, io_timeout=io_timeout) as server:
            await client(server.port)
            await server.settle()
        return seen

    return asyncio.run(asyncio.wait_for(main(), 60))


async def raw_client(port: int, payload: bytes, *, pause: float = 0.0, chunk: int = 0) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    pieces = [payload[i : i + chunk] for i in range(0, len(payload), chunk)] if chunk else [payload]
    for piece in pieces:
        writer.write(piece)
        await writer.drain()
        if pause:
            await asyncio.sleep(pause)
    try:
        answer = await asyncio.wait_for(reader.read(5), 3)
    except TimeoutError:
        answer = b""
    writer.close()
    await writer.wait_closed()
    return answer


async def subprocess_client(*argv: str) -> int:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    return await asyncio.wait_for(proc.wait(), 30)


def test_curl_trusting_the_ca_completes_tls13(creds: CaptureCredentials) -> None:
    curl = tool("curl")
    [cap] = serve(
        creds,
        lambda port: subprocess_client(
            curl, "-sS", "--cacert", str(creds.ca_file), f"https://localhost:{port}/"
        ),
    )
    assert cap.outcome == "completed TLSv1.3"
    assert cap.completed and cap.negotiated_version == "TLSv1.3"
    assert cap.hello is not None and cap.hello.sni == "localhost"
    assert cap.raw_hello[:1] == b"\x16" and len(cap.raw_hello) == cap.hello.wire_length


def test_curl_without_the_ca_aborts_with_an_alert(creds: CaptureCredentials) -> None:
    curl = tool("curl")
    [cap] = serve(creds, lambda port: subprocess_client(curl, "-sS", f"https://localhost:{port}/"))
    assert cap.outcome == "client aborted: alert unknown_ca"
    assert not cap.completed
    assert cap.hello is not None and "TLSv1.3" in cap.hello.versions_offered


def test_a_tls10_only_client_completes_tls10(creds: CaptureCredentials) -> None:
    """Security level 0 on the listener: a client limited to TLS 1.0 still completes, and is seen to."""

    async def client(port: int) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(str(creds.ca_file))
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with pytest.warns(DeprecationWarning):
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=ctx, server_hostname="localhost"
        )
        writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert (await reader.read(15)).startswith(b"HTTP/1.1 200")
        writer.close()

    [cap] = serve(creds, client)
    assert cap.outcome == "completed TLSv1.0"
    assert cap.hello is not None and cap.hello.versions_offered == ("TLSv1.0",)


def test_plain_http_is_named(creds: CaptureCredentials) -> None:
    [cap] = serve(creds, lambda port: raw_client(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert cap.outcome == "not TLS: plain HTTP request"
    assert cap.hello is None


def test_sslv2_format_hello_is_recognised(creds: CaptureCredentials) -> None:
    [cap] = serve(creds, lambda port: raw_client(port, build_sslv2_client_hello()))
    assert cap.hello is not None and cap.hello.sslv2_format
    assert cap.outcome == "not completed: SSLv2-format ClientHello"


def test_hello_trickling_in_split_records_is_read_and_answered(creds: CaptureCredentials) -> None:
    whole = (RECORDED / "python_urllib.bin").read_bytes()
    (length,) = struct.unpack(">H", whole[3:5])
    message = whole[5 : 5 + length]
    split = b"".join(
        whole[:3] + struct.pack(">H", len(message[i : i + 50])) + message[i : i + 50]
        for i in range(0, len(message), 50)
    )
    answers: list[bytes] = []

    async def client(port: int) -> None:
        answers.append(await raw_client(port, split, pause=0.01, chunk=33))

    [cap] = serve(creds, client)
    assert cap.hello is not None and cap.hello.records > 5
    assert cap.hello.versions_offered == ("TLSv1.2", "TLSv1.3")
    assert answers[0][:1] == b"\x16"  # our ServerHello came back
    assert cap.outcome == "client closed during handshake"


def test_silent_and_stalled_clients(creds: CaptureCredentials) -> None:
    async def client(port: int) -> None:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        await raw_client(port, (RECORDED / "curl.bin").read_bytes()[:40], pause=1.0)

    caps = serve(creds, client, io_timeout=0.5)
    outcomes = sorted(c.outcome for c in caps)
    assert outcomes == ["client closed without sending anything", "timeout mid-ClientHello"]


@pytest.mark.skipif(not IPV6_LOOPBACK, reason="IPv6 loopback ::1 is not available on this machine")
def test_listens_on_both_loopback_addresses_on_one_port(creds: CaptureCredentials) -> None:
    async def main() -> list[Capture]:
        seen: list[Capture] = []
        async with CaptureServer(("127.0.0.1", "::1"), 0, seen.append, creds) as server:
            for host in ("127.0.0.1", "::1"):
                with socket.create_connection((host, server.port), timeout=5) as sock:
                    sock.sendall(b"HEAD / HTTP/1.0\r\n\r\n")
            await asyncio.sleep(0.2)
            await server.settle()
        return seen

    caps = asyncio.run(main())
    assert sorted(c.peer.rsplit(":", 1)[0] for c in caps) == ["127.0.0.1", "[::1]"]
    assert {c.outcome for c in caps} == {"not TLS: plain HTTP request"}


def test_a_client_trickling_bytes_meets_the_connection_deadline(creds: CaptureCredentials) -> None:
    hello = (RECORDED / "curl.bin").read_bytes()

    async def client(port: int) -> None:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in range(len(hello)):
                writer.write(hello[i : i + 1])
                await writer.drain()
                await asyncio.sleep(0.1)
        except ConnectionError:
            pass  # the listener gave up on us, as it should
        finally:
            writer.close()

    begin = time.monotonic()
    [cap] = serve(creds, lambda port: asyncio.wait_for(client(port), 5), io_timeout=0.4)
    assert cap.outcome == "timeout: connection still open after 1.2 s"
    assert time.monotonic() - begin < 8


_CLOSE_WITH_OPEN_CONNECTION = """
import asyncio, gc, sys
from pathlib import Path
from tlsaudit.capture.certs import generate_credentials
from tlsaudit.capture.listener import CaptureServer

async def main() -> None:
    creds = generate_credentials(Path(sys.argv[1]))
    seen = []
    server = CaptureServer("127.0.0.1", 0, seen.append, creds, io_timeout=30)
    await server.start()
    held = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(3)]
    held[1][1].write(b"\\x16\\x03\\x01\\x00")  # one stalls mid-record, the others before sending anything
    await asyncio.sleep(0.5)
    await server.close()
    for _, writer in held:
        writer.close()
    print("closed", len(seen))

asyncio.run(main())
gc.collect()
"""


def test_closing_with_connections_open_is_quiet(tmp_path: Path) -> None:
    """Closing the listener while clients hold connections open ends them without a traceback, a
    "Task was destroyed but it is pending" warning or a CancelledError on stderr."""
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", _CLOSE_WITH_OPEN_CONNECTION, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "closed 0"
    for noise in ("Traceback", "Task was destroyed", "CancelledError", "Exception in callback"):
        assert noise not in done.stderr, done.stderr
