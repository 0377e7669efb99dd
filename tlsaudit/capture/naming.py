"""Names for the codes a ClientHello carries, and which offered suites are weak.

Codes without a known name keep their hex form (`0x1301`), GREASE values are dropped from name lists
(they are noise by design, RFC 8701) but kept in the raw `ClientHelloInfo`.
"""

from __future__ import annotations

from collections.abc import Iterable

from tlsaudit.tls.client_hello_parse import is_grease

# Substrings of IANA suite names (TLS_/SSL_ prefix) that make a suite weak whatever the protocol version.
WEAK_SUITE_MARKERS: dict[str, str] = {
    "_RC4_": "rc4",
    "_3DES_": "3des",
    "_DES_": "des",
    "_DES40_": "export",
    "_EXPORT": "export",
    "_NULL_": "null",
    "_anon_": "anon",
    "_RC2_": "rc2",
    "_IDEA_": "idea",
    "_MD5": "md5",
}


def _hex(code: int) -> str:
    return f"0x{code:04X}"


def suite_label(code: int) -> str:
    return _hex(code)


def group_label(code: int) -> str:
    return _hex(code)


def signature_scheme_label(code: int) -> str:
    return _hex(code)


def extension_label(code: int) -> str:
    return _hex(code)


def labels(codes: Iterable[int], *, kind: str) -> tuple[str, ...]:
    """Names of the non-GREASE codes, in the client's order."""
    namer = {
        "suite": suite_label,
        "group": group_label,
        "signature_scheme": signature_scheme_label,
        "extension": extension_label,
    }[kind]
    return tuple(namer(c) for c in codes if not is_grease(c))


def weak_suite_classes(name: str) -> tuple[str, ...]:
    """Weakness classes of one suite, from its IANA name (`TLS_RSA_WITH_RC4_128_SHA` -> ("rc4",))."""
    found: list[str] = []
    probe = name if name.endswith("_") else name + "_"
    for marker, klass in WEAK_SUITE_MARKERS.items():
        if marker in probe and klass not in found:
            found.append(klass)
    return tuple(found)


def weak_suites(names: Iterable[str]) -> tuple[str, ...]:
    """The offered suites that are weak, in the client's order (signalling values are never weak)."""
    return tuple(n for n in names if not n.endswith("_SCSV") and weak_suite_classes(n))
