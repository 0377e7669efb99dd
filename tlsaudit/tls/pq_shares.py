"""Key shares for the post-quantum groups, of the right form and size, for probes that never finish.

A probe only needs the server to answer: an ML-KEM encapsulation key is 12-bit coefficients below q
(FIPS 203 7.2 "modulus check") followed by a 32-byte seed, so uniformly random coefficients make a key
a server accepts and encapsulates to. tlsaudit never decapsulates, so no ML-KEM implementation is needed.
"""

from __future__ import annotations

import os
import secrets
from functools import cache

from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MLKEM_Q = 3329
_MLKEM_RANK = {512: 2, 768: 3, 1024: 4}


def mlkem_encapsulation_key(parameter_set: int) -> bytes:
    """A well-formed ML-KEM-512/768/1024 encapsulation key (800, 1184 or 1568 bytes)."""
    coefficients = [secrets.randbelow(MLKEM_Q) for _ in range(256 * _MLKEM_RANK[parameter_set])]
    out = bytearray()
    for a, b in zip(coefficients[0::2], coefficients[1::2], strict=True):
        out += bytes((a & 0xFF, (a >> 8) | ((b & 0x0F) << 4), b >> 4))
    return bytes(out) + os.urandom(32)


def _x25519() -> bytes:
    return x25519.X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _ec(curve: ec.EllipticCurve) -> bytes:
    key = ec.generate_private_key(curve).public_key()
    return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


@cache
def pq_key_share(group: int) -> bytes:
    """The client key share of a post-quantum group (draft-ietf-tls-ecdhe-mlkem, draft-connolly-tls-mlkem-
    key-agreement, draft-tls-westerbaan-xyber768d00); one per group and process, since probes never finish."""
    if group == 0x11EC:  # X25519MLKEM768: ML-KEM first, then X25519
        return mlkem_encapsulation_key(768) + _x25519()
    if group == 0x11EB:  # SecP256r1MLKEM768: ECDH first
        return _ec(ec.SECP256R1()) + mlkem_encapsulation_key(768)
    if group == 0x11ED:  # SecP384r1MLKEM1024
        return _ec(ec.SECP384R1()) + mlkem_encapsulation_key(1024)
    if group in (0x0200, 0x0201, 0x0202):  # MLKEM512, MLKEM768, MLKEM1024
        return mlkem_encapsulation_key({0x0200: 512, 0x0201: 768, 0x0202: 1024}[group])
    if group == 0x6399:  # X25519Kyber768Draft00: X25519 first
        return _x25519() + mlkem_encapsulation_key(768)
    if group == 0x639A:  # SecP256r1Kyber768Draft00
        return _ec(ec.SECP256R1()) + mlkem_encapsulation_key(768)
    raise ValueError(f"no post-quantum key share for group 0x{group:04x}")
