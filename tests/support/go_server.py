"""A Go `crypto/tls` server on loopback (`go/tls_server.go`) with `MinVersion`/`MaxVersion`.

The source has no dependencies beyond the standard library. It is built once with the system Go
(Debian `golang-go`, Go 1.19) into a folder of the temporary directory named after the source and the
Go version, under a file lock, so parallel test processes and later sessions reuse one binary. The build
runs offline (`GOPROXY=off`, GOPATH mode) with its own GOCACHE/GOPATH/HOME under that folder.

Go's server behaviours the tests meet: the TLS 1.3 cipher suites are fixed (`CipherSuites` applies to
TLS 1.0-1.2 only); a ClientHello for a version outside MinVersion..MaxVersion gets a protocol_version
alert; Go has no SSLv2/SSLv3 and no finite-field DHE.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

from tlsaudit.models import TlsVersion

from .acceptor import check_loopback
from .certs import CertFiles, make_cert
from .child_server import child_server
from .tls_servers import TlsServer

SOURCE = Path(__file__).with_name("go") / "tls_server.go"

_GO_NAMES: dict[TlsVersion, str] = {
    TlsVersion.TLSv1_0: "1.0",
    TlsVersion.TLSv1_1: "1.1",
    TlsVersion.TLSv1_2: "1.2",
    TlsVersion.TLSv1_3: "1.3",
}
_BUILD_TIMEOUT = 180.0

_lock = threading.Lock()
_binary: Path | None = None


def _go() -> Path:
    go = shutil.which("go")
    if go is None:
        raise FileNotFoundError("go not found: install the Debian package 'golang-go' (make system-deps)")
    return Path(go).resolve()


def _go_env(folder: Path) -> dict[str, str]:
    """A build environment of its own: no network, no user GOPATH/GOCACHE/GOFLAGS, GOPATH mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO")}
    env.update(
        HOME=str(folder / "home"),
        GOCACHE=str(folder / "cache"),
        GOPATH=str(folder / "gopath"),
        GOPROXY="off",
        GOFLAGS="",
        GO111MODULE="off",
        GOTOOLCHAIN="local",
    )
    return env


def server_binary() -> Path:
    """The built `tls_server`, built at most once per source and Go version (shared between processes)."""
    global _binary  # noqa: PLW0603 - one build per test process at most, reused by later ones
    with _lock:
        if _binary is not None:
            return _binary
        go = _go()
        source = SOURCE.read_bytes()
        version = subprocess.run(
            [str(go), "version"], check=True, capture_output=True, text=True, timeout=30
        ).stdout.strip()
        key = hashlib.sha256(source + version.encode()).hexdigest()[:16]
        folder = Path(tempfile.gettempdir()) / f"tlsaudit-go-{os.getuid()}" / key
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        binary = folder / "tls_server"
        with (folder / "build.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not binary.is_file():
                (folder / "home").mkdir(exist_ok=True)
                partial = folder / "tls_server.partial"
                done = subprocess.run(
                    [str(go), "build", "-trimpath", "-o", str(partial), str(SOURCE)],
                    env=_go_env(folder),
                    cwd=folder,
                    capture_output=True,
                    text=True,
                    timeout=_BUILD_TIMEOUT,
                    check=False,
                )
                if done.returncode != 0:
                    raise RuntimeError(f"go build {SOURCE} failed ({version}):\n{done.stdout}{done.stderr}")
                partial.replace(binary)
        _binary = binary
        return binary


@contextlib.contextmanager
def go_tls_server(
    versions: Collection[TlsVersion],
    *,
    host: str = "127.0.0.1",
    cert: CertFiles | None = None,
    cipher_suites: Sequence[str] = (),
    curves: Sequence[str] = (),
) -> Iterator[TlsServer]:
    """A Go `tls.Listen` server accepting the contiguous range `versions` (TLS 1.0..1.3).

    `cipher_suites` are IANA names for TLS 1.0-1.2 (Go keeps its own TLS 1.3 suites); `curves` are Go's
    CurveID names (X25519, CurveP256, CurveP384, CurveP521) in preference order. Empty: Go's defaults.
    """
    check_loopback(host)
    if ":" in host:
        raise ValueError("the Go test server binds IPv4 loopback only")
    order = list(_GO_NAMES)
    wanted = sorted(versions, key=lambda v: order.index(v) if v in order else -1)
    if not wanted or wanted[0] not in order:
        raise ValueError(f"Go crypto/tls serves TLS 1.0..1.3, not {[str(v) for v in versions]}")
    if wanted != order[order.index(wanted[0]) : order.index(wanted[-1]) + 1]:
        raise ValueError(f"Go takes a contiguous version range, not {[str(v) for v in wanted]}")
    files = cert or make_cert()
    argv: list[str | Path] = [
        server_binary(),
        "-key",
        files.key,
        "-chain",
        files.chain,
        "-host",
        host,
        "-min",
        _GO_NAMES[wanted[0]],
        "-max",
        _GO_NAMES[wanted[-1]],
    ]
    if cipher_suites:
        argv += ["-ciphers", ",".join(cipher_suites)]
    if curves:
        argv += ["-curves", ",".join(curves)]
    with child_server(argv, name="go crypto/tls") as child:
        yield TlsServer(host=host, port=child.port, versions=frozenset(wanted), cert=files)
