"""Facts that need more than one endpoint: which endpoints share their certificate's key with an endpoint
that accepts SSLv2 (DROWN, CVE-2016-0800: an SSLv2 server decrypts, for an attacker, TLS sessions of any
server using the same RSA key). Pure: endpoints in, endpoints out."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from tlsaudit.models import EndpointFacts, ProtocolStatus, TlsVersion


def _accepts_sslv2(ep: EndpointFacts) -> bool:
    result = ep.protocols.get(TlsVersion.SSLv2)
    return result is not None and result.status == ProtocolStatus.ACCEPTED


def link_sslv2_key_sharing(endpoints: Sequence[EndpointFacts]) -> list[EndpointFacts]:
    """Fill `key_shared_with_sslv2` on every endpoint whose certificate key an SSLv2 endpoint of the same
    set also serves (the endpoint itself excluded)."""
    sslv2_keys: dict[str, list[str]] = {}
    for ep in endpoints:
        if _accepts_sslv2(ep) and ep.certificate is not None and ep.certificate.spki_sha256:
            sslv2_keys.setdefault(ep.certificate.spki_sha256, []).append(ep.subject)
    if not sslv2_keys:
        return list(endpoints)
    linked = []
    for ep in endpoints:
        key = ep.certificate.spki_sha256 if ep.certificate is not None else ""
        if not key:
            linked.append(ep if _accepts_sslv2(ep) else dataclasses.replace(ep, key_shared_with_sslv2=None))
            continue
        others = tuple(s for s in sslv2_keys.get(key, ()) if s != ep.subject)
        linked.append(dataclasses.replace(ep, key_shared_with_sslv2=others) if others else ep)
    return linked
