"""`tlsaudit capture`: a standalone listener a developer points a real application at.

Each connection prints one line (what the client offered, whether it would reach a TLS 1.2-only
server, how the handshake ended), or one JSON object per line with `--json`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from tlsaudit.capture.certs import CaptureCredentials, generate_credentials
from tlsaudit.capture.listener import Capture, CaptureServer
from tlsaudit.capture.probe import capture_to_facts
from tlsaudit.errors import UsageError
from tlsaudit.models import CaptureFacts, to_json

OnFacts = Callable[[CaptureFacts], None]


def check_loopback(host: str) -> None:
    """The listener only ever binds loopback addresses."""
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise UsageError(f"--host {host!r}: give a loopback address (127.0.0.1, ::1)") from None
    if not address.is_loopback:
        raise UsageError(f"--host {host}: the capture listener binds loopback addresses only")


def credentials_from_files(cert_file: str, key_file: str | None) -> CaptureCredentials:
    """A certificate (chain) and key of the user's; the key may sit in the certificate file."""
    cert = Path(cert_file)
    key = Path(key_file) if key_file else cert
    for path in (cert, key):
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
    return CaptureCredentials(cert_file=cert, key_file=key)


def verdict(facts: CaptureFacts) -> str:
    """Would this client reach a server that accepts TLS 1.2 only?"""
    if not facts.versions_offered:
        return "no TLS offer"
    if "TLSv1.2" in facts.versions_offered:
        return "survives TLS 1.2-only"
    if "TLSv1.3" in facts.versions_offered:
        return "TLS 1.3 only: fails a TLS 1.2-only server"
    return "FAILS a TLS 1.2-only server"


def format_line(facts: CaptureFacts) -> str:
    """One terminal line per connection."""
    offered = ",".join(facts.versions_offered) or "-"
    if facts.versions_offered and not facts.versions_exact:
        offered = "up to " + offered
    who = (
        facts.client if facts.client == facts.peer or not facts.peer else f"{facts.client} from {facts.peer}"
    )
    parts = [
        who,
        f"offers {offered}",
        verdict(facts),
        f"sni={facts.sni}" if facts.sni else "no sni",
        f"{len(facts.cipher_suites)} suites",
    ]
    if facts.weak_suites:
        parts.append("weak: " + ",".join(facts.weak_suites))
    if facts.hello_format:
        parts.append(facts.hello_format)
    parts.append(facts.outcome)
    return " | ".join(parts)


def capture_json(facts: CaptureFacts) -> dict[str, Any]:
    out: dict[str, Any] = to_json(facts)
    out["tls12_only_server"] = verdict(facts)
    return out


def connection_facts(capture: Capture) -> CaptureFacts:
    """Facts of one connection; the client is named by its process when it was found."""
    return capture_to_facts(capture, client=capture.process or capture.peer)


async def run_capture_server(
    host: str,
    port: int,
    on_capture: OnFacts,
    *,
    credentials: CaptureCredentials | None = None,
    on_listening: Callable[[int, CaptureCredentials], None] | None = None,
    stop: asyncio.Event | None = None,
    io_timeout: float = 10.0,
    identify_processes: bool = True,
    http_page: bool = False,
) -> None:
    """Serve until `stop` is set or the task is cancelled; `on_capture` gets each connection's facts.

    Without `credentials` a throwaway CA and localhost certificate are generated (the CA path is given
    to `on_listening` so the developer can make the client trust it while the listener runs)."""
    check_loopback(host)
    with tempfile.TemporaryDirectory(prefix="tlsaudit-capture-") as tmp:
        creds = credentials or generate_credentials(Path(tmp))

        def report(capture: Capture) -> None:
            on_capture(connection_facts(capture))

        from tlsaudit.capture.page import http_page as page

        async with CaptureServer(
            host,
            port,
            report,
            creds,
            io_timeout=io_timeout,
            identify_processes=identify_processes,
            page=page if http_page else None,
        ) as server:
            if on_listening is not None:
                on_listening(server.port, creds)
            await (stop or asyncio.Event()).wait()


def serve_capture(
    host: str = "127.0.0.1",
    port: int = 8443,
    *,
    json_lines: bool = False,
    cert_file: str | None = None,
    key_file: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    http_page: bool = False,
) -> int:
    """Synchronous `tlsaudit capture`: print each connection until Ctrl-C; returns the exit code (0)."""
    stdout = out or sys.stdout
    stderr = err or sys.stderr
    credentials = credentials_from_files(cert_file, key_file) if cert_file else None

    def show(facts: CaptureFacts) -> None:
        line = json.dumps(capture_json(facts), sort_keys=True) if json_lines else format_line(facts)
        print(line, file=stdout, flush=True)

    def listening(bound: int, creds: CaptureCredentials) -> None:
        shown = f"[{host}]" if ":" in host else host
        print(
            f"tlsaudit capture listening on https://{shown}:{bound}/ (Ctrl-C stops)", file=stderr, flush=True
        )
        if creds.ca_file is not None:
            print(
                f"clients that verify certificates: trust the CA in {creds.ca_file}", file=stderr, flush=True
            )

    async def main() -> None:
        # SIGTERM (and SIGHUP) stop the listener like Ctrl-C does, so that the throwaway CA key and
        # certificate are removed with their temporary folder instead of being left behind.
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, stop.set)
        await run_capture_server(
            host, port, show, credentials=credentials, on_listening=listening, http_page=http_page, stop=stop
        )

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    print("capture stopped", file=stderr, flush=True)
    return 0
