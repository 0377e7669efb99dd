"""Oversized but valid certificate material for servers that test the scanner's bounds.

    long_chain_cert(directory, length=200)     leaf + 198 intermediates + root, each signing the next
    many_sans_cert(directory, count=10_000)    a self-signed leaf naming localhost and `count` more DNS names

Both return `CertFiles` that `openssl_s_server(cert=...)` serves (leaf, then `intermediate` as -cert_chain).
P-256 keys keep generation to well under a second.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .certs import CertFiles, CertSpec


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tlsaudit tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(subject: str, issuer: str, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=90))
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _leaf_builder(
    subject: str, issuer: str, key: ec.EllipticCurvePrivateKey, names: list[str]
) -> x509.CertificateBuilder:
    return (
        _builder(subject, issuer, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    )


def _write(directory: Path, leaf: bytes, chain: list[bytes], key: bytes, ca: bytes) -> CertFiles:
    directory.mkdir(parents=True, exist_ok=True)
    leaf_file, chain_file = directory / "leaf.pem", directory / "chain.pem"
    key_file, ca_file = directory / "key.pem", directory / "ca.pem"
    intermediate = directory / "intermediates.pem"
    leaf_file.write_bytes(leaf)
    chain_file.write_bytes(leaf + b"".join(chain))
    intermediate.write_bytes(b"".join(chain))
    key_file.write_bytes(key)
    ca_file.write_bytes(ca)
    return CertFiles(
        spec=CertSpec(),
        leaf=leaf_file,
        chain=chain_file,
        key=key_file,
        ca=ca_file,
        intermediate=intermediate if chain else None,
    )


def long_chain_cert(directory: Path, *, length: int = 200) -> CertFiles:
    """A chain of `length` certificates: root, `length - 2` intermediates, leaf (localhost)."""
    if length < 2:
        raise ValueError("a chain needs a root and a leaf")
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        _builder("chain root", "chain root", root_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    issued: list[x509.Certificate] = [root]
    issuer_key, issuer_name = root_key, "chain root"
    for index in range(1, length - 1):
        key = ec.generate_private_key(ec.SECP256R1())
        name = f"chain intermediate {index}"
        cert = (
            _builder(name, issuer_name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(issuer_key, hashes.SHA256())
        )
        issued.append(cert)
        issuer_key, issuer_name = key, name
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _leaf_builder("localhost", issuer_name, leaf_key, ["localhost"]).sign(issuer_key, hashes.SHA256())
    chain = [_pem(c) for c in reversed(issued)]  # nearest issuer first, root last
    return _write(directory, _pem(leaf), chain, _key_pem(leaf_key), _pem(root))


def many_sans_cert(directory: Path, *, count: int = 10_000) -> CertFiles:
    """A self-signed localhost leaf whose subjectAltName also lists `count` DNS names."""
    key = ec.generate_private_key(ec.SECP256R1())
    # Short names keep the Certificate message under OpenSSL's default 100 KB client limit, so a conventional
    # client can still check the server.
    names = ["localhost", *(f"n{index}.t" for index in range(count))]
    leaf = _leaf_builder("localhost", "localhost", key, names).sign(key, hashes.SHA256())
    return _write(directory, _pem(leaf), [], _key_pem(key), _pem(leaf))
