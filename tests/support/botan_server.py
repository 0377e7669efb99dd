"""A Botan TLS server on loopback (`botan/tls_server.cpp` against Debian's libbotan-2, Botan 2.19).

Why not `botan tls_server` (Debian package 'botan'): it binds INADDR_ANY (every interface, a FIXME in
its source) and serves one client at a time, while test servers listen on loopback only. The small
C++ server here runs the same library: one `Botan::TLS::Server` per connection, in a thread, on a
listener of 127.0.0.1 it binds itself (ephemeral port, printed on its `LISTENING` line, so no port
race). It is compiled with g++ once per test process into a temporary folder.

The versions are set by a Botan text policy (`Botan::TLS::Text_Policy`: allow_tls10, allow_tls11,
allow_tls12). Botan 2.19 speaks TLS 1.0..1.2 only: no SSLv3, no TLS 1.3. Everything else is Botan's
default policy, except that TLS 1.0/1.1 get the AES-CBC ciphers besides the AEAD ones (the defaults
are AEAD only, which TLS 1.0/1.1 cannot negotiate). The server reports the versions its policy
really enabled; a mismatch with the request fails at start.
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

from tlsaudit.models import TlsVersion

from .acceptor import check_loopback
from .certs import CertFiles, make_cert
from .child_server import child_server
from .tls_servers import TlsServer

SOURCE = Path(__file__).with_name("botan") / "tls_server.cpp"
INCLUDE = Path("/usr/include/botan-2")
BOTAN_VERSION_PREFIX = "2.19."
"""The Botan this registry's variants were written for (Debian 12's libbotan-2-19)."""

_POLICY_KEYS: dict[TlsVersion, str] = {
    TlsVersion.TLSv1_0: "allow_tls10",
    TlsVersion.TLSv1_1: "allow_tls11",
    TlsVersion.TLSv1_2: "allow_tls12",
}
_REPORTED_NAMES: dict[str, TlsVersion] = {
    "TLSv1.0": TlsVersion.TLSv1_0,
    "TLSv1.1": TlsVersion.TLSv1_1,
    "TLSv1.2": TlsVersion.TLSv1_2,
}
_AEAD_CIPHERS = ("ChaCha20Poly1305", "AES-256/GCM", "AES-128/GCM")
"""Botan 2.19's default `ciphers` (Policy::allowed_ciphers)."""
_CBC_CIPHERS = ("AES-256", "AES-128")

_lock = threading.Lock()
_binary: Path | None = None


def compiled_server() -> Path:
    """The server binary, compiled once per test process against libbotan-2."""
    global _binary  # noqa: PLW0603 - one compilation per test process, removed at exit
    with _lock:
        if _binary is None:
            compiler = shutil.which("g++")
            if compiler is None:
                raise FileNotFoundError("g++ not found: install the Debian package 'g++'")
            if not (INCLUDE / "botan" / "tls_server.h").exists():
                raise FileNotFoundError(
                    "Botan 2 headers not found: install the Debian package 'libbotan-2-dev'"
                    " (make system-deps)"
                )
            folder = Path(tempfile.mkdtemp(prefix="tlsaudit-botan-"))
            atexit.register(shutil.rmtree, folder, True)
            binary = folder / "tls_server"
            argv = [compiler, "-std=c++17", "-O1", f"-I{INCLUDE}", str(SOURCE), "-o", str(binary)]
            done = subprocess.run(
                [*argv, "-lbotan-2", "-pthread"],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"cannot compile {SOURCE.name}:\n{done.stdout}{done.stderr}")
            _binary = binary
        return _binary


def render_policy(versions: Collection[TlsVersion]) -> str:
    """The Botan text policy enabling exactly `versions` (TLS 1.0..1.2), Botan's defaults otherwise."""
    unknown = set(versions) - set(_POLICY_KEYS)
    if not versions or unknown:
        raise ValueError(f"Botan 2.19 serves TLS 1.0..1.2, not {sorted(str(v) for v in versions)}")
    lines = [f"{key} = {'true' if version in versions else 'false'}" for version, key in _POLICY_KEYS.items()]
    lines += ["allow_dtls10 = false", "allow_dtls12 = false"]
    if {TlsVersion.TLSv1_0, TlsVersion.TLSv1_1} & set(versions):
        lines.append("ciphers = " + " ".join(_AEAD_CIPHERS + _CBC_CIPHERS))
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def botan_server(
    versions: Collection[TlsVersion], *, host: str = "127.0.0.1", cert: CertFiles | None = None
) -> Iterator[TlsServer]:
    """A Botan 2.19 server whose policy enables exactly `versions` (any subset of TLS 1.0..1.2)."""
    check_loopback(host)
    if ":" in host:
        raise ValueError("the Botan test server listens on IPv4 loopback only")
    policy_text = render_policy(versions)
    files = cert or make_cert()
    binary = compiled_server()
    with tempfile.TemporaryDirectory(prefix="tlsaudit-botan-run-") as tmp:
        policy = Path(tmp) / "policy.txt"
        policy.write_text(policy_text)
        argv: list[str | Path] = [binary, files.chain, files.key, policy, host]
        with child_server(argv, name="Botan tls_server") as child:
            library, _, reported = child.detail.partition(" ")
            if not library.startswith(BOTAN_VERSION_PREFIX):
                raise RuntimeError(
                    f"libbotan-2 is {library}, this fixture is for Botan {BOTAN_VERSION_PREFIX}x"
                )
            enabled = {_REPORTED_NAMES[name] for name in reported.split(",") if name}
            if enabled != set(versions):
                raise RuntimeError(
                    f"Botan enabled {sorted(enabled)}, wanted {sorted(versions)}:\n{policy_text}"
                )
            yield TlsServer(host=host, port=child.port, versions=frozenset(versions), cert=files)
