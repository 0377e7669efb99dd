"""Judge-free analysis of the certificate chain a server sent: DER in, `CertificateInfo` out.

Pure apart from reading trust-store files: the chain comes from the handshake probes (the raw
TLS <= 1.2 probe's Certificate message, or `fetch_chain` for TLS 1.3-only servers).
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import os
import ssl
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import ExtensionOID
from cryptography.x509.verification import (
    PolicyBuilder,
    Store,
    Subject,
    VerificationError,
)

from tlsaudit.errors import UsageError
from tlsaudit.models import CertificateInfo
from tlsaudit.probe.trust_openssl import openssl_verify, profile_issues

FALLBACK_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


class CaFileError(UsageError):
    """A --ca-file cannot be read or holds no PEM certificate."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustAnchors:
    """Certificates a client trusts: the system store plus any --ca-file."""

    system: tuple[x509.Certificate, ...]
    extra: tuple[x509.Certificate, ...] = ()
    source: str = ""

    @property
    def all(self) -> tuple[x509.Certificate, ...]:
        return self.system + self.extra


def system_ca_bundle_path() -> str | None:
    """The OS trust store file OpenSSL uses by default, if one exists."""
    paths = ssl.get_default_verify_paths()
    for candidate in (os.environ.get(paths.openssl_cafile_env), paths.cafile, paths.openssl_cafile):
        if candidate and os.path.isfile(candidate):
            return candidate
    return FALLBACK_CA_BUNDLE if os.path.isfile(FALLBACK_CA_BUNDLE) else None


@functools.lru_cache(maxsize=8)
def _load_bundle(path: str, *, lenient: bool = False) -> tuple[x509.Certificate, ...]:
    """PEM certificates of a file. `lenient` skips blocks that do not parse (an OS store may hold
    a root that cryptography's strict DER parser refuses; one odd root must not lose them all)."""
    with open(path, "rb") as fh:
        data = fh.read()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. legacy roots with a negative serial number
        if not lenient:
            return tuple(x509.load_pem_x509_certificates(data))
        certs: list[x509.Certificate] = []
        for block in data.split(_PEM_END):
            if _PEM_BEGIN not in block:
                continue
            try:
                certs.append(x509.load_pem_x509_certificate(block + _PEM_END))
            except ValueError:
                continue
        return tuple(certs)


_PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"
_PEM_END = b"-----END CERTIFICATE-----"


def load_trust_anchors(ca_file: str | None = None, *, use_system: bool = True) -> TrustAnchors:
    """The system store (unless `use_system` is false) and the certificates of `ca_file`."""
    system: tuple[x509.Certificate, ...] = ()
    source = ""
    if use_system:
        path = system_ca_bundle_path()
        if path is not None:
            system = _load_bundle(path, lenient=True)
            source = path
    extra: tuple[x509.Certificate, ...] = ()
    if ca_file is not None:
        try:
            extra = _load_bundle(ca_file)
        except OSError as exc:
            raise CaFileError(f"--ca-file {ca_file}: {exc.strerror or exc}") from exc
        except ValueError as exc:
            raise CaFileError(f"--ca-file {ca_file}: no PEM certificate could be read ({exc})") from exc
        source = f"{source} + {ca_file}" if source else ca_file
    return TrustAnchors(system=system, extra=extra, source=source)


def analyse_chain(
    der_chain: Sequence[bytes],
    *,
    hostname: str | None,
    anchors: TrustAnchors,
    now: dt.datetime | None = None,
) -> CertificateInfo:
    """Everything the rules need to know about the chain a server sent (leaf first).

    Raises ValueError when a certificate cannot be parsed (the peer's fault: record it, do not crash).
    """
    try:
        return _analyse(der_chain, hostname=hostname, anchors=anchors, now=now)
    except UnsupportedAlgorithm as exc:
        raise ValueError(f"unsupported algorithm in the certificate: {exc}") from exc


