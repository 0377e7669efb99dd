"""Measure which TLS 1.0/1.1 key exchanges a client really completes (for `make profiles`).

A hello can offer TLS 1.0 while the client's library refuses to finish such a handshake: OpenSSL 3 at
its default security level rejects the SHA-1 signature of a TLS 1.0/1.1 (EC)DHE key exchange, yet accepts
RSA key exchange. The wire does not show it, so the client is run against two real `openssl s_server`s at
its highest legacy version, one with only RSA key exchange and one with only ECDHE, and the result goes in
the profile (`legacy_kex`).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
from collections.abc import AsyncIterator, Mapping

from tlsaudit.capture.certs import CaptureCredentials
from tlsaudit.capture.probe import CLIENT_HOST, client_result
from tlsaudit.capture.process import run_process
from tlsaudit.capture.runners import ClientRun

_ACCEPT = re.compile(rb"^ACCEPT\s+\S*:(\d+)\s*$")
_VERSION_FLAGS = {"TLSv1.0": "-tls1", "TLSv1.1": "-tls1_1"}
KEX_CIPHERS = {"rsa": "AES128-SHA", "ecdhe": "ECDHE-RSA-AES128-SHA"}


@contextlib.asynccontextmanager
async def legacy_server(credentials: CaptureCredentials, version: str, cipher: str) -> AsyncIterator[int]:
    """`openssl s_server` on 127.0.0.1 for one legacy version and one suite; yields its port."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise FileNotFoundError("openssl is needed to measure legacy key exchanges")
    process = await asyncio.create_subprocess_exec(
        openssl,
        "s_server",
        "-accept",
        "127.0.0.1:0",
        "-cert",
        str(credentials.cert_file),
        "-key",
        str(credentials.key_file),
        _VERSION_FLAGS[version],
        "-cipher",
        f"{cipher}:@SECLEVEL=0",
        "-www",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        assert process.stdout is not None
        port = None
        async with asyncio.timeout(10):
            while port is None:
                line = await process.stdout.readline()
                if not line:
                    raise RuntimeError("openssl s_server ended before listening")
                match = _ACCEPT.match(line.strip())
                if match:
                    port = int(match.group(1))
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def measure_legacy_kex(
    run: ClientRun,
    credentials: CaptureCredentials,
    env: Mapping[str, str],
    versions_offered: tuple[str, ...],
    timeout: float,
) -> tuple[str, ...] | None:
    """The key exchanges (`rsa`, `ecdhe`) the client completes at its highest TLS 1.0/1.1, or None when
    it offers neither version."""
    legacy = [v for v in versions_offered if v in _VERSION_FLAGS]
    if not legacy:
        return None
    version = legacy[-1]
    completed: list[str] = []
    for kex, cipher in KEX_CIPHERS.items():
        async with legacy_server(credentials, version, cipher) as port:
            done = await run_process(run.resolved_argv(CLIENT_HOST, port), {**env, **run.env}, timeout)
            if client_result(run, done).startswith("OK"):
                completed.append(kex)
    return tuple(completed)
