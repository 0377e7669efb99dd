"""Leaves with revocation pointers (CRL distribution point, OCSP responder, Must-Staple) and chosen dates,
and OCSP responses made by OpenSSL's own responder (`openssl ocsp -index`), for stapling tests."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from tests.probe.pki import NOW, Issued, Pki, key, write_server_files

OCSP_URL = "http://ocsp.test.invalid/"
CRL_URL = "http://crl.test.invalid/intermediate.crl"


def make_revocable_leaf(
    issuer: Issued,
    *,
    crl: bool = True,
    ocsp: bool = True,
    must_staple: bool = False,
    not_before: dt.datetime | None = None,
    days: int = 90,
) -> Issued:
    """A localhost leaf with the revocation pointers asked for, valid `days` days (BR counting: notAfter
    is notBefore + days - 1 second)."""
    start = not_before or NOW - dt.timedelta(days=1)
    leaf_key = key("rsa2048")
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(issuer.cert.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days) - dt.timedelta(seconds=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    )
    if crl:
        point = x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(CRL_URL)],
            relative_name=None,
            reasons=None,
            crl_issuer=None,
        )
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    if ocsp:
        access = x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(OCSP_URL)
        )
        builder = builder.add_extension(x509.AuthorityInformationAccess([access]), critical=False)
    if must_staple:
        builder = builder.add_extension(x509.TLSFeature([x509.TLSFeatureType.status_request]), critical=False)
    return Issued(cert=builder.sign(issuer.key, hashes.SHA256()), key=leaf_key)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerFiles:
    chain: Path  # leaf + intermediate
    key: Path
    leaf: Path  # the leaf alone
    intermediate: Path  # the intermediate alone
    root: Path  # the trust anchor


def server_files(directory: Path, pki: Pki, leaf: Issued, name: str = "server") -> ServerFiles:
    chain, key_path = write_server_files(directory, name, [leaf, pki.intermediate])
    leaf_path = directory / f"{name}-leaf.pem"
    leaf_path.write_bytes(leaf.pem)
    intermediate = directory / "intermediate.pem"
    intermediate.write_bytes(pki.intermediate.pem)
    root = directory / "root.pem"
    root.write_bytes(pki.root.pem)
    return ServerFiles(chain=chain, key=key_path, leaf=leaf_path, intermediate=intermediate, root=root)


def _index_time(moment: dt.datetime) -> str:
    return moment.strftime("%y%m%d%H%M%SZ")


def ocsp_response(directory: Path, pki: Pki, leaf: Issued, *, revoked: bool = False) -> Path:
    """A DER OCSP response for `leaf`, signed by its issuer, made by `openssl ocsp` acting as the
    responder over an index file (the CA database format of `openssl ca`)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise FileNotFoundError("openssl not found: install the Debian package 'openssl' (make system-deps)")
    issuer_pem = directory / "ocsp-issuer.pem"
    issuer_key = directory / "ocsp-issuer.key"
    issuer_pem.write_bytes(pki.intermediate.pem)
    issuer_key.write_bytes(pki.intermediate.key_pem)
    leaf_pem = directory / "ocsp-leaf.pem"
    leaf_pem.write_bytes(leaf.pem)
    serial = format(leaf.cert.serial_number, "X")
    serial = serial if len(serial) % 2 == 0 else "0" + serial
    status = "R" if revoked else "V"
    revocation = _index_time(NOW - dt.timedelta(hours=1)) if revoked else ""
    subject = "/CN=localhost"  # the responder answers by serial number
    index = directory / "index.txt"
    index.write_text(
        f"{status}\t{_index_time(leaf.cert.not_valid_after_utc)}\t{revocation}\t{serial}\tunknown\t{subject}\n"
    )
    request = directory / "ocsp-request.der"
    response = directory / ("ocsp-revoked.der" if revoked else "ocsp-good.der")
    subprocess.run(
        [
            openssl,
            "ocsp",
            "-issuer",
            str(issuer_pem),
            "-cert",
            str(leaf_pem),
            "-no_nonce",
            "-reqout",
            str(request),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    subprocess.run(
        [
            openssl, "ocsp", "-index", str(index), "-rsigner", str(issuer_pem), "-rkey", str(issuer_key),
            "-CA", str(issuer_pem), "-reqin", str(request), "-respout", str(response), "-ndays", "2",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return response
