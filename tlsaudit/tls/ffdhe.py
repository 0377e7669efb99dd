"""Well-known finite-field groups, recognised from the prime a ServerKeyExchange carries.

The RFC 7919 groups: p = 2^b - 2^{b-64} + {[2^{b-130} e] + X} * 2^64 - 1 (RFC 7919 appendix A). The
older MODP groups of RFC 2409 (768, 1024 bits: Oakley groups 1 and 2, the 1024-bit one shared by many
servers) and RFC 3526 (1536 ... 8192 bits): p = 2^b - 2^{b-64} - 1 + 2^64 * {[2^{b-130} pi] + X}. Both are
computed here from e or pi and the published X rather than kept as long constants.
"""

from __future__ import annotations

from collections.abc import Callable
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
# bits -> (name, X of RFC 2409 section 6 / RFC 3526)
_MODP: dict[int, tuple[str, int]] = {
    768: ("modp768", 149686),
    1024: ("modp1024", 129093),
    1536: ("modp1536", 741804),
    2048: ("modp2048", 124476),
    3072: ("modp3072", 1690314),
    4096: ("modp4096", 240904),
    6144: ("modp6144", 929484),
    8192: ("modp8192", 4743158),
}


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
    return _known(prime, _FFDHE, ffdhe_prime)


def _known(prime: bytes, table: dict[int, tuple[str, int]], compute: Callable[[int], int]) -> str | None:
    value = int.from_bytes(prime, "big")
    entry = table.get(value.bit_length())
    if entry is None or value != compute(value.bit_length()):
        return None
    return entry[0]


def _arctan_inverse(n: int, one: int) -> int:
    """arctan(1/n) in fixed point (`one` = 1.0), by its alternating series."""
    total = term = one // n
    k, square = 1, n * n
    while term:
        term //= square
        k += 2
        total += -(term // k) if k % 4 == 3 else term // k
    return total


def _floor_pi_times_power_of_two(exponent: int) -> int:
    guard = 64
    one = 1 << (exponent + guard)
    pi = 4 * (4 * _arctan_inverse(5, one) - _arctan_inverse(239, one))  # Machin's formula
    return pi >> guard


@cache
def modp_prime(bits: int) -> int:
    _name, x = _MODP[bits]
    return (1 << bits) - (1 << (bits - 64)) - 1 + ((_floor_pi_times_power_of_two(bits - 130) + x) << 64)


def modp_name(prime: bytes) -> str | None:
    """`modp768` ... `modp8192` for an RFC 2409 / RFC 3526 prime, None for any other."""
    return _known(prime, _MODP, modp_prime)
