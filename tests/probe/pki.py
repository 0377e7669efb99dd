"""Small test PKI: roots, intermediates and leaves with the defects the certificate rules look for."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Issued:
    cert: x509.Certificate
    key: PrivateKey

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


_KEYS: dict[str, PrivateKey] = {}


def key(kind: str = "rsa2048") -> PrivateKey:
    """Keys are cached per kind: generating RSA keys is the slow part of a test PKI."""
    if kind not in _KEYS:
        if kind.startswith("rsa"):
            _KEYS[kind] = rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
        elif kind == "p256":
            _KEYS[kind] = ec.generate_private_key(ec.SECP256R1())
        else:
            raise ValueError(kind)
    return _KEYS[kind]


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tlsaudit test"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def make_ca(
    cn: str,
    *,
    issuer: Issued | None = None,
    key_kind: str = "rsa2048",
    days: int = 3650,
    path_len: int | None = None,
) -> Issued:
    k = _fresh(key_kind)
    signer_key = issuer.key if issuer else k
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.cert.subject if issuer else _name(cn))
        .public_key(k.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=10))
        .not_valid_after(NOW + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_len), critical=True)
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(k.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    return Issued(cert=builder.sign(signer_key, hashes.SHA256()), key=k)


def _fresh(kind: str) -> PrivateKey:
    """A distinct key per CA (two CAs sharing a key would confuse issuer matching)."""
    if kind.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    return ec.generate_private_key(ec.SECP256R1())


def make_leaf(
    issuer: Issued | None,
    *,
    names: tuple[str, ...] = ("localhost", "127.0.0.1"),
    key_kind: str = "rsa2048",
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    weak_hash: str | None = None,
    cn: str = "localhost",
) -> Issued:
    """A server certificate; `issuer=None` makes it self-signed; `weak_hash` "sha1" or "md5" (RSA issuers)."""
    k = key(key_kind)
    sans: list[x509.GeneralName] = []
    for n in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            sans.append(x509.DNSName(n))
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.cert.subject if issuer else _name(cn))
        .public_key(k.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - dt.timedelta(days=1))
        .not_valid_after(not_after or NOW + dt.timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    signer = issuer.key if issuer else k
    cert = builder.sign(signer, hashes.SHA256())
    if weak_hash is not None:
        assert isinstance(signer, rsa.RSAPrivateKey)
        cert = resign_rsa(cert, signer, weak_hash)
    return Issued(cert=cert, key=k)


# sha256WithRSAEncryption and its SHA-1 / MD5 siblings differ only in the last OID byte.
_RSA_SIG_OIDS = {"sha256": 0x0B, "sha1": 0x05, "md5": 0x04}
_RSA_OID_PREFIX = bytes.fromhex("06092a864886f70d0101")


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def resign_rsa(cert: x509.Certificate, issuer_key: rsa.RSAPrivateKey, hash_name: str) -> x509.Certificate:
    """Re-sign with SHA-1 or MD5, which cryptography refuses to do through the builder."""
    old = _RSA_OID_PREFIX + bytes([_RSA_SIG_OIDS["sha256"]])
    new = _RSA_OID_PREFIX + bytes([_RSA_SIG_OIDS[hash_name]])
    tbs = cert.tbs_certificate_bytes
    assert tbs.count(old) == 1
    tbs = tbs.replace(old, new)
    algorithm: hashes.HashAlgorithm = hashes.SHA1() if hash_name == "sha1" else hashes.MD5()
    signature = issuer_key.sign(tbs, padding.PKCS1v15(), algorithm)
    alg_id = _der(0x30, new + b"\x05\x00")
    der = _der(0x30, tbs + alg_id + _der(0x03, b"\x00" + signature))
    return x509.load_der_x509_certificate(der)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pki:
    root: Issued
    intermediate: Issued


def make_pki() -> Pki:
    root = make_ca("tlsaudit test root")
    return Pki(root=root, intermediate=make_ca("tlsaudit test intermediate", issuer=root, path_len=0))


def write_server_files(directory: Path, name: str, chain: list[Issued]) -> tuple[Path, Path]:
    """PEM chain (leaf first) and key files for a server."""
    cert_path = directory / f"{name}.crt"
    key_path = directory / f"{name}.key"
    cert_path.write_bytes(b"".join(c.pem for c in chain))
    key_path.write_bytes(chain[0].key_pem)
    key_path.chmod(0o600)
    return cert_path, key_path
