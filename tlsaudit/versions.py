"""Vendor version strings normalised to comparable versions, per scheme.

Rules state versions the way vendors write them (`1.7.0_80`, `1.0.1e-fips`, `SR6 FP25`, a .NET Release DWORD);
both the fact and the specifier go through the same scheme before they are compared.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

# ---------------------------------------------------------------- plain

_DOTTED = re.compile(r"(?<![\d.])(\d+(?:\.\d+)*)")


def _plain(raw: str) -> Version | None:
    """The first run of dotted numbers (`v20.20.2` -> 20.20.2, `PHP 8.2.36 (cli)` -> 8.2.36)."""
    m = _DOTTED.search(raw)
    return _version(m.group(1)) if m else None


# ---------------------------------------------------------------- java

_JAVA_QUOTED = re.compile(r'"([^"]+)"')
_JAVA_FORMS = re.compile(
    r"(?<![\d.])(?:"
    r"1\.(?P<old_major>\d+)(?:\.(?P<old_minor>\d+))?(?:_(?P<old_update>\d+))?"  # 1.8.0_292, 1.6.0_45, 1.8
    r"|(?P<u_major>\d+)u(?P<u_update>\d+)"  # 8u292, jdk8u281-b09
    r"|(?P<new>\d+(?:\.\d+)*)"  # 9, 11.0.11, 17.0.15+6-Debian-1deb12u1
    r")"
)


def _java(raw: str) -> Version | None:
    """`1.N.M_UU` -> N.M.UU, `NuUU` -> N.0.UU, 9+ -> the dotted numbers before any `+`/`-` build suffix."""
    quoted = _JAVA_QUOTED.search(raw)
    text = quoted.group(1) if quoted else raw
    m = _JAVA_FORMS.search(text)
    if m is None:
        return None
    if m.group("old_major") is not None:
        major = int(m.group("old_major"))
        if major < 2:  # "1.0", "1.1": the JDK 1.0/1.1 era, no JSSE at all; keep literal
            return _version(f"1.{major}.{m.group('old_minor') or 0}")
        minor = m.group("old_minor") or "0"
        update = m.group("old_update") or "0"
        return _version(f"{major}.{int(minor)}.{int(update)}")
    if m.group("u_major") is not None:
        return _version(f"{int(m.group('u_major'))}.0.{int(m.group('u_update'))}")
    return _version(m.group("new"))


# ---------------------------------------------------------------- openssl

_OPENSSL = re.compile(r"(?<![\d.])(\d+)(?:\.(\d+))?(?:\.(\d+))?([a-z]*)(?![a-z])")


def _letters_value(letters: str) -> int:
    """OpenSSL patch letters: a=1 .. z=26, then za=27, zb=28 .. zh=34 (each leading z adds 26)."""
    return sum(ord(c) - ord("a") + 1 for c in letters)


def _openssl(raw: str) -> Version | None:
    """`1.0.1e-fips` -> 1.0.1.5, `0.9.8zh` -> 0.9.8.34, `OpenSSL 3.0.19 27 Jan 2026` -> 3.0.19."""
    m = _OPENSSL.search(raw)
    if m is None:
        return None
    major, minor, patch, letters = m.group(1), m.group(2) or "0", m.group(3) or "0", m.group(4)
    text = f"{int(major)}.{int(minor)}.{int(patch)}"
    if letters:
        text += f".{_letters_value(letters)}"
    return _version(text)


# ---------------------------------------------------------------- ibm

_IBM_SR_FP = re.compile(r"\bSR\s*(\d+)(?:\s*FP\s*(\d+))?", re.IGNORECASE)
_IBM_BUILD = re.compile(r"sr(\d+)(?:fp(\d+))?", re.IGNORECASE)  # pxa6480sr6fp26-20210216_01
_ONLY_DOTTED = re.compile(r"\s*(\d+(?:\.\d+)*)\s*")


def _ibm(raw: str) -> Version | None:
    """IBM service refresh and fix pack: `SR6 FP25` -> 6.25, `SR10` -> 10.0; a bare `6.25` is taken as is."""
    m = _IBM_SR_FP.search(raw) or _IBM_BUILD.search(raw)
    if m is not None:
        return _version(f"{int(m.group(1))}.{int(m.group(2) or 0)}")
    dotted = _ONLY_DOTTED.fullmatch(raw)
    return _version(dotted.group(1)) if dotted else None


# ---------------------------------------------------------------- dotnet-release

# Minimum `Release` DWORD (HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full) per version, newest first.
DOTNET_RELEASES: tuple[tuple[int, str], ...] = (
    (533320, "4.8.1"),
    (528040, "4.8"),
    (461808, "4.7.2"),
    (461308, "4.7.1"),
    (460798, "4.7"),
    (394802, "4.6.2"),
    (394254, "4.6.1"),
    (393295, "4.6"),
    (379893, "4.5.2"),
    (378675, "4.5.1"),
    (378389, "4.5"),
)
_DWORD = re.compile(r"\s*(?:0x[0-9a-fA-F]+|\d+)\s*")


def dotnet_release_version(release: int) -> str | None:
    """The .NET Framework version a Release DWORD stands for; None below 4.5 (no Release value then)."""
    for minimum, version in DOTNET_RELEASES:
        if release >= minimum:
            return version
    return None


def _dotnet_release(raw: str) -> Version | None:
    """A Release DWORD (`528040`, `0x80ea8`) -> the Framework version (4.8); a dotted `4.6.2` stays as is."""
    if _DWORD.fullmatch(raw) and (raw.strip().lower().startswith("0x") or int(raw) >= 1000):
        value = int(raw.strip(), 0) if raw.strip().lower().startswith("0x") else int(raw)
        mapped = dotnet_release_version(value)
        return _version(mapped) if mapped else None
    return _plain(raw)


# ---------------------------------------------------------------- API

SCHEMES: dict[str, Callable[[str], Version | None]] = {
    "plain": _plain,
    "java": _java,
    "openssl": _openssl,
    "ibm": _ibm,
    "dotnet-release": _dotnet_release,
}


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _scheme(scheme: str) -> Callable[[str], Version | None]:
    try:
        return SCHEMES[scheme]
    except KeyError:
        raise ValueError(f"unknown version scheme {scheme!r} (known: {', '.join(SCHEMES)})") from None


def normalise(raw: str, scheme: str) -> Version | None:
    """The comparable version in `raw` under `scheme`; None when `raw` holds no version of that form."""
    parse = _scheme(scheme)
    if not isinstance(raw, str) or not raw.strip():
        return None
    return parse(raw)


_CLAUSE = re.compile(r"\s*(~=|===|==|!=|<=|>=|<|>)\s*(.*?)\s*")


def parse_specifier(specifier: str, scheme: str) -> SpecifierSet:
    """`"<1.0.1c"`, `">=1.7.0_111, <1.8"` ... with each version normalised by `scheme`.

    Raises ValueError naming the clause at fault when a clause has no operator or its version does not parse.
    """
    parse = _scheme(scheme)
    clauses = specifier.split(",")
    if not specifier.strip():
        raise ValueError("empty version specifier")
    normalised: list[str] = []
    for clause in clauses:
        m = _CLAUSE.fullmatch(clause)
        if m is None or not m.group(2):
            raise ValueError(
                f"bad version specifier clause {clause.strip()!r} in {specifier!r}: "
                "expected an operator (<, <=, >, >=, ==, !=, ~=) followed by a version"
            )
        op, text = m.group(1), m.group(2)
        wildcard = op in ("==", "!=") and text.endswith(".*")
        version = parse(text[:-2] if wildcard else text)
        if version is None:
            raise ValueError(
                f"version {text!r} in specifier {specifier!r} does not parse with scheme {scheme!r}"
            )
        normalised.append(f"{op}{version}{'.*' if wildcard else ''}")
    try:
        return SpecifierSet(",".join(normalised), prereleases=True)
    except InvalidSpecifier as exc:
        raise ValueError(f"bad version specifier {specifier!r}: {exc}") from None


def satisfies(raw: str, specifier: str, scheme: str) -> bool | None:
    """Whether the version in `raw` satisfies `specifier` (both read with `scheme`); None if `raw` has none.

    A malformed specifier raises ValueError even when `raw` is unknown, so that rule files fail early.
    """
    spec = parse_specifier(specifier, scheme)
    version = normalise(raw, scheme)
    if version is None:
        return None
    return spec.contains(version, prereleases=True)
