"""lighttpd with one of its TLS modules (mod_wolfssl, mod_mbedtls) as a TLS server on loopback.

Each module takes the same `ssl.*` directives; the protocol range and the cipher string go through
`ssl.openssl.ssl-conf-cmd` (MinProtocol, MaxProtocol, CipherString), which the modules map onto their
library. lighttpd runs in the foreground with its configuration and logs in a private temporary
directory; it binds a port that was free a moment ago, so a start may need a retry.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tlsaudit.models import TlsVersion

from .acceptor import ServerAddress, check_loopback
from .certs import CertFiles, make_cert
from .child_server import free_port, stop_process, wait_listening
from .tls_servers import TlsServer

MODULE_DIR = Path("/usr/lib/lighttpd")
_START_ATTEMPTS = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class LighttpdServer(TlsServer):
    """A running lighttpd with a TLS module; `error_log()` is what it logged (for failing tests)."""

    folder: Path

    def error_log(self) -> str:
        return "\n".join(
            path.read_text(errors="replace")
            for path in (self.folder / "error.log", self.folder / "stderr.log")
            if path.exists()
        )


def contiguous_range(
    versions: Collection[TlsVersion], order: Sequence[TlsVersion], library: str
) -> list[TlsVersion]:
    """`versions` in protocol order, when they are a non-empty contiguous stretch of `order` (the versions
    `library` can serve); ValueError otherwise."""
    wanted = sorted(versions, key=lambda v: order.index(v) if v in order else -1)
    if not wanted or wanted[0] not in order:
        names = f"{order[0]}..{order[-1]}"
        raise ValueError(f"{library} serves {names}, not {[str(v) for v in versions]}")
    if wanted != list(order[order.index(wanted[0]) : order.index(wanted[-1]) + 1]):
        raise ValueError(f"{library} takes a contiguous version range, not {[str(v) for v in wanted]}")
    return wanted


def render_config(
    module: str, ssl_conf: Mapping[str, str], host: str, port: int, cert: CertFiles, folder: Path
) -> str:
    """The lighttpd.conf for one TLS listener of `module` with these `ssl.openssl.ssl-conf-cmd` pairs."""
    bind = f"[{host}]" if ":" in host else host
    commands = ", ".join(f'"{key}" => "{value}"' for key, value in ssl_conf.items())
    return "\n".join(
        [
            f'server.modules = ("{module}")',
            f'server.document-root = "{folder / "www"}"',
            f'server.bind = "{bind}"',
            f"server.port = {port}",
            f'server.errorlog = "{folder / "error.log"}"',
            'ssl.engine = "enable"',
            f'ssl.pemfile = "{cert.chain}"',
            f'ssl.privkey = "{cert.key}"',
            f"ssl.openssl.ssl-conf-cmd = ({commands})",
            "",
        ]
    )


@contextlib.contextmanager
def lighttpd_tls_server(
    *,
    module: str,
    package: str,
    versions: Collection[TlsVersion],
    ssl_conf: Mapping[str, str],
    host: str,
    cert: CertFiles | None,
) -> Iterator[LighttpdServer]:
    """lighttpd with `module` (from the Debian package `package`) listening on `host`, configured with
    `ssl_conf`; `versions` is what that configuration accepts (recorded on the server, not checked)."""
    check_loopback(host)
    lighttpd = shutil.which("lighttpd") or next(
        (p for p in ("/usr/sbin/lighttpd",) if Path(p).exists()), None
    )
    if lighttpd is None or not (MODULE_DIR / f"{module}.so").exists():
        raise FileNotFoundError(
            f"lighttpd with {module} not found: install the Debian packages 'lighttpd' and"
            f" '{package}' (make system-deps)"
        )
    files = cert or make_cert()
    with tempfile.TemporaryDirectory(prefix=f"tlsaudit-{module}-") as tmp:
        folder = Path(tmp)
        (folder / "www").mkdir()
        (folder / "www" / "index.html").write_text("ok\n")
        config = folder / "lighttpd.conf"
        for attempt in range(_START_ATTEMPTS):
            port = free_port(host)
            config.write_text(render_config(module, ssl_conf, host, port, files, folder))
            with (folder / "stderr.log").open("wb") as stderr:
                process = subprocess.Popen(
                    [lighttpd, "-D", "-f", str(config)],
                    stdin=subprocess.DEVNULL,
                    stdout=stderr,
                    stderr=stderr,
                )
            server = LighttpdServer(
                host=host, port=port, versions=frozenset(versions), cert=files, folder=folder
            )
            if wait_listening(ServerAddress(host=host, port=port), process):
                break
            stop_process(process)
            log = server.error_log()
            if "already in use" not in log or attempt == _START_ATTEMPTS - 1:
                raise RuntimeError(f"lighttpd/{module} did not start:\n{config.read_text()}\n{log}")
        try:
            yield server
        finally:
            stop_process(process)


@contextlib.contextmanager
def lighttpd_ranged_server(
    *,
    module: str,
    package: str,
    library: str,
    names: Mapping[TlsVersion, str],
    cipher_string: str,
    versions: Collection[TlsVersion],
    host: str,
    cert: CertFiles | None,
) -> Iterator[LighttpdServer]:
    """lighttpd with `module` accepting the contiguous range `versions` of what `library` serves (`names`:
    each version's MinProtocol/MaxProtocol spelling), with `cipher_string`."""
    wanted = contiguous_range(versions, list(names), library)
    ssl_conf = {
        "MinProtocol": names[wanted[0]],
        "MaxProtocol": names[wanted[-1]],
        "CipherString": cipher_string,
    }
    with lighttpd_tls_server(
        module=module, package=package, versions=wanted, ssl_conf=ssl_conf, host=host, cert=cert
    ) as server:
        yield server
