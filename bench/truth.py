"""Check with Python's ssl client that every endpoint accepts exactly the versions it should."""

from __future__ import annotations

import socket
import ssl
import warnings
from concurrent.futures import ThreadPoolExecutor

from bench.model import LOOPBACK, Endpoint

# SSLv2/SSLv3 cannot be tested with the local OpenSSL 3 (compiled without them, on both sides):
# their truth ("rejected") holds by construction because nginx links the same library.
CHECKED_VERSIONS = {
    "TLSv1.0": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}
HANDSHAKE_TIMEOUT = 5.0


def _context(version: ssl.TLSVersion) -> ssl.SSLContext:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1 on purpose
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        context.minimum_version = version
        context.maximum_version = version
    return context


def probe(port: int, version: str) -> str:
    """'accepted', 'rejected' or 'error: ...' for one handshake pinned to one version."""
    context = _context(CHECKED_VERSIONS[version])
    try:
        with (
            socket.create_connection((LOOPBACK, port), timeout=HANDSHAKE_TIMEOUT) as raw,
            context.wrap_socket(raw) as tls,
        ):
            negotiated = tls.version()
    except ssl.SSLError:
        return "rejected"
    except OSError as exc:
        return f"error: {exc}"
    expected = "TLSv1" if version == "TLSv1.0" else version
    return "accepted" if negotiated == expected else f"error: negotiated {negotiated}"


def verify(endpoints: list[Endpoint]) -> list[str]:
    """Every disagreement between an endpoint's declared truth and what a real client sees."""
    cells = [(e, v) for e in endpoints if not e.silent for v in CHECKED_VERSIONS]
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(lambda cell: probe(cell[0].port, cell[1]), cells))
    problems = []
    for (endpoint, version), outcome in zip(cells, outcomes, strict=True):
        if outcome != endpoint.truth(version).value:
            problems.append(
                f"{endpoint.target} ({endpoint.profile}, {endpoint.key_type}) {version}: "
                f"expected {endpoint.truth(version).value}, Python ssl says {outcome}"
            )
    return problems
