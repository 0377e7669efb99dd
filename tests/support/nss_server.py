"""A Mozilla NSS server on loopback, driven through libssl3/libnss3/libnspr4 with ctypes.

Why not `selfserv` (libnss3-tools): it has no option for the listening address and binds every
interface (INADDR_ANY), while test servers listen on loopback only. This module runs the same library
(Debian's libnss3, which selfserv and Firefox use) server-side on sockets of our own loopback listener,
the way selfserv does it: a model socket is configured once (`SSL_ConfigServerCert`, the version range
with `SSL_VersionRangeSet`); each accepted descriptor is duplicated and handed to NSPR
(`PR_ImportTCPSocket`), imported from the model (`SSL_ImportFD(model, fd)`), then
`SSL_ResetHandshake(fd, PR_TRUE)` and one handshake per connection. The cipher suites are NSS' server
defaults after `NSS_SetDomesticPolicy`, which in 3.87 still include RC4 and 3DES, and DHE.

NSS is initialised once per process (`NSS_Init`) on a certificate database in a private temporary
directory, made with `certutil -N` (empty password); each leaf is imported with `pk12util` from a PKCS#12
file holding the leaf, its key and the intermediate, and found again by its DER. The directory is
removed when the process exits.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Collection, Iterator
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    load_pem_private_key,
    pkcs12,
)

from tlsaudit.models import TlsVersion

from .acceptor import CONNECTION_TIMEOUT, ActiveHandlers, serve
from .certs import CertFiles, make_cert
from .tls_servers import HTTP_RESPONSE, TlsServer

LIBRARIES = ("libnspr4.so", "libnss3.so", "libssl3.so")
TOOLS_PACKAGE = "libnss3-tools"
"""The Debian package with `certutil` and `pk12util` (libnss3 itself comes with it)."""

_SUCCESS = 0  # SECSuccess
_TRUE = 1  # PR_TRUE
_FALSE = 0
_SSL_SECURITY = 1
_SSL_HANDSHAKE_AS_CLIENT = 5
_SSL_HANDSHAKE_AS_SERVER = 6
_P12_PASSWORD = "tlsaudit"
_TOOL_TIMEOUT = 30.0

_WIRE_VERSIONS: dict[TlsVersion, int] = {
    TlsVersion.SSLv3: 0x0300,
    TlsVersion.TLSv1_0: 0x0301,
    TlsVersion.TLSv1_1: 0x0302,
    TlsVersion.TLSv1_2: 0x0303,
    TlsVersion.TLSv1_3: 0x0304,
}

_Pointer = ctypes.c_void_p


class _VersionRange(ctypes.Structure):
    """SSLVersionRange: two PRUint16, the lowest and highest enabled protocol version."""

    _fields_ = (("min", ctypes.c_uint16), ("max", ctypes.c_uint16))


class _Item(ctypes.Structure):
    """SECItem: a type tag and a byte buffer (here the DER of a certificate)."""

    _fields_ = (("type", ctypes.c_int), ("data", ctypes.c_char_p), ("len", ctypes.c_uint))


class NssError(RuntimeError):
    """An NSS call or NSS tool failed while setting up the server."""


class _Libraries:
    """libnspr4, libnss3 and libssl3 with their argument and result types declared."""

    def __init__(self) -> None:
        try:
            nspr, nss, ssl = (ctypes.CDLL(name) for name in LIBRARIES)
        except OSError as error:
            raise FileNotFoundError(
                f"{', '.join(LIBRARIES)} not found: install the Debian package 'libnss3' (make system-deps)"
            ) from error
        declarations: list[tuple[ctypes.CDLL, str, list[type], type | None]] = [
            (nspr, "PR_ImportTCPSocket", [ctypes.c_int], _Pointer),
            (nspr, "PR_NewTCPSocket", [], _Pointer),
            (nspr, "PR_Close", [_Pointer], ctypes.c_int),
            (
                nspr,
                "PR_Send",
                [_Pointer, ctypes.c_char_p, ctypes.c_int32, ctypes.c_int, ctypes.c_uint32],
                ctypes.c_int32,
            ),
            (nspr, "PR_GetError", [], ctypes.c_int32),
            (nspr, "PR_ErrorToName", [ctypes.c_int32], ctypes.c_char_p),
            (nspr, "PR_MillisecondsToInterval", [ctypes.c_uint32], ctypes.c_uint32),
            (nss, "NSS_GetVersion", [], ctypes.c_char_p),
            (nss, "NSS_Init", [ctypes.c_char_p], ctypes.c_int),
            (nss, "CERT_GetDefaultCertDB", [], _Pointer),
            (nss, "CERT_FindCertByDERCert", [_Pointer, ctypes.POINTER(_Item)], _Pointer),
            (nss, "PK11_FindKeyByAnyCert", [_Pointer, _Pointer], _Pointer),
            (nss, "CERT_DestroyCertificate", [_Pointer], None),
            (nss, "SECKEY_DestroyPrivateKey", [_Pointer], None),
            (ssl, "NSS_SetDomesticPolicy", [], ctypes.c_int),
            (
                ssl,
                "SSL_ConfigServerSessionIDCache",
                [ctypes.c_int, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_char_p],
                ctypes.c_int,
            ),
            (ssl, "SSL_ImportFD", [_Pointer, _Pointer], _Pointer),
            (ssl, "SSL_OptionSet", [_Pointer, ctypes.c_int32, ctypes.c_int], ctypes.c_int),
            (ssl, "SSL_VersionRangeSet", [_Pointer, ctypes.POINTER(_VersionRange)], ctypes.c_int),
            (
                ssl,
                "SSL_ConfigServerCert",
                [_Pointer, _Pointer, _Pointer, _Pointer, ctypes.c_uint],
                ctypes.c_int,
            ),
            (ssl, "SSL_ResetHandshake", [_Pointer, ctypes.c_int], ctypes.c_int),
            (ssl, "SSL_ForceHandshakeWithTimeout", [_Pointer, ctypes.c_uint32], ctypes.c_int),
        ]
        for library, name, argtypes, restype in declarations:
            function = getattr(library, name)
            function.argtypes = argtypes
            function.restype = restype
        self.nspr = nspr
        self.nss = nss
        self.ssl = ssl

    def error(self, what: str) -> NssError:
        code = self.nspr.PR_GetError()
        name = self.nspr.PR_ErrorToName(code)
        return NssError(f"{what}: {name.decode() if isinstance(name, bytes) else code}")

    def check(self, result: int, what: str) -> None:
        if result != _SUCCESS:
            raise self.error(what)


@cache
def _libraries() -> _Libraries:
    return _Libraries()


def nss_version() -> str:
    """The version of the libnss3 this module drives, e.g. "3.87.1"."""
    value = _libraries().nss.NSS_GetVersion()
    return value.decode() if isinstance(value, bytes) else "unknown"


def nss_label() -> str:
    """The stack's name and release for messages, e.g. "NSS 3.87"; says so when libnss3 is missing."""
    try:
        major_minor = ".".join(nss_version().split(".")[:2])
    except FileNotFoundError:
        return "NSS (libnss3 missing)"
    return f"NSS {major_minor}"