def _analyse(
    der_chain: Sequence[bytes],
    *,
    hostname: str | None,
    anchors: TrustAnchors,
    now: dt.datetime | None,
) -> CertificateInfo:
    if not der_chain:
        raise ValueError("empty certificate chain")
    now = now or dt.datetime.now(dt.UTC)
    certs = [x509.load_der_x509_certificate(der) for der in der_chain]
    leaf = certs[0]
    not_before = leaf.not_valid_before_utc
    not_after = leaf.not_valid_after_utc
    try:
        key_type, key_bits = describe_key(leaf.public_key())
    except (ValueError, UnsupportedAlgorithm):
        key_type, key_bits = "unknown", None
    sig_hash = _signature_hash(leaf)
    self_signed = is_self_signed(leaf)
    trusted, trust_error, issues = _validate(certs, anchors, now)
    return CertificateInfo(
        subject=leaf.subject.rfc4514_string(),
        issuer=leaf.issuer.rfc4514_string(),
        san=subject_alt_names(leaf),
        serial=format(leaf.serial_number, "x"),
        not_before=not_before.isoformat(),
        not_after=not_after.isoformat(),
        days_left=_days_left(not_after, now),
        expired=not_after < now,
        not_yet_valid=not_before > now,
        key_type=key_type,
        key_bits=key_bits,
        signature_algorithm=_signature_algorithm(leaf),
        signature_hash=sig_hash,
        chain_signature_hashes=tuple(_signature_hash(c) for c in certs if not is_self_signed(c)),
        self_signed=self_signed,
        chain_length=len(certs),
        chain_subjects=tuple(c.subject.rfc4514_string() for c in certs),
        chain_in_order=chain_in_order(certs),
        trusted=trusted,
        trust_error=trust_error,
        profile_issues=issues,
        hostname_match=None if hostname is None else hostname_matches(leaf, hostname),
        chain_complete=chain_complete(certs, anchors),
        sha256_fingerprint=leaf.fingerprint(hashes.SHA256()).hex(),
        **_policy_facts(certs, anchors, now, trusted),
    )


def _policy_facts(
    certs: Sequence[x509.Certificate], anchors: TrustAnchors, now: dt.datetime, trusted: bool | None
) -> dict[str, Any]:
    """Lifetime, revocation and public trust (tlsaudit.probe.certificate_policy_facts, which builds on
    this module's validation)."""
    from tlsaudit.probe.certificate_policy_facts import policy_facts

    return policy_facts(certs, anchors, now, trusted)


