"""A Node.js `tls` server on loopback (`node/tls_server.js`) with `minVersion`/`maxVersion`."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Collection, Iterator
from pathlib import Path

from tlsaudit.models import TlsVersion

from .acceptor import check_loopback
from .certs import CertFiles, make_cert
from .child_server import child_server
from .tls_servers import TlsServer

SCRIPT = Path(__file__).with_name("node") / "tls_server.js"

_NODE_NAMES: dict[TlsVersion, str] = {
    TlsVersion.TLSv1_0: "TLSv1",
    TlsVersion.TLSv1_1: "TLSv1.1",
    TlsVersion.TLSv1_2: "TLSv1.2",
    TlsVersion.TLSv1_3: "TLSv1.3",
}


@contextlib.contextmanager
def node_tls_server(
    versions: Collection[TlsVersion], *, host: str = "127.0.0.1", cert: CertFiles | None = None
) -> Iterator[TlsServer]:
    """A Node `tls.createServer` accepting the contiguous range `versions` (TLS 1.0..1.3)."""
    check_loopback(host)
    order = list(_NODE_NAMES)
    wanted = sorted(versions, key=lambda v: order.index(v) if v in order else -1)
    if not wanted or wanted[0] not in order:
        raise ValueError(f"Node serves TLS 1.0..1.3, not {[str(v) for v in versions]}")
    if wanted != order[order.index(wanted[0]) : order.index(wanted[-1]) + 1]:
        raise ValueError(f"Node takes a contiguous version range, not {[str(v) for v in wanted]}")
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        raise FileNotFoundError("node not found: install the Debian package 'nodejs' (make system-deps)")
    files = cert or make_cert()
    argv: list[str | Path] = [
        node,
        SCRIPT,
        files.key,
        files.chain,
        host,
        _NODE_NAMES[wanted[0]],
        _NODE_NAMES[wanted[-1]],
    ]
    with child_server(argv, name="node tls") as child:
        yield TlsServer(host=host, port=child.port, versions=frozenset(wanted), cert=files)