def nss_version_range(versions: Collection[TlsVersion]) -> tuple[TlsVersion, TlsVersion]:
    """The (lowest, highest) of `versions`, which NSS takes as one contiguous range (SSLv3..TLS 1.3).

    NSS 3.87 still has SSLv3, off by default but enabled by a range that starts there (no policy of
    Debian's libnss3 forbids it), though not in one range with TLS 1.3; SSLv2 is gone.
    """
    order = list(_WIRE_VERSIONS)
    if not versions or set(versions) - set(order):
        raise ValueError(f"NSS serves SSLv3..TLS 1.3, not {sorted(versions)}")
    indexes = sorted(order.index(v) for v in versions)
    if indexes != list(range(indexes[0], indexes[-1] + 1)):
        raise ValueError(f"NSS enables one contiguous range of versions, not {sorted(versions)}")
    return order[indexes[0]], order[indexes[-1]]


def _run_tool(*command: str) -> None:
    if shutil.which(command[0]) is None:
        raise FileNotFoundError(f"{command[0]} not found: install the Debian package '{TOOLS_PACKAGE}'")
    done = subprocess.run(command, capture_output=True, text=True, timeout=_TOOL_TIMEOUT, check=False)
    if done.returncode != 0:
        raise NssError(
            f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip() or done.stdout}"
        )


