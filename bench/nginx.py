"""One nginx child process serving many loopback TLS endpoints, one server block per port."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.model import LOOPBACK, Endpoint

# nginx spelling of each version this benchmark configures
NGINX_PROTOCOL = {"TLSv1.0": "TLSv1", "TLSv1.1": "TLSv1.1", "TLSv1.2": "TLSv1.2", "TLSv1.3": "TLSv1.3"}
# lets OpenSSL 3 negotiate TLS 1.0/1.1 (SHA-1 signatures) on the legacy endpoints
CIPHERS = "DEFAULT:@SECLEVEL=0"
START_TIMEOUT = 15.0


class LabError(RuntimeError):
    """The loopback lab could not be set up as intended."""


def find_nginx() -> str:
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if path is None:
        raise LabError("nginx not found: apt-get install -y nginx-light")
    return path


def reserve_ports(count: int) -> list[int]:
    """Distinct free loopback ports (held open together while chosen, so they never collide)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((LOOPBACK, 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _temp_path_directives(nginx: str, prefix: Path) -> list[str]:
    """Point every compiled-in temp path into the prefix (the defaults live under /var/lib/nginx)."""
    info = subprocess.run([nginx, "-V"], capture_output=True, text=True, timeout=10, check=False)
    names = re.findall(r"--http-([a-z]+(?:-[a-z]+)?)-temp-path=", info.stderr + info.stdout)
    directives = []
    for name in names:
        directive = name.replace("-", "_") + "_temp_path"
        (prefix / "temp" / name).mkdir(parents=True, exist_ok=True)
        directives.append(f"    {directive} {prefix / 'temp' / name};")
    return directives


def render_config(
    *,
    nginx: str,
    prefix: Path,
    endpoints: list[Endpoint],
    certs: dict[str, tuple[Path, Path]],
    workers: int,
) -> str:
    lines = [
        f"worker_processes {workers};",
        f"pid {prefix / 'nginx.pid'};",
        f"error_log {prefix / 'logs' / 'error.log'} warn;",
        "worker_rlimit_nofile 8192;",
        "events { worker_connections 4096; }",
        "http {",
        "    access_log off;",
        *_temp_path_directives(nginx, prefix),
        "    ssl_session_cache off;",
        "    ssl_session_tickets off;",
        "    keepalive_timeout 5s;",
    ]
    for endpoint in endpoints:
        cert, key = certs[endpoint.key_type]
        protocols = " ".join(NGINX_PROTOCOL[v] for v in sorted(endpoint.accepted))
        lines += [
            "    server {",
            f"        listen {LOOPBACK}:{endpoint.port} ssl;",
            f"        ssl_certificate {cert};",
            f"        ssl_certificate_key {key};",
            f"        ssl_protocols {protocols};",
            f"        ssl_ciphers '{CIPHERS}';",
            "        ssl_prefer_server_ciphers off;",
            "        return 204;",
            "    }",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


@dataclass(slots=True, kw_only=True)
class NginxServer:
    """A non-daemon nginx started as our child; stop() ends exactly that process group."""

    prefix: Path
    process: subprocess.Popen[bytes]

    @property
    def error_log(self) -> str:
        path = self.prefix / "logs" / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # SIGTERM: nginx fast shutdown, master ends its workers
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_nginx(
    *,
    prefix: Path,
    endpoints: list[Endpoint],
    certs: dict[str, tuple[Path, Path]],
    workers: int,
) -> NginxServer:
    nginx = find_nginx()
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(
        render_config(nginx=nginx, prefix=prefix, endpoints=endpoints, certs=certs, workers=workers)
    )
    argv = [nginx, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "logs" / "error.log")]
    argv += ["-g", "daemon off; master_process on;"]
    with (prefix / "logs" / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
    server = NginxServer(prefix=prefix, process=process)
    try:
        _wait_listening(server, [e.port for e in endpoints])
    except BaseException:
        server.stop()
        raise
    return server


def _wait_listening(server: NginxServer, ports: list[int]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    pending = list(ports)
    while pending:
        if server.process.poll() is not None:
            stderr = (server.prefix / "logs" / "stderr.log").read_text(errors="replace")
            raise LabError(f"nginx exited with {server.process.returncode}: {stderr}{server.error_log}")
        if time.monotonic() > deadline:
            raise LabError(f"nginx did not listen on {len(pending)} ports within {START_TIMEOUT}s")
        still = []
        for port in pending:
            try:
                with socket.create_connection((LOOPBACK, port), timeout=0.5):
                    pass
            except OSError:
                still.append(port)
        pending = still
        if pending:
            time.sleep(0.05)
