"""Certificate factory for loopback test servers.

One root CA and one intermediate CA per test process; leaves are signed by the intermediate unless
`self_signed` is set. Everything is written as PEM into a per-process temporary directory and cached by
spec, because RSA key generation is slow.

    files = make_cert(CertSpec(common_name="bad.example", key_type=KeyType.RSA_1024))
    ctx.load_cert_chain(files.chain, files.key)
    client_ctx.load_verify_locations(files.ca)
"""

from __future__ import annotations

import atexit
import datetime
import hashlib
import ipaddress
import shutil
import tempfile
import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class KeyType(StrEnum):
    RSA_1024 = "rsa1024"
    RSA_2048 = "rsa2048"
    EC_P256 = "ec-p256"


class SignatureHash(StrEnum):
    SHA256 = "sha256"
    SHA1 = "sha1"


class Validity(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"


XSS_COMMON_NAME = "<script>alert(1)</script>"
"""Attacker-controlled subject text: reports must render it inert."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CertSpec:
    """What the leaf certificate should look like. The default is a valid RSA-2048 localhost cert."""

    common_name: str = "localhost"
    sans: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
    organization: str | None = None
    key_type: KeyType = KeyType.RSA_2048
    signature_hash: SignatureHash = SignatureHash.SHA256
    validity: Validity = Validity.VALID
    self_signed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CertFiles:
    """PEM files of one leaf. `chain` is leaf + intermediate (leaf only when self-signed)."""

    spec: CertSpec
    leaf: Path
    chain: Path
    key: Path
    ca: Path
    """The trust anchor: the root CA, or the leaf itself when self-signed."""
    intermediate: Path | None


@dataclass(frozen=True, slots=True)
class _Issuer:
    cert: x509.Certificate
    key: PrivateKey


_lock = threading.Lock()
_keys: dict[tuple[KeyType, str], PrivateKey] = {}
_files: dict[CertSpec, CertFiles] = {}
_issuers: dict[str, _Issuer] = {}
_workdir: Path | None = None


def _directory() -> Path:
    global _workdir  # noqa: PLW0603 - one directory per process, removed at exit
    if _workdir is None:
        _workdir = Path(tempfile.mkdtemp(prefix="tlsaudit-certs-"))
        atexit.register(shutil.rmtree, _workdir, True)
    return _workdir


def _key(key_type: KeyType, role: str) -> PrivateKey:
    cached = _keys.get((key_type, role))
    if cached is not None:
        return cached
    key: PrivateKey
    if key_type is KeyType.EC_P256:
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(
            public_exponent=65537, key_size=1024 if key_type is KeyType.RSA_1024 else 2048
        )
    _keys[(key_type, role)] = key
    return key


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def _validity(validity: Validity) -> tuple[datetime.datetime, datetime.datetime]:
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    day = datetime.timedelta(days=1)
    if validity is Validity.EXPIRED:
        return now - 60 * day, now - day
    if validity is Validity.NOT_YET_VALID:
        return now + 30 * day, now + 90 * day
    return now - day, now + 90 * day


def _ca_cert(
    subject: x509.Name, key: PrivateKey, issuer: _Issuer | None, path_length: int
) -> x509.Certificate:
    not_before, not_after = _validity(Validity.VALID)
    signing_key = key if issuer is None else issuer.key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if issuer is None else issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    return builder.sign(signing_key, hashes.SHA256())


def _issuer(role: str) -> _Issuer:
    cached = _issuers.get(role)
    if cached is not None:
        return cached
    if role == "root":
        key = _key(KeyType.RSA_2048, "root")
        issuer = _Issuer(
            cert=_ca_cert(_name("tlsaudit Test Root CA", "tlsaudit tests"), key, None, 1), key=key
        )
    else:
        key = _key(KeyType.RSA_2048, "intermediate")
        cert = _ca_cert(_name("tlsaudit Test Intermediate CA", "tlsaudit tests"), key, _issuer("root"), 0)
        issuer = _Issuer(cert=cert, key=key)
    _issuers[role] = issuer
    return issuer


def _san(entry: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(entry))
    except ValueError:
        return x509.DNSName(entry)


def _leaf(spec: CertSpec, key: PrivateKey) -> x509.Certificate:
    subject = _name(spec.common_name, spec.organization)
    not_before, not_after = _validity(spec.validity)
    issuer = None if spec.self_signed else _issuer("intermediate")
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if issuer is None else issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if spec.sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_san(s) for s in spec.sans]), critical=False
        )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    signing_key = key if issuer is None else issuer.key
    cert = builder.sign(signing_key, hashes.SHA256())
    return _resign_sha1(cert, signing_key) if spec.signature_hash is SignatureHash.SHA1 else cert


_SHA256_WITH_RSA = bytes.fromhex("06092a864886f70d01010b")  # DER OID 1.2.840.113549.1.1.11
_SHA1_WITH_RSA = bytes.fromhex("06092a864886f70d010105")  # DER OID 1.2.840.113549.1.1.5


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def _der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


def _resign_sha1(cert: x509.Certificate, key: PrivateKey) -> x509.Certificate:
    """Re-sign an RSA/SHA-256 certificate with SHA-1.

    cryptography no longer signs certificates with SHA-1, but still makes raw SHA-1 signatures; the two
    signature OIDs have the same length, so swapping them in the to-be-signed bytes keeps the DER valid.
    """
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("SHA-1 signed test certificates need an RSA issuer key")
    tbs = cert.tbs_certificate_bytes
    if tbs.count(_SHA256_WITH_RSA) != 1:
        raise ValueError("unexpected to-be-signed certificate layout")
    tbs = tbs.replace(_SHA256_WITH_RSA, _SHA1_WITH_RSA)
    signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    algorithm = _der(0x30, _SHA1_WITH_RSA + bytes([0x05, 0x00]))
    return x509.load_der_x509_certificate(_der(0x30, tbs + algorithm + _der(0x03, b"\x00" + signature)))


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_cert(spec: CertSpec | None = None) -> CertFiles:
    """PEM files for `spec` (default: valid RSA-2048 localhost leaf), created once per process."""
    spec = spec or CertSpec()
    with _lock:
        cached = _files.get(spec)
        if cached is not None:
            return cached
        key = _key(spec.key_type, "leaf")
        leaf = _leaf(spec, key)
        stem = hashlib.sha256(repr(spec).encode()).hexdigest()[:16]
        folder = _directory() / stem
        folder.mkdir()
        leaf_path = folder / "leaf.pem"
        leaf_path.write_bytes(_pem(leaf))
        key_path = folder / "key.pem"
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        chain_path = folder / "chain.pem"
        intermediate_path: Path | None = None
        if spec.self_signed:
            chain_path.write_bytes(_pem(leaf))
            ca_path = leaf_path
        else:
            intermediate_path = folder / "intermediate.pem"
            intermediate_path.write_bytes(_pem(_issuer("intermediate").cert))
            chain_path.write_bytes(_pem(leaf) + _pem(_issuer("intermediate").cert))
            ca_path = folder / "ca.pem"
            ca_path.write_bytes(_pem(_issuer("root").cert))
        files = CertFiles(
            spec=spec,
            leaf=leaf_path,
            chain=chain_path,
            key=key_path,
            ca=ca_path,
            intermediate=intermediate_path,
        )
        _files[spec] = files
        return files
