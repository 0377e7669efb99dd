"""Certificate facts: the truth read from the lab's own certificates, and value normalisation."""

from __future__ import annotations

import datetime as dt
import re
import socket
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bench.model import LOOPBACK

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


def verifies(port: int, cafile: Path | None, *, check_hostname: bool = True) -> bool:
    """Does Python's ssl client (the OpenSSL nginx links) accept the endpoint's certificate for
    127.0.0.1, with these trust anchors (None: the system store)?"""
    context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    context.check_hostname = check_hostname
    try:
        with (
            socket.create_connection((LOOPBACK, port), timeout=5.0) as raw,
            context.wrap_socket(raw, server_hostname=LOOPBACK),
        ):
            return True
    except (ssl.SSLError, OSError):
        return False


def truth_facts(cert_path: Path, *, now: dt.datetime, host_matches: bool, trusted: bool) -> dict[str, str]:
    """The facts every tool should report for this certificate; hostname match and trust as a real
    client saw them (see verifies)."""
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
    return {
        "not_after": minute(not_after),
        "days_left": str(int((not_after - now).total_seconds() // DAY)),
        "key": key_text,
        "signature_hash": algorithm.name if algorithm else "none",
        "hostname_match": yes_no(host_matches),
        "trusted": yes_no(trusted),
    }
