"""Words for the per-endpoint facts of the session checks and certificate policy facts (HSTS, OCSP
stapling, certificate lifetime and revocation), shared by the text and HTML formats. Display only: no
verdicts are computed here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SESSION_COLUMNS = ("hsts", "ocsp", "lifetime", "revocation")


def hsts_words(ep: Mapping[str, Any]) -> str:
    http = ep.get("http")
    if http is None:
        return "not checked"
    if http["outcome"] == "not-http":
        return "not HTTP"
    if http["outcome"] == "failed":
        return f"not assessed: {http.get('detail', '')}".rstrip(": ")
    hsts = ep.get("hsts")
    if hsts is None:
        return f"absent (HTTP {http.get('status', '?')})"
    parts = [f"max-age={hsts['max_age']}"]
    if hsts.get("include_subdomains"):
        parts.append("includeSubDomains")
    if hsts.get("preload"):
        parts.append("preload")
    return "; ".join(parts)


def ocsp_words(ep: Mapping[str, Any]) -> str:
    stapling = ep.get("ocsp_stapling")
    if stapling is None:
        return "not checked"
    if not stapling["stapled"]:
        return "not stapled"
    if stapling.get("valid"):
        until = stapling.get("next_update", "")[:10]
        return f"stapled, valid ({stapling.get('cert_status', 'good')}{', until ' + until if until else ''})"
    return f"stapled, not valid: {stapling.get('problem', 'unknown')}"


def lifetime_words(ep: Mapping[str, Any]) -> str:
    cert = ep.get("certificate")
    if cert is None or cert.get("lifetime_days") is None:
        return "-"
    trust = {True: "public CA", False: "private or untrusted CA"}.get(cert.get("publicly_trusted"), "")
    return f"{cert['lifetime_days']} days" + (f" ({trust})" if trust else "")


def revocation_words(ep: Mapping[str, Any]) -> str:
    cert = ep.get("certificate")
    if cert is None:
        return "-"
    means = [name for name, key in (("CRL", "crl_urls"), ("OCSP", "ocsp_urls")) if cert.get(key)]
    if cert.get("must_staple"):
        means.append("Must-Staple")
    return ", ".join(means) or "none"


def session_row(ep: Mapping[str, Any]) -> dict[str, str] | None:
    """The words for one endpoint, or None when it has none of these facts."""
    if ep.get("http") is None and ep.get("ocsp_stapling") is None and ep.get("certificate") is None:
        return None
    return {
        "hsts": hsts_words(ep),
        "ocsp": ocsp_words(ep),
        "lifetime": lifetime_words(ep),
        "revocation": revocation_words(ep),
    }
