"""Path validation as OpenSSL-based clients do it (curl, Python's ssl, `openssl s_client`), and the RFC 5280
profile details that stricter verifiers refuse.

`tlsaudit.probe.certificates` validates first with cryptography's Web-PKI verifier, which enforces the
CA/Browser Forum profile. A chain it refuses may still be one that OpenSSL accepts, typically an internal CA
made with `openssl req -x509` (no keyUsage extension): such a chain is trusted by the clients that matter on
the machine, and its non-conformance is reported on its own. Every reason is given in plain words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

if TYPE_CHECKING:
    from OpenSSL import crypto

# OpenSSL's X509_V_ERR_* codes that have a plainer explanation than OpenSSL's own message.
_UNABLE_TO_GET_ISSUER = 2
_SIGNATURE_FAILURE = 7
_NOT_YET_VALID = 9
_EXPIRED = 10
_SELF_SIGNED_LEAF = 18
_SELF_SIGNED_IN_CHAIN = 19
_UNABLE_TO_GET_ISSUER_LOCALLY = 20
_UNABLE_TO_VERIFY_LEAF = 21
_INVALID_CA = 24
_PATH_LENGTH = 25
_INVALID_PURPOSE = 26

# Debian's OpenSSL runs at security level 2: a signature made with these hashes fails validation.
_REFUSED_HASHES = frozenset({"md5", "sha1"})


@dataclass(frozen=True, slots=True, kw_only=True)
class OpensslVerdict:
    trusted: bool
    reason: str = ""  # plain words, with OpenSSL's own message in parentheses


_STORES: dict[int, tuple[tuple[x509.Certificate, ...], crypto.X509Store]] = {}


def _store(anchors: tuple[x509.Certificate, ...]) -> crypto.X509Store:
    from OpenSSL import crypto  # pyOpenSSL only when a chain needs a second opinion

    cached = _STORES.get(id(anchors))
    if cached is None or cached[0] is not anchors:
        store = crypto.X509Store()
        for cert in anchors:
            try:
                store.add_cert(crypto.X509.from_cryptography(cert))
            except crypto.Error:
                continue  # a duplicate: the first copy is enough
        if len(_STORES) > 8:
            _STORES.clear()
        _STORES[id(anchors)] = cached = (anchors, store)
    return cached[1]


def openssl_verify(
    certs: Sequence[x509.Certificate], anchors: tuple[x509.Certificate, ...], when: dt.datetime
) -> OpensslVerdict:
    """Validate `certs` (leaf first, as sent) against `anchors` at `when`, as OpenSSL's default verifier
    does for a TLS client (server purpose), plus the weak-hash refusal of its default security level."""
    from OpenSSL import crypto

    store = _store(anchors)
    store.set_time(when.replace(tzinfo=None))
    context = crypto.X509StoreContext(
        store,
        crypto.X509.from_cryptography(certs[0]),
        chain=[crypto.X509.from_cryptography(c) for c in certs[1:]],
    )
    try:
        context.verify_certificate()
    except crypto.X509StoreContextError as exc:
        code, depth, message = [*exc.errors, 0, 0, ""][:3] if isinstance(exc.errors, list) else (0, 0, "")
        subject = exc.certificate.to_cryptography().subject.rfc4514_string() if exc.certificate else ""
        return OpensslVerdict(trusted=False, reason=_plain(int(code), int(depth), str(message), subject))
    leaf_purpose = _server_purpose_problem(certs[0])
    if leaf_purpose:
        return OpensslVerdict(trusted=False, reason=leaf_purpose)
    weak = [c for c in certs if c.issuer != c.subject and _hash_name(c) in _REFUSED_HASHES]
    if weak:
        names = ", ".join(f"{c.subject.rfc4514_string()} ({_hash_name(c).upper()})" for c in weak)
        return OpensslVerdict(
            trusted=False,
            reason=f"signed with a hash that OpenSSL refuses at its default security level: {names}",
        )
    return OpensslVerdict(trusted=True)


def _hash_name(cert: x509.Certificate) -> str:
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:  # an unknown algorithm is not a weak hash we know of
        return ""
    return algorithm.name if algorithm is not None else ""


def _server_purpose_problem(leaf: x509.Certificate) -> str:
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return ""
    allowed = {x509.oid.ExtendedKeyUsageOID.SERVER_AUTH, x509.oid.ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}
    if allowed & set(eku):
        return ""
    return "the certificate's extendedKeyUsage does not allow TLS server authentication (serverAuth)"


def _plain(code: int, depth: int, message: str, subject: str) -> str:
    who = subject or "a certificate in the chain"
    words = {
        _UNABLE_TO_GET_ISSUER: f"the issuer of {who} was not sent by the server and is not a trusted root",
        _UNABLE_TO_GET_ISSUER_LOCALLY: (
            f"the issuer of {who} was not sent by the server and is not in the trust store"
        ),
        _UNABLE_TO_VERIFY_LEAF: f"the issuer of {who} is not in the trust store",
        _SELF_SIGNED_IN_CHAIN: (
            f"the chain ends at the root {who}, which is not in the trust store (an internal CA: "
            "pass its certificate with --ca-file)"
        ),
        _SELF_SIGNED_LEAF: f"{who} is self-signed and not in the trust store",
        _SIGNATURE_FAILURE: f"the signature on {who} does not verify with its issuer's key",
        _EXPIRED: f"{who} (depth {depth} of the chain) has expired",
        _NOT_YET_VALID: f"{who} (depth {depth} of the chain) is not valid yet",
        _INVALID_CA: f"{who} issues certificates but is not a CA (basicConstraints CA:TRUE missing)",
        _PATH_LENGTH: f"the chain is longer than {who} allows (pathLenConstraint)",
        _INVALID_PURPOSE: f"{who} is not allowed for TLS server authentication (keyUsage, extendedKeyUsage)",
    }.get(code)
    if words is None:
        return f"OpenSSL rejects {who}: {message}"
    return f"{words} (OpenSSL: {message})" if message else words


def profile_issues(path: Sequence[x509.Certificate]) -> tuple[str, ...]:
    """RFC 5280 requirements the chain does not meet, in plain words, leaf first then each issuer.

    These are what strict verifiers (OpenSSL's X509_STRICT mode, cryptography's Web-PKI verifier) check and
    OpenSSL's default mode does not.
    """
    issues: list[str] = []
    for position, cert in enumerate(path):
        name = cert.subject.rfc4514_string()
        exts = cert.extensions
        if cert.issuer != cert.subject and not _has(exts, x509.AuthorityKeyIdentifier):
            issues.append(f"{name} has no authorityKeyIdentifier (RFC 5280 4.2.1.1)")
        if position == 0:
            continue
        try:
            constraints = exts.get_extension_for_class(x509.BasicConstraints)
            if not constraints.critical:
                issues.append(
                    f"the CA certificate {name} has a basicConstraints not marked critical (RFC 5280 4.2.1.9)"
                )
        except x509.ExtensionNotFound:
            pass  # OpenSSL's default mode already refuses a CA without basicConstraints
        try:
            usage = exts.get_extension_for_class(x509.KeyUsage).value
            if not usage.key_cert_sign:
                issues.append(
                    f"the keyUsage of the CA certificate {name} lacks keyCertSign (RFC 5280 4.2.1.3)"
                )
        except x509.ExtensionNotFound:
            issues.append(
                f"the CA certificate {name} has no keyUsage extension (RFC 5280 4.2.1.3 requires one "
                "with keyCertSign)"
            )
        if not _has(exts, x509.SubjectKeyIdentifier):
            issues.append(f"the CA certificate {name} has no subjectKeyIdentifier (RFC 5280 4.2.1.2)")
    return tuple(issues)


def _has(extensions: x509.Extensions, kind: type[x509.ExtensionType]) -> bool:
    try:
        extensions.get_extension_for_class(kind)
    except x509.ExtensionNotFound:
        return False
    return True
