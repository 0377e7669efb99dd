"""nginx as a child process with a generated configuration: many TLS listeners in one server.

Used by the tests and by the benchmark. nginx runs in the foreground (`daemon off`) with its prefix, pid
file, logs and temp paths in a private temporary directory, and is stopped on exit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tlsaudit.models import TlsVersion

from .acceptor import ServerAddress, check_loopback
from .certs import CertFiles, make_cert
from .tls_servers import DEFAULT_CIPHERS, START_TIMEOUT

_NGINX_PROTOCOLS: dict[TlsVersion, str] = {
    TlsVersion.SSLv3: "SSLv3",
    TlsVersion.TLSv1_0: "TLSv1",
    TlsVersion.TLSv1_1: "TLSv1.1",
    TlsVersion.TLSv1_2: "TLSv1.2",
    TlsVersion.TLSv1_3: "TLSv1.3",
}
_START_ATTEMPTS = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class NginxServerBlock:
    """One `server {}` block: the versions it allows, its ciphers and certificate, how many ports."""

    versions: frozenset[TlsVersion] = frozenset({TlsVersion.TLSv1_2, TlsVersion.TLSv1_3})
    ciphers: str = DEFAULT_CIPHERS
    tls13_suites: str | None = None
    cert: CertFiles | None = None
    listeners: int = 1
    extra: tuple[str, ...] = field(default=())
    """Additional raw directives for this block, e.g. `("ssl_prefer_server_ciphers on;",)`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NginxServers:
    """A running nginx: `blocks[i]` lists the addresses of server block i, in order."""

    blocks: tuple[tuple[ServerAddress, ...], ...]
    prefix: Path

    @property
    def addresses(self) -> tuple[ServerAddress, ...]:
        return tuple(address for block in self.blocks for address in block)

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _free_ports(host: str, count: int) -> list[int]:
    """Ports that were free a moment ago; nginx must bind them itself, so a start may need a retry."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    holders = [socket.socket(family, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for holder in holders:
            holder.bind((host, 0))
        return [holder.getsockname()[1] for holder in holders]
    finally:
        for holder in holders:
            holder.close()


def _listen_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def render_config(
    blocks: Sequence[NginxServerBlock], ports: Sequence[Sequence[int]], host: str, prefix: Path
) -> str:
    """The nginx.conf for `blocks`, block i listening on `ports[i]`."""
    lines = [
        "worker_processes 1;",
        "daemon off;",
        f"pid {prefix / 'nginx.pid'};",
        f"error_log {prefix / 'error.log'} warn;",
        "events { worker_connections 1024; }",
        "http {",
        "  access_log off;",
        f"  client_body_temp_path {prefix / 'client_body'};",
        f"  proxy_temp_path {prefix / 'proxy'};",
        f"  fastcgi_temp_path {prefix / 'fastcgi'};",
        f"  uwsgi_temp_path {prefix / 'uwsgi'};",
        f"  scgi_temp_path {prefix / 'scgi'};",
        "  ssl_session_cache off;",
    ]
    if os.geteuid() == 0:
        lines.insert(0, "user root;")  # workers then read the per-test files like the master does
    for block, block_ports in zip(blocks, ports, strict=True):
        cert = block.cert or make_cert()
        protocols = " ".join(
            _NGINX_PROTOCOLS[v] for v in sorted(block.versions, key=list(_NGINX_PROTOCOLS).index)
        )
        lines.append("  server {")
        lines += [f"    listen {_listen_address(host, port)} ssl;" for port in block_ports]
        lines += [
            f"    ssl_certificate {cert.chain};",
            f"    ssl_certificate_key {cert.key};",
            f"    ssl_protocols {protocols};",
            f'    ssl_ciphers "{block.ciphers}";',
        ]
        if block.tls13_suites is not None:
            lines.append(f'    ssl_conf_command Ciphersuites "{block.tls13_suites}";')
        lines += [f"    {directive}" for directive in block.extra]
        lines += ["    location / { return 200 'ok\\n'; }", "  }"]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _wait_listening(
    addresses: Sequence[ServerAddress], process: subprocess.Popen[bytes], deadline: float
) -> bool:
    pending = list(addresses)
    while pending and time.monotonic() < deadline and process.poll() is None:
        address = pending[0]
        try:
            with socket.create_connection((address.host, address.port), timeout=0.5):
                pending.pop(0)
        except OSError:
            time.sleep(0.05)
    return not pending and process.poll() is None


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()  # SIGTERM: fast shutdown of master and workers
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextlib.contextmanager
def nginx_server(blocks: Sequence[NginxServerBlock], *, host: str = "127.0.0.1") -> Iterator[NginxServers]:
    """Run one nginx with `blocks`, each on `listeners` ephemeral ports of `host`."""
    check_loopback(host)
    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if nginx is None:
        raise FileNotFoundError(
            "nginx not found: install the Debian package 'nginx-light' (make system-deps)"
        )
    if not blocks:
        raise ValueError("nginx_server needs at least one server block")
    with tempfile.TemporaryDirectory(prefix="tlsaudit-nginx-") as tmp:
        prefix = Path(tmp)
        for attempt in range(_START_ATTEMPTS):
            ports = [_free_ports(host, block.listeners) for block in blocks]
            config = prefix / "nginx.conf"
            config.write_text(render_config(blocks, ports, host, prefix))
            process = subprocess.Popen(
                [nginx, "-p", str(prefix), "-c", str(config), "-e", str(prefix / "error.log")],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            servers = NginxServers(
                blocks=tuple(tuple(ServerAddress(host=host, port=p) for p in bp) for bp in ports),
                prefix=prefix,
            )
            if _wait_listening(servers.addresses, process, time.monotonic() + START_TIMEOUT):
                break
            _stop(process)
            log = servers.error_log()
            if "Address already in use" not in log or attempt == _START_ATTEMPTS - 1:
                raise RuntimeError(f"nginx did not start:\n{config.read_text()}\n{log}")
        try:
            yield servers
        finally:
            _stop(process)
