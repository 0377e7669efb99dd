"""A wolfSSL TLS server on loopback: lighttpd with mod_wolfssl (Debian lighttpd-mod-wolfssl).

Debian 12's wolfSSL (libwolfssl35, 5.5.x) speaks TLS 1.1..1.3 (no TLS 1.0, no SSLv3); the range is set with
`ssl.openssl.ssl-conf-cmd` MinProtocol/MaxProtocol, and the cipher string is wolfSSL's `ALL` so that
TLS 1.1 finds a suite. lighttpd runs in the foreground with its configuration and logs in a private
temporary directory; it binds a port that was free a moment ago, so a start may need a retry.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from tlsaudit.models import TlsVersion

from .acceptor import ServerAddress, check_loopback
from .certs import CertFiles, make_cert
from .child_server import free_port, stop_process, wait_listening
from .tls_servers import TlsServer

MODULE = Path("/usr/lib/lighttpd/mod_wolfssl.so")
_WOLFSSL_NAMES: dict[TlsVersion, str] = {
    TlsVersion.TLSv1_1: "TLSv1.1",
    TlsVersion.TLSv1_2: "TLSv1.2",
    TlsVersion.TLSv1_3: "TLSv1.3",
}
_START_ATTEMPTS = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class WolfsslServer(TlsServer):
    """A running lighttpd + mod_wolfssl; `error_log()` is what it logged (for failing tests)."""

    folder: Path

    def error_log(self) -> str:
        return "\n".join(
            path.read_text(errors="replace")
            for path in (self.folder / "error.log", self.folder / "stderr.log")
            if path.exists()
        )


def render_config(versions: list[TlsVersion], host: str, port: int, cert: CertFiles, folder: Path) -> str:
    """The lighttpd.conf for one wolfSSL listener accepting the contiguous range `versions`."""
    bind = f"[{host}]" if ":" in host else host
    return "\n".join(
        [
            'server.modules = ("mod_wolfssl")',
            f'server.document-root = "{folder / "www"}"',
            f'server.bind = "{bind}"',
            f"server.port = {port}",
            f'server.errorlog = "{folder / "error.log"}"',
            'ssl.engine = "enable"',
            f'ssl.pemfile = "{cert.chain}"',
            f'ssl.privkey = "{cert.key}"',
            "ssl.openssl.ssl-conf-cmd = ("
            f'"MinProtocol" => "{_WOLFSSL_NAMES[versions[0]]}", '
            f'"MaxProtocol" => "{_WOLFSSL_NAMES[versions[-1]]}", '
            '"CipherString" => "ALL")',
            "",
        ]
    )


@contextlib.contextmanager
def wolfssl_server(
    versions: Collection[TlsVersion], *, host: str = "127.0.0.1", cert: CertFiles | None = None
) -> Iterator[WolfsslServer]:
    """lighttpd + mod_wolfssl accepting the contiguous range `versions` (TLS 1.1..1.3)."""
    check_loopback(host)
    order = list(_WOLFSSL_NAMES)
    wanted = sorted(versions, key=lambda v: order.index(v) if v in order else -1)
    if not wanted or wanted[0] not in order:
        raise ValueError(f"Debian's wolfSSL serves TLS 1.1..1.3, not {[str(v) for v in versions]}")
    if wanted != order[order.index(wanted[0]) : order.index(wanted[-1]) + 1]:
        raise ValueError(f"wolfSSL takes a contiguous version range, not {[str(v) for v in wanted]}")
    lighttpd = shutil.which("lighttpd") or next(
        (p for p in ("/usr/sbin/lighttpd",) if Path(p).exists()), None
    )
    if lighttpd is None or not MODULE.exists():
        raise FileNotFoundError(
            "lighttpd with mod_wolfssl not found: install the Debian packages 'lighttpd' and"
            " 'lighttpd-mod-wolfssl' (make system-deps)"
        )
    files = cert or make_cert()
    with tempfile.TemporaryDirectory(prefix="tlsaudit-wolfssl-") as tmp:
        folder = Path(tmp)
        (folder / "www").mkdir()
        (folder / "www" / "index.html").write_text("ok\n")
        config = folder / "lighttpd.conf"
        for attempt in range(_START_ATTEMPTS):
            port = free_port(host)
            config.write_text(render_config(wanted, host, port, files, folder))
            with (folder / "stderr.log").open("wb") as stderr:
                process = subprocess.Popen(
                    [lighttpd, "-D", "-f", str(config)],
                    stdin=subprocess.DEVNULL,
                    stdout=stderr,
                    stderr=stderr,
                )
            server = WolfsslServer(
                host=host, port=port, versions=frozenset(wanted), cert=files, folder=folder
            )
            address = ServerAddress(host=host, port=port)
            if wait_listening(address, process):
                break
            stop_process(process)
            log = server.error_log()
            if "already in use" not in log or attempt == _START_ATTEMPTS - 1:
                raise RuntimeError(f"lighttpd/wolfSSL did not start:\n{config.read_text()}\n{log}")
        try:
            yield server
        finally:
            stop_process(process)
