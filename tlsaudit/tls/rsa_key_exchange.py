"""RSA key exchange messages for the ROBOT check (a Bleichenbacher padding oracle). Sans-I/O.

Five encrypted premaster secrets, differently formatted (PKCS#1 v1.5, RFC 8017 7.2; the premaster
secret of RFC 5246 7.4.7.1), as described in "Return Of Bleichenbacher's Oracle Threat" (Böck,
Somorovsky, Young, USENIX Security 2018, https://robotattack.org/): a server that answers them
differently is an oracle. The public key comes from the server's certificate (`cryptography`); the
padding is built here and encrypted with the raw RSA operation, as the attack needs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from tlsaudit.tls.constants import ContentType, HandshakeType
from tlsaudit.tls.wire import encode_records, handshake_message, vec16

PREMASTER_LEN = 48
MIN_PADDING = 8  # PKCS#1 v1.5: at least eight nonzero padding bytes
FINISHED_BYTES = 48  # what stands for the encrypted Finished: the same bytes after every variant


class Padding(StrEnum):
    """The five premaster-secret encodings, named as the report shows them."""

    CORRECT = "correct padding"
    WRONG_FIRST_BYTES = "wrong first bytes"
    ZERO_MISPLACED = "0x00 separator misplaced"
    NO_ZERO = "no 0x00 separator"
    WRONG_VERSION = "wrong premaster version"


def _nonzero(n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        out += bytes(b for b in os.urandom(n) if b)
    return bytes(out[:n])


def padded_premaster(variant: Padding, key_bytes: int, client_version: int) -> bytes:
    """The `key_bytes`-long plaintext of one variant."""
    pad_len = key_bytes - 3 - PREMASTER_LEN
    if pad_len < MIN_PADDING:
        raise ValueError(f"an RSA key of {key_bytes * 8} bits is too small for a TLS premaster secret")
    version = client_version.to_bytes(2, "big")
    secret = os.urandom(PREMASTER_LEN - 2)
    padding = _nonzero(pad_len)
    builders: dict[Padding, Callable[[], bytes]] = {
        Padding.CORRECT: lambda: b"\x00\x02" + padding + b"\x00" + version + secret,
        Padding.WRONG_FIRST_BYTES: lambda: b"\x41\x17" + padding + b"\x00" + version + secret,
        # A conforming padding whose message is far longer than a premaster secret.
        Padding.ZERO_MISPLACED: lambda: (
            b"\x00\x02" + padding[:MIN_PADDING] + b"\x00" + _nonzero(key_bytes - 3 - MIN_PADDING)
        ),
        Padding.NO_ZERO: lambda: b"\x00\x02" + padding + b"\x11" + _nonzero(PREMASTER_LEN),
        Padding.WRONG_VERSION: lambda: b"\x00\x02" + padding + b"\x00" + b"\x02\x02" + secret,
    }
    plain = builders[variant]()
    assert len(plain) == key_bytes
    return plain


def rsa_public_key(der_certificate: bytes) -> rsa.RSAPublicKey | None:
    """The certificate's RSA key; None for another key type."""
    key = x509.load_der_x509_certificate(der_certificate).public_key()
    return key if isinstance(key, rsa.RSAPublicKey) else None


def encrypt_raw(key: rsa.RSAPublicKey, plain: bytes) -> bytes:
    """Textbook RSA (m^e mod n) of an already padded message, `key_bytes` long."""
    numbers = key.public_numbers()
    size = (numbers.n.bit_length() + 7) // 8
    value = pow(int.from_bytes(plain, "big"), numbers.e, numbers.n)
    return value.to_bytes(size, "big")


def key_size_bytes(key: rsa.RSAPublicKey) -> int:
    return (key.public_numbers().n.bit_length() + 7) // 8


def client_key_exchange(encrypted: bytes, version: int) -> bytes:
    """The ClientKeyExchange record; SSLv3 sends the ciphertext without a length (RFC 6101 5.6.7.1)."""
    body = encrypted if version == 0x0300 else vec16(encrypted)
    return encode_records(
        ContentType.handshake, version, handshake_message(HandshakeType.client_key_exchange, body)
    )


def key_exchange_flight(encrypted: bytes, version: int, finished: bytes) -> bytes:
    """ClientKeyExchange, ChangeCipherSpec and a Finished the server cannot verify (the same bytes for
    every variant): what a client sends after ServerHelloDone."""
    return (
        client_key_exchange(encrypted, version)
        + encode_records(ContentType.change_cipher_spec, version, b"\x01")
        + encode_records(ContentType.handshake, version, finished)
    )
