"""Certificate facts the policies of 2026 judge beyond validity: the leaf's lifetime (CA/B Forum Baseline
Requirements 6.3.2 as amended by ballot SC-081; Mozilla's guidelines), how it can be revoked (CRL
distribution points, OCSP responders, Must-Staple) and whether it is publicly trusted (validates against
the system store alone) or trusted only through --ca-file (a private CA).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import AuthorityInformationAccessOID

from tlsaudit.probe.certificates import TrustAnchors, _validate

# TLS Feature (RFC 7633) value for status_request: Must-Staple.
_STATUS_REQUEST = 5

# CA/B Forum SC-081: the longest validity of a publicly trusted TLS certificate by its notBefore date.
CAB_LIFETIME_SCHEDULE: tuple[tuple[dt.datetime, int], ...] = (
    (dt.datetime(2029, 3, 15, tzinfo=dt.UTC), 47),
    (dt.datetime(2027, 3, 15, tzinfo=dt.UTC), 100),
    (dt.datetime(2026, 3, 15, tzinfo=dt.UTC), 200),
    (dt.datetime(2020, 9, 1, tzinfo=dt.UTC), 398),
)
# Before 1 September 2020 (ballot SC-31 / browser policies): 825 days.
_OLDEST_LIMIT = 825


def cab_max_lifetime_days(not_before: dt.datetime) -> int:
    """The CA/B Forum maximum validity, in days, for a certificate issued (notBefore) at that moment."""
    for start, days in CAB_LIFETIME_SCHEDULE:
        if not_before >= start:
            return days
    return _OLDEST_LIMIT


def lifetime_days(cert: x509.Certificate) -> int:
    """Validity period in days, as the Baseline Requirements count it (notBefore to notAfter inclusive,
    so one second is added), rounded up: a certificate over N days by one second counts N + 1."""
    seconds = (cert.not_valid_after_utc - cert.not_valid_before_utc).total_seconds() + 1
    return math.ceil(seconds / 86400)


def revocation_urls(cert: x509.Certificate) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(CRL distribution point URLs, OCSP responder URLs) of a certificate."""
    crls: list[str] = []
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        points = None
    except ValueError:
        points = None
    for point in points or ():
        for name in point.full_name or ():
            if isinstance(name, x509.UniformResourceIdentifier):
                crls.append(name.value)
    ocsp: list[str] = []
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except (x509.ExtensionNotFound, ValueError):
        access = None
    for description in access or ():
        if description.access_method == AuthorityInformationAccessOID.OCSP and isinstance(
            description.access_location, x509.UniformResourceIdentifier
        ):
            ocsp.append(description.access_location.value)
    return tuple(crls), tuple(ocsp)


def must_staple(cert: x509.Certificate) -> bool:
    try:
        features = cert.extensions.get_extension_for_class(x509.TLSFeature).value
    except (x509.ExtensionNotFound, ValueError):
        return False
    return any(int(f.value) == _STATUS_REQUEST for f in features)


# System-only views of a scan's anchors, kept so that the validator's store is built once per scan.
_SYSTEM_ONLY: dict[int, tuple[TrustAnchors, TrustAnchors]] = {}


def _system_only(anchors: TrustAnchors) -> TrustAnchors:
    cached = _SYSTEM_ONLY.get(id(anchors))
    if cached is None or cached[0] is not anchors:
        cached = (anchors, TrustAnchors(system=anchors.system, source=anchors.source))
        if len(_SYSTEM_ONLY) > 8:
            _SYSTEM_ONLY.clear()
        _SYSTEM_ONLY[id(anchors)] = cached
    return cached[1]


def publicly_trusted(
    certs: Sequence[x509.Certificate], anchors: TrustAnchors, now: dt.datetime, trusted: bool | None
) -> bool | None:
    """Whether the chain validates against the system store alone. Unknown without a system store."""
    if not anchors.system:
        return None
    if trusted is False:
        return False
    if not anchors.extra and trusted is not None:
        return trusted
    ok, _error, _issues = _validate(certs, _system_only(anchors), now)
    return ok


def policy_facts(
    certs: Sequence[x509.Certificate], anchors: TrustAnchors, now: dt.datetime, trusted: bool | None
) -> dict[str, Any]:
    """The CertificateInfo fields this module fills, for `analyse_chain`."""
    leaf = certs[0]
    crls, ocsp = revocation_urls(leaf)
    return {
        "lifetime_days": lifetime_days(leaf),
        "publicly_trusted": publicly_trusted(certs, anchors, now, trusted),
        "crl_urls": crls,
        "ocsp_urls": ocsp,
        "must_staple": must_staple(leaf),
        "spki_sha256": spki_sha256(leaf),
    }


def spki_sha256(cert: x509.Certificate) -> str:
    """Hex SHA-256 of the SubjectPublicKeyInfo: equal for two certificates with the same key."""
    der = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    return digest.finalize().hex()
