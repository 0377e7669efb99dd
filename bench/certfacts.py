"""Certificate facts: the truth read from the lab's own certificates, and value normalisation."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bench.fullmodel import CERT_FACTS

DAY = 86400.0


def minute(moment: dt.datetime) -> str:
    """Expiry compared to the minute: testssl.sh prints no seconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")


def parse_time(text: str) -> dt.datetime | None:
    cleaned = text.strip().replace("Z", "+00:00")
    for candidate in (cleaned, cleaned.replace(" ", "T")):
        try:
            return dt.datetime.fromisoformat(candidate)
        except ValueError:
            continue
    return None


def key_label(kind: str, bits: int) -> str:
    upper = kind.upper()
    family = "RSA" if "RSA" in upper else "EC" if "EC" in upper else upper
    return f"{family} {bits}"


def hash_label(text: str) -> str:
    match = re.search(r"sha-?(\d+)", text, re.IGNORECASE)
    return f"sha{match[1]}" if match else text.strip().lower()


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def truth_facts(cert_path: Path, *, now: dt.datetime, host_matches: bool = True) -> dict[str, str]:
    """The facts every tool should report for this self-signed certificate (untrusted: no tool is
    given the certificate as a trust anchor)."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key_text = key_label("RSA", key.key_size)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key_text = key_label("EC", key.curve.key_size)
    else:
        key_text = type(key).__name__
    not_after = cert.not_valid_after_utc
    algorithm = cert.signature_hash_algorithm
    facts = {
        "not_after": minute(not_after),
        "days_left": str(int((not_after - now).total_seconds() // DAY)),
        "key": key_text,
        "signature_hash": algorithm.name if algorithm else "none",
        "hostname_match": yes_no(host_matches),
        "trusted": "no",
    }
    assert tuple(facts) == CERT_FACTS
    return facts