class _Database:
    """The process' NSS certificate database: made, imported into and initialised once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folder: Path | None = None
        self._imported: set[CertFiles] = set()
        self._initialised = False

    def _spec(self) -> str:
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="tlsaudit-nssdb-"))
            atexit.register(shutil.rmtree, self._folder, True)
            _run_tool("certutil", "-N", "-d", f"sql:{self._folder}", "--empty-password")
        return f"sql:{self._folder}"

    def _import(self, files: CertFiles, spec: str) -> None:
        leaf = x509.load_pem_x509_certificate(files.leaf.read_bytes())
        # NSS gives every certificate of one subject the same nickname: look leaves up by DER, not by it
        nickname = "tlsaudit-" + hashlib.sha256(leaf.public_bytes(Encoding.DER)).hexdigest()[:16]
        key = load_pem_private_key(files.key.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise TypeError(f"cannot put a {type(key).__name__} into PKCS#12")
        extra = (
            []
            if files.intermediate is None
            else [x509.load_pem_x509_certificate(files.intermediate.read_bytes())]
        )
        encryption = BestAvailableEncryption(_P12_PASSWORD.encode())
        with tempfile.TemporaryDirectory(prefix="tlsaudit-nss-p12-") as folder:
            p12 = Path(folder) / "server.p12"
            p12.write_bytes(
                pkcs12.serialize_key_and_certificates(nickname.encode(), key, leaf, extra, encryption)
            )
            _run_tool("pk12util", "-i", str(p12), "-d", spec, "-W", _P12_PASSWORD, "-K", "")

    def load(self, files: CertFiles) -> None:
        """Import `files` (once) and initialise NSS (once)."""
        with self._lock:
            spec = self._spec()
            if files not in self._imported:
                self._import(files, spec)
                self._imported.add(files)
            if not self._initialised:
                libs = _libraries()
                libs.check(libs.nss.NSS_Init(spec.encode()), f"NSS_Init({spec})")
                libs.check(libs.ssl.NSS_SetDomesticPolicy(), "NSS_SetDomesticPolicy")
                # what a real NSS server does too (selfserv, mod_nss): an in-memory session cache
                libs.check(libs.ssl.SSL_ConfigServerSessionIDCache(0, 0, 0, None), "session cache")
                self._initialised = True


_database = _Database()


def _model_socket(libs: _Libraries, files: CertFiles, lowest: TlsVersion, highest: TlsVersion) -> int:
    """The configured server socket every connection's socket is imported from (`SSL_ImportFD(model, fd)`)."""
    _database.load(files)
    der = x509.load_pem_x509_certificate(files.leaf.read_bytes()).public_bytes(Encoding.DER)
    item = _Item(0, der, len(der))
    certificate = libs.nss.CERT_FindCertByDERCert(libs.nss.CERT_GetDefaultCertDB(), ctypes.byref(item))
    if not certificate:
        raise libs.error(f"certificate {files.leaf}")
    key = None
    model = None
    try:
        key = libs.nss.PK11_FindKeyByAnyCert(certificate, None)
        if not key:
            raise libs.error(f"private key of {files.leaf}")
        tcp = libs.nspr.PR_NewTCPSocket()
        if not tcp:
            raise libs.error("PR_NewTCPSocket")
        model = libs.ssl.SSL_ImportFD(None, tcp)
        if not model:
            libs.nspr.PR_Close(tcp)
            raise libs.error("SSL_ImportFD")
        for option, value in (
            (_SSL_SECURITY, _TRUE),
            (_SSL_HANDSHAKE_AS_CLIENT, _FALSE),
            (_SSL_HANDSHAKE_AS_SERVER, _TRUE),
        ):
            libs.check(libs.ssl.SSL_OptionSet(model, option, value), f"SSL_OptionSet({option})")
        wanted = _VersionRange(_WIRE_VERSIONS[lowest], _WIRE_VERSIONS[highest])
        if libs.ssl.SSL_VersionRangeSet(model, ctypes.byref(wanted)) != _SUCCESS:
            raise ValueError(f"NSS refuses the version range {lowest}..{highest}: {libs.error('range')}")
        # the model keeps its own references to the certificate and the key
        libs.check(libs.ssl.SSL_ConfigServerCert(model, certificate, key, None, 0), "SSL_ConfigServerCert")
    except BaseException:
        if model:
            libs.nspr.PR_Close(model)
        raise
    finally:
        if key:
            libs.nss.SECKEY_DestroyPrivateKey(key)
        libs.nss.CERT_DestroyCertificate(certificate)
    return int(model)


@contextlib.contextmanager
def nss_server(
    versions: Collection[TlsVersion], *, host: str = "127.0.0.1", cert: CertFiles | None = None
) -> Iterator[TlsServer]:
    """An NSS server accepting the contiguous range `versions`, with NSS' default cipher suites.

    SSLv3..TLS 1.2 or TLS 1.0..1.3: NSS refuses a range from SSLv3 to TLS 1.3 (ValueError at start).
    """
    lowest, highest = nss_version_range(versions)
    libs = _libraries()
    files = cert or make_cert()
    model = _model_socket(libs, files, lowest, highest)
    active = ActiveHandlers()
    timeout = libs.nspr.PR_MillisecondsToInterval(int(CONNECTION_TIMEOUT * 1000))
    try:

        def handle(conn: socket.socket, stop: threading.Event) -> None:
            # NSPR owns (and closes) what it imports: give it a duplicate, `serve` closes the original.
            descriptor = os.dup(conn.fileno())
            tcp = libs.nspr.PR_ImportTCPSocket(descriptor)
            if not tcp:
                os.close(descriptor)
                raise libs.error("PR_ImportTCPSocket")
            active.enter()
            fd = tcp
            try:
                secure = libs.ssl.SSL_ImportFD(model, tcp)
                if not secure:
                    raise libs.error("SSL_ImportFD")
                fd = secure
                libs.check(libs.ssl.SSL_ResetHandshake(fd, _TRUE), "SSL_ResetHandshake")
                # NSS sends the alert of a failed handshake itself
                if libs.ssl.SSL_ForceHandshakeWithTimeout(fd, timeout) == _SUCCESS and not stop.is_set():
                    libs.nspr.PR_Send(fd, HTTP_RESPONSE, len(HTTP_RESPONSE), 0, timeout)
            finally:
                libs.nspr.PR_Close(fd)  # close_notify after a finished handshake, then close
                active.leave()

        with serve(handle, host) as address:
            yield TlsServer(host=address.host, port=address.port, versions=frozenset(versions), cert=files)
    finally:
        # A handler still inside NSS after the listener's grace period keeps the model socket.
        if not active.busy():
            libs.nspr.PR_Close(model)
