"""Which cipher suites each endpoint really accepts, asked of the same OpenSSL that nginx links.

Every endpoint of one (profile, key type) pair has the same nginx configuration, so one
representative endpoint per pair is probed: one handshake per candidate suite and accepted version,
with Python's ssl client for TLS 1.0-1.2 and `openssl s_client -ciphersuites` for TLS 1.3. The
candidates are every suite the local OpenSSL knows (`openssl ciphers -V 'ALL:COMPLEMENTOFALL'`); a
suite this OpenSSL does not implement cannot be accepted by an nginx that links it.
"""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bench.model import LOOPBACK, Endpoint
from bench.truth import CHECKED_VERSIONS, HANDSHAKE_TIMEOUT
from tlsaudit.tls.constants import CIPHER_SUITES

S_CLIENT_TIMEOUT = 10.0
_CIPHER_LINE = re.compile(r"0x([0-9A-F]{2}),0x([0-9A-F]{2})\s+-\s+(\S+)\s+(\S+)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    code: int
    openssl_name: str
    iana_name: str
    tls13: bool


# (profile, key type) -> version -> IANA names accepted
SuiteTruth = dict[tuple[str, str], dict[str, frozenset[str]]]


def candidates() -> list[Candidate]:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("openssl not found: apt-get install -y openssl")
    listing = subprocess.run(
        [openssl, "ciphers", "-V", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    found = []
    for match in _CIPHER_LINE.finditer(listing):
        code = int(match[1] + match[2], 16)
        suite = CIPHER_SUITES.get(code)
        found.append(
            Candidate(
                code=code,
                openssl_name=match[3],
                iana_name=suite.name if suite else match[3],
                tls13=match[4] == "TLSv1.3",
            )
        )
    return found


def _context(version: str, openssl_name: str) -> ssl.SSLContext | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1 on purpose
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.minimum_version = CHECKED_VERSIONS[version]
        context.maximum_version = CHECKED_VERSIONS[version]
    try:
        context.set_ciphers(f"{openssl_name}:@SECLEVEL=0")
    except ssl.SSLError:
        return None  # the local client cannot offer it at all (e.g. PSK without a callback)
    return context


def _probe_tls12(port: int, version: str, candidate: Candidate) -> bool:
    context = _context(version, candidate.openssl_name)
    if context is None:
        return False
    try:
        with (
            socket.create_connection((LOOPBACK, port), timeout=HANDSHAKE_TIMEOUT) as raw,
            context.wrap_socket(raw) as tls,
        ):
            negotiated = tls.cipher()
    except (ssl.SSLError, OSError):
        return False
    return negotiated is not None and negotiated[0] == candidate.openssl_name


def _probe_tls13(port: int, candidate: Candidate) -> bool:
    argv = ["openssl", "s_client", "-connect", f"{LOOPBACK}:{port}", "-tls1_3", "-brief"]
    argv += ["-ciphersuites", candidate.openssl_name]
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=S_CLIENT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0 and candidate.openssl_name in done.stdout + done.stderr


def probe_suites(endpoints: list[Endpoint]) -> SuiteTruth:
    """Accepted suites per (profile, key type) and version, from one endpoint of each pair."""
    known = candidates()
    representatives: dict[tuple[str, str], Endpoint] = {}
    for endpoint in endpoints:
        if not endpoint.silent:
            representatives.setdefault((endpoint.profile, endpoint.key_type), endpoint)
    cells: list[tuple[tuple[str, str], str, Candidate, int]] = []
    for pair, endpoint in representatives.items():
        for version in sorted(endpoint.accepted):
            for candidate in known:
                if candidate.tls13 == (version == "TLSv1.3"):
                    cells.append((pair, version, candidate, endpoint.port))

    def one(cell: tuple[tuple[str, str], str, Candidate, int]) -> bool:
        _, version, candidate, port = cell
        return _probe_tls13(port, candidate) if candidate.tls13 else _probe_tls12(port, version, candidate)

    with ThreadPoolExecutor(max_workers=16) as pool:
        accepted = list(pool.map(one, cells))
    truth: dict[tuple[str, str], dict[str, set[str]]] = {
        pair: {v: set() for v in e.accepted} for pair, e in representatives.items()
    }
    for (pair, version, candidate, _), ok in zip(cells, accepted, strict=True):
        if ok:
            truth[pair][version].add(candidate.iana_name)
    return {pair: {v: frozenset(s) for v, s in versions.items()} for pair, versions in truth.items()}


def expected_suites(truth: SuiteTruth, endpoint: Endpoint, version: str) -> frozenset[str]:
    return truth.get((endpoint.profile, endpoint.key_type), {}).get(version, frozenset())
