"""Judge-free reading of a stapled OCSP response (RFC 6960) against the chain the server sent.

A stapled response is `valid` when it parses, says `successful`, answers for the leaf (serial and issuer
hashes), carries `good`, is current (thisUpdate <= now <= nextUpdate, when nextUpdate is given), and is
signed by the leaf's issuer or by a responder certificate that the issuer signed for OCSP signing
(RFC 6960 4.2.2.2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from tlsaudit.models import OcspStapling

# Clock skew allowed on thisUpdate (responders pre-date a little; so do clients).
_SKEW = dt.timedelta(minutes=5)


def assess_stapled(
    response_der: bytes | None, chain_der: Sequence[bytes], *, now: dt.datetime | None = None
) -> OcspStapling:
    """`response_der`: what the server stapled (None or b"": nothing)."""
    if not response_der:
        return OcspStapling(stapled=False)
    now = now or dt.datetime.now(dt.UTC)
    try:
        response = ocsp.load_der_ocsp_response(response_der)
    except ValueError as exc:
        return OcspStapling(stapled=True, valid=False, problem=f"the stapled response does not parse: {exc}")
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return OcspStapling(
            stapled=True, valid=False, problem=f"responder status {response.response_status.name.lower()}"
        )
    try:
        certs = [x509.load_der_x509_certificate(der) for der in chain_der]
    except ValueError:
        certs = []
    base = _facts(response)
    if len(certs) < 2:
        return _invalid(base, "the issuer of the leaf was not sent, so the response cannot be checked")
    leaf, issuer = certs[0], _issuer_of(certs)
    if issuer is None:
        return _invalid(base, "the issuer of the leaf was not sent, so the response cannot be checked")
    for single in response.responses:
        if _answers_for(single, leaf, issuer):
            break
    else:
        return _invalid(base, "the response is not about the served certificate")
    single_base = _facts_single(single)
    status = single.certificate_status
    if status != ocsp.OCSPCertStatus.GOOD:
        return _invalid(single_base, f"the responder says {status.name.lower()}")
    this_update = single.this_update_utc
    next_update = single.next_update_utc
    if this_update > now + _SKEW:
        return _invalid(single_base, f"thisUpdate {this_update.isoformat()} is in the future")
    if next_update is not None and next_update < now:
        return _invalid(single_base, f"stale: nextUpdate {next_update.isoformat()} has passed")
    signer_problem = _signature_problem(response, issuer, now)
    if signer_problem:
        return _invalid(single_base, signer_problem)
    return OcspStapling(
        stapled=True,
        valid=True,
        cert_status=single_base.cert_status,
        this_update=single_base.this_update,
        next_update=single_base.next_update,
    )


def _facts(response: ocsp.OCSPResponse) -> OcspStapling:
    try:
        return _facts_single(next(iter(response.responses)))
    except StopIteration:
        return OcspStapling(stapled=True)


def _facts_single(single: ocsp.OCSPSingleResponse) -> OcspStapling:
    next_update = single.next_update_utc
    return OcspStapling(
        stapled=True,
        cert_status=single.certificate_status.name.lower(),
        this_update=single.this_update_utc.isoformat(),
        next_update=next_update.isoformat() if next_update else "",
    )


def _invalid(base: OcspStapling, problem: str) -> OcspStapling:
    return OcspStapling(
        stapled=True,
        valid=False,
        cert_status=base.cert_status,
        this_update=base.this_update,
        next_update=base.next_update,
        problem=problem,
    )


def _issuer_of(certs: Sequence[x509.Certificate]) -> x509.Certificate | None:
    leaf = certs[0]
    for cert in certs[1:]:
        if cert.subject == leaf.issuer and _signed_by(leaf, cert):
            return cert
    return None


def _answers_for(single: ocsp.OCSPSingleResponse, leaf: x509.Certificate, issuer: x509.Certificate) -> bool:
    if single.serial_number != leaf.serial_number:
        return False
    algorithm = single.hash_algorithm
    name_hash = _digest(algorithm, issuer.subject.public_bytes())
    key_hash = _digest(algorithm, _public_key_bits(issuer))
    return single.issuer_name_hash == name_hash and single.issuer_key_hash == key_hash


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    h = hashes.Hash(algorithm)
    h.update(data)
    return h.finalize()


def _public_key_bits(cert: x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING contents (RFC 6960 4.1.1 issuerKeyHash)."""
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # SEQUENCE { AlgorithmIdentifier, BIT STRING }: skip the outer header and the algorithm.
    body = _der_contents(spki)
    algorithm_len = _der_total_length(body)
    bit_string = _der_contents(body[algorithm_len:])
    return bit_string[1:]  # the unused-bits octet


def _der_header(data: bytes) -> tuple[int, int]:
    """(header length, content length) of the DER element at the start of `data`."""
    first = data[1]
    if first < 0x80:
        return 2, first
    count = first & 0x7F
    return 2 + count, int.from_bytes(data[2 : 2 + count], "big")


def _der_contents(data: bytes) -> bytes:
    header, length = _der_header(data)
    return data[header : header + length]


def _der_total_length(data: bytes) -> int:
    header, length = _der_header(data)
    return header + length


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _signature_problem(response: ocsp.OCSPResponse, issuer: x509.Certificate, now: dt.datetime) -> str:
    """'' when the response is signed by the issuer, or by a delegated responder the issuer certified."""
    if _verifies(response, issuer):
        return ""
    for responder in response.certificates:
        if not _signed_by(responder, issuer):
            continue
        try:
            usages = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            continue
        if ExtendedKeyUsageOID.OCSP_SIGNING not in usages:
            continue
        if not responder.not_valid_before_utc <= now <= responder.not_valid_after_utc:
            return "the delegated responder's certificate is outside its validity period"
        if _verifies(response, responder):
            return ""
    return "the response is not signed by the leaf's issuer or a responder it certified"


def _verifies(response: ocsp.OCSPResponse, signer: x509.Certificate) -> bool:
    key = signer.public_key()
    algorithm = response.signature_hash_algorithm
    data, signature = response.tbs_response_bytes, response.signature
    try:
        if isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
            key.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(signature, data)
        else:
            return False
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True
