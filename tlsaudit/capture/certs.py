"""Throwaway credentials for the capture listener: a CA of our own and a localhost certificate it signs.

Clients that verify certificates get the CA through their own trust setting (a PEM bundle, or a PKCS#12
trust store for Java), so they complete the handshake instead of aborting on an unknown issuer.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TRUSTSTORE_PASSWORD = "changeit"  # not a secret: it guards a throwaway trust store of a throwaway CA


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureCredentials:
    """Files a TLS server needs, plus the CA in the forms clients understand."""

    cert_file: Path
    key_file: Path
    ca_file: Path | None = None
    truststore_p12: Path | None = None
    truststore_password: str = TRUSTSTORE_PASSWORD


def generate_credentials(
    directory: Path,
    *,
    hostnames: tuple[str, ...] = ("localhost",),
    ips: tuple[str, ...] = ("127.0.0.1", "::1"),
    days: int = 7,
) -> CaptureCredentials:
    """Write ca.pem, server.pem, server.key and truststore.p12 into `directory` (RSA 2048, SHA-256).

    RSA rather than ECDSA so that TLS 1.0/1.1-era clients can complete the handshake too.
    """
    now = datetime.datetime.now(datetime.UTC)
    not_before = now - datetime.timedelta(days=1)
    not_after = now + datetime.timedelta(days=days)

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tlsaudit capture CA (throwaway)")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
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
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    san: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]
    san += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    directory.mkdir(parents=True, exist_ok=True)
    ca_file = directory / "ca.pem"
    cert_file = directory / "server.pem"
    key_file = directory / "server.key"
    truststore = directory / "truststore.p12"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    # The chain goes with the leaf so clients that want the issuer in the handshake find it.
    cert_file.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(serialization.Encoding.PEM)
    )
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    truststore.write_bytes(
        pkcs12.serialize_java_truststore(
            [pkcs12.PKCS12Certificate(ca_cert, b"tlsaudit-capture-ca")],
            # SHA-1/3DES PBE and a SHA-1 MAC: the only PKCS#12 protection JDK 8 to 11.0.11 can read
            # (PBES2/AES arrived in 11.0.12); it guards nothing secret here.
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(10000)
            .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
            .hmac_hash(hashes.SHA1())  # noqa: S303  (trust store MAC for old JDKs, not a security control)
            .build(TRUSTSTORE_PASSWORD.encode()),
        )
    )
    return CaptureCredentials(
        cert_file=cert_file, key_file=key_file, ca_file=ca_file, truststore_p12=truststore
    )
