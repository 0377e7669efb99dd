"""The RFC 7919 finite-field groups, recognised from the prime a ServerKeyExchange carries.

Each prime is p = 2^b - 2^{b-64} + {[2^{b-130} e] + X} * 2^64 - 1 (RFC 7919 appendix A), computed here
from e and the published X rather than kept as long constants.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from functools import cache

# bits -> (IANA name, X of RFC 7919 appendix A)
_FFDHE: dict[int, tuple[str, int]] = {
    2048: ("ffdhe2048", 560316),
    3072: ("ffdhe3072", 2625351),
    4096: ("ffdhe4096", 5736041),
    6144: ("ffdhe6144", 15705020),
    8192: ("ffdhe8192", 10965728),
}
FFDHE_BITS: dict[str, int] = {name: bits for bits, (name, _x) in _FFDHE.items()}


def _floor_e_times_power_of_two(exponent: int) -> int:
    with localcontext() as ctx:
        ctx.prec = exponent * 30103 // 100000 + 40  # decimal digits of 2^exponent, and a margin
        value = (Decimal(1).exp() * (Decimal(2) ** exponent)).to_integral_value(rounding="ROUND_FLOOR")
        return int(value)


@cache
def ffdhe_prime(bits: int) -> int:
    _name, x = _FFDHE[bits]
    return (1 << bits) - (1 << (bits - 64)) + ((_floor_e_times_power_of_two(bits - 130) + x) << 64) - 1


def ffdhe_name(prime: bytes) -> str | None:
    """`ffdhe2048` ... `ffdhe8192` for an RFC 7919 prime, None for any other."""
    value = int.from_bytes(prime, "big")
    entry = _FFDHE.get(value.bit_length())
    if entry is None or value != ffdhe_prime(value.bit_length()):
        return None
    return entry[0]