def _days_left(not_after: dt.datetime, now: dt.datetime) -> int:
    """Whole days left, or minus the whole days since expiry: 89.9 days left is 89, expired 36.5 days ago
    is -36 ("expired 36 days ago"); a certificate that expired an hour ago has 0 (see `expired`)."""
    day = dt.timedelta(days=1)
    if not_after >= now:
        return (not_after - now) // day
    return -((now - not_after) // day)


def describe_key(key: object) -> tuple[str, int | None]:
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    return type(key).__name__, None


def _signature_hash(cert: x509.Certificate) -> str:
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return "unknown"
    # Ed25519/Ed448 sign the whole message; there is no separate hash to be weak.
    return algorithm.name if algorithm is not None else "intrinsic"


def _signature_algorithm(cert: x509.Certificate) -> str:
    oid = cert.signature_algorithm_oid
    return getattr(oid, "_name", None) or oid.dotted_string


def subject_alt_names(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    names: list[str] = [f"DNS:{n}" for n in ext.get_values_for_type(x509.DNSName)]
    names.extend(f"IP:{ip}" for ip in ext.get_values_for_type(x509.IPAddress))
    return tuple(names)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Names chain and the issuer's key verifies the signature, whatever the hash.

    cryptography's `verify_directly_issued_by` refuses SHA-1 and MD5 signatures, which are exactly
    the chains a scanner must still be able to walk.
    """
    if cert.issuer != issuer.subject:
        return False
    key = issuer.public_key()
    sig, tbs = cert.signature, cert.tbs_certificate_bytes
    try:
        params = cert.signature_algorithm_parameters
        algorithm = cert.signature_hash_algorithm
        if isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
            # cryptography reports no parameters for md5WithRSAEncryption: it is PKCS#1 v1.5 too.
            pad = params if isinstance(params, padding.PSS | padding.PKCS1v15) else padding.PKCS1v15()
            key.verify(sig, tbs, pad, algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(params, ec.ECDSA):
            key.verify(sig, tbs, params)
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(sig, tbs)
        elif isinstance(key, dsa.DSAPublicKey) and algorithm is not None:
            key.verify(sig, tbs, algorithm)
        else:
            return False
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def is_self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject and _issued_by(cert, cert)


def chain_in_order(certs: Sequence[x509.Certificate]) -> bool:
    """Each certificate is followed by its issuer (RFC 5246 7.4.2); a lone leaf is in order."""
    return all(_issued_by(certs[i], certs[i + 1]) for i in range(len(certs) - 1))


def chain_complete(certs: Sequence[x509.Certificate], anchors: TrustAnchors) -> bool | None:
    """Did the server send every certificate between its leaf and a root?

    Walks issuer links from the leaf through the certificates sent (in any order). The chain is
    complete when the walk ends at a self-signed certificate or at a system root. A certificate
    supplied through --ca-file that is not self-signed (an intermediate the server failed to send)
    does not count: clients without that file would not find it. When the leaf's own issuer is
    nowhere (neither sent nor a root), an intermediate is missing. When the walk stops further up
    under an unknown issuer, completeness cannot be told from here (an unknown private root), so None.
    """
    roots = _roots(anchors)
    current = certs[0]
    pool = list(certs[1:])
    for _ in range(len(certs) + 1):
        if is_self_signed(current) or _der(current) in roots.ders:
            return True
        if any(_issued_by(current, r) for r in roots.by_subject.get(current.issuer, ())):
            return True
        parent = next((c for c in pool if _issued_by(current, c)), None)
        if parent is None:
            return False if current is certs[0] else None
        pool.remove(parent)
        current = parent
    return None


@dataclass(frozen=True, slots=True)
class _AnchorIndex:
    """Anchors indexed for the per-endpoint checks: by DER encoding and by subject name."""

    ders: frozenset[bytes]
    by_subject: Mapping[x509.Name, tuple[x509.Certificate, ...]]


def _index(certs: Sequence[x509.Certificate]) -> _AnchorIndex:
    by_subject: dict[x509.Name, list[x509.Certificate]] = {}
    for cert in certs:
        by_subject.setdefault(cert.subject, []).append(cert)
    return _AnchorIndex(
        ders=frozenset(_der(c) for c in certs), by_subject={k: tuple(v) for k, v in by_subject.items()}
    )


# Keyed by identity: hashing a TrustAnchors hashes every certificate in it, on every endpoint.
_ANCHOR_CACHE: dict[int, tuple[TrustAnchors, _AnchorIndex, _AnchorIndex, Store | None]] = {}


def _anchor_views(anchors: TrustAnchors) -> tuple[_AnchorIndex, _AnchorIndex, Store | None]:
    """Built once per scan, not per endpoint: the roots a chain may end at (every system anchor and the
    self-signed ones of --ca-file), every anchor, and the validator's store of them."""
    cached = _ANCHOR_CACHE.get(id(anchors))
    if cached is None or cached[0] is not anchors:
        roots = _index(anchors.system + tuple(a for a in anchors.extra if is_self_signed(a)))
        store = Store(list(anchors.all)) if anchors.all else None  # no anchors: trust is unknown
        cached = (anchors, roots, _index(anchors.all), store)
        if len(_ANCHOR_CACHE) > 8:
            _ANCHOR_CACHE.clear()
        _ANCHOR_CACHE[id(anchors)] = cached
    return cached[1], cached[2], cached[3]


def _roots(anchors: TrustAnchors) -> _AnchorIndex:
    return _anchor_views(anchors)[0]


def _all_anchors(anchors: TrustAnchors) -> tuple[_AnchorIndex, Store | None]:
    views = _anchor_views(anchors)
    return views[1], views[2]


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _validate(
    certs: Sequence[x509.Certificate], anchors: TrustAnchors, now: dt.datetime
) -> tuple[bool | None, str, tuple[str, ...]]:
    """Path validation against the anchors: (trusted, why not in plain words, RFC 5280 profile issues).

    Web-PKI validation (RFC 5280 + CA/B Forum profile, cryptography) first. A chain it refuses is validated
    again the way OpenSSL-based clients (curl, Python's ssl, s_client) do: when they accept it, the chain is
    trusted, as those clients decide, and what the strict profile objects to is returned as profile issues.

    Trust is judged apart from the name and from the leaf's dates, each of which is a fact (and a
    finding) of its own: the name checked is one the leaf itself carries, and a leaf outside its
    validity period is validated at the last (or first) second of its life. So an expired
    certificate from a trusted CA is reported as expired, not also as untrusted.
    """
    if not anchors.all:
        return None, "no trust store available", ()
    leaf = certs[0]
    lo, hi = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    index, store = _all_anchors(anchors)
    assert store is not None  # anchors.all is not empty here
    if _der(leaf) in index.ders:
        return True, "", ()  # the leaf itself is a trust anchor (a self-signed certificate in --ca-file)
    if is_self_signed(leaf):
        # Said plainly: the validator would name some profile detail of the certificate instead.
        return False, "self-signed certificate that is not a trust anchor (--ca-file trusts it)", ()
    when = now
    if not lo <= now <= hi:
        # The moment nearest to now at which the leaf (and, if possible, every certificate sent)
        # was valid; validity periods include both ends (RFC 5280 4.1.2.5).
        start = max(c.not_valid_before_utc for c in certs)
        end = min(c.not_valid_after_utc for c in certs)
        if start > end:
            start, end = lo, hi
        when = min(max(now, start), end)
    subjects = _own_subjects(leaf)
    if not subjects:
        return False, "the leaf has no subjectAltName (required by RFC 6125 / CA/B Forum)", ()
    errors: list[str] = []
    # The first name the validator accepts as a name decides; a malformed name only moves on.
    for subject in subjects:
        error = _verify_at(store, leaf, list(certs[1:]), subject, when)
        if error is None:
            return True, "", ()
        errors.append(error)
        if "invalid" not in error or "name" not in error:
            break
    verdict = openssl_verify(certs, anchors.all, when)
    if not verdict.trusted:
        return False, verdict.reason, ()
    issues = profile_issues(_path(certs, index))
    if not issues:
        issues = (f"the Web-PKI profile check (cryptography) refuses the chain: {errors[-1]}",)
    return True, "", issues


def _path(certs: Sequence[x509.Certificate], index: _AnchorIndex) -> list[x509.Certificate]:
    """The certificates from the leaf up through those sent, then the trust anchor that issued the last."""
    path = [certs[0]]
    pool = list(certs[1:])
    while not is_self_signed(path[-1]):
        parent = next((c for c in pool if _issued_by(path[-1], c)), None)
        if parent is None:
            anchor = next(
                (a for a in index.by_subject.get(path[-1].issuer, ()) if _issued_by(path[-1], a)), None
            )
            if anchor is not None and anchor not in path:
                path.append(anchor)
            break
        pool.remove(parent)
        path.append(parent)
    return path


def _verify_at(
    store: Store,
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    subject: Subject,
    when: dt.datetime,
) -> str | None:
    try:
        verifier = PolicyBuilder().store(store).time(when).build_server_verifier(subject)
        verifier.verify(leaf, intermediates)
    except (VerificationError, ValueError) as exc:
        return str(exc) or type(exc).__name__
    return None


def _own_subjects(leaf: x509.Certificate) -> list[Subject]:
    """Names the leaf carries, as validation subjects (a wildcard stands for one label under it)."""
    try:
        san = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        return []
    assert isinstance(san, x509.SubjectAlternativeName)
    subjects: list[Subject] = [
        x509.DNSName(name.replace("*.", "wildcard.", 1)) for name in san.get_values_for_type(x509.DNSName)
    ]
    subjects.extend(x509.IPAddress(ip) for ip in san.get_values_for_type(x509.IPAddress))
    return subjects


def hostname_matches(leaf: x509.Certificate, hostname: str) -> bool:
    """RFC 6125 / CA/B Forum matching against the subjectAltName only, as browsers and Python do.

    The subject CN is ignored: no current browser or TLS library falls back to it.
    An IP address matches only an iPAddress entry; a wildcard covers exactly one leftmost label.
    """
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    host = hostname.strip("[]").rstrip(".").lower()
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        return ip in san.get_values_for_type(x509.IPAddress)
    host = _to_ascii(host)
    return any(_dns_match(pattern, host) for pattern in san.get_values_for_type(x509.DNSName))


def _to_ascii(name: str) -> str:
    try:
        return name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return name


def _dns_match(pattern: str, host: str) -> bool:
    pattern = pattern.rstrip(".").lower()
    if not pattern.startswith("*."):
        return pattern == host
    suffix = pattern[1:]  # ".example.com"
    if not host.endswith(suffix):
        return False
    label = host[: -len(suffix)]
    return bool(label) and "." not in label and suffix.count(".") >= 2
