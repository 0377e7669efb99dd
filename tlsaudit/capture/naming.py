"""Names for the codes a ClientHello carries, and which offered suites are weak.

Names come from the IANA registries in `tls/constants.py`; unknown codes keep their hex form. GREASE
values are dropped from the name lists (noise by design, RFC 8701) but stay in the raw `ClientHelloInfo`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tlsaudit.tls.constants import (
    SuiteClass,
    classify,
    extension_name,
    group_name,
    is_grease,
    signature_scheme_name,
    ssl2_cipher_name,
    suite_name,
)

# A client that offers any of these classes would let a careless server pick a broken suite.
WEAK_CLASSES: frozenset[str] = frozenset(
    {
        SuiteClass.NULL,
        SuiteClass.ANON,
        SuiteClass.EXPORT,
        SuiteClass.RC4,
        SuiteClass.DES,
        SuiteClass.THREE_DES,
        SuiteClass.RC2,
        SuiteClass.IDEA,
        SuiteClass.MD5,
    }
)

_NAMERS: dict[str, Callable[[int], str]] = {
    "suite": suite_name,
    "group": group_name,
    "signature_scheme": signature_scheme_name,
    "extension": extension_name,
    "sslv2_cipher": ssl2_cipher_name,
}


def labels(codes: Iterable[int], *, kind: str) -> tuple[str, ...]:
    """Names of the non-GREASE codes, in the client's order. `kind`: a key of `_NAMERS`."""
    namer = _NAMERS[kind]
    return tuple(namer(c) for c in codes if not is_grease(c))


def weak_suite_codes(codes: Iterable[int]) -> tuple[int, ...]:
    """The offered suites that are weak (see WEAK_CLASSES), in the client's order."""
    return tuple(c for c in codes if not is_grease(c) and classify(c) & WEAK_CLASSES)


def weak_suites(codes: Iterable[int]) -> tuple[str, ...]:
    return tuple(suite_name(c) for c in weak_suite_codes(codes))
