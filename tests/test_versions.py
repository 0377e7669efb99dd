"""Version normalisation per scheme, with the vendor strings of the runtime fact base."""

from __future__ import annotations

import pytest
from packaging.version import Version

from tlsaudit.versions import dotnet_release_version, normalise, parse_specifier, satisfies


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.7.0_80", "7.0.80"),
        ("8u292", "8.0.292"),
        ("1.8.0_292-b10", "8.0.292"),
        ("11.0.11", "11.0.11"),
        ("17.0.15+6-Debian-1deb12u1", "17.0.15"),
        ("1.6.0_45", "6.0.45"),
        ("1.5.0_22", "5.0.22"),
        ("9", "9"),
        ("21", "21"),
        ("1.8.0_292-8u292-b10-0ubuntu1~20.04-b10", "8.0.292"),
        ("21.0.8+9-LTS", "21.0.8"),
        ("11.0.7+8-LTS", "11.0.7"),
        ("17.0.21.1", "17.0.21.1"),
        ("1.8.0", "8.0.0"),
        ("1.8", "8"),
        ("jdk8u281-b09", "8.0.281"),
        ('openjdk version "17.0.15" 2025-04-15', "17.0.15"),
        ('java version "1.7.0_80"', "7.0.80"),
        ("openjdk 17.0.12 2024-07-16 LTS", "17.0.12"),
        ("8", "8"),
    ],
)
def test_java(raw: str, expected: str) -> None:
    assert normalise(raw, "java") == Version(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.0.1e-fips", "1.0.1.5"),
        ("0.9.8zh", "0.9.8.34"),
        ("0.9.8za", "0.9.8.27"),
        ("0.9.8z", "0.9.8.26"),
        ("1.0.1", "1.0.1"),
        ("1.0.1c", "1.0.1.3"),
        ("3.0.19", "3.0.19"),
        ("1.1.1w", "1.1.1.23"),
        ("OpenSSL 1.0.2k-fips  26 Jan 2017", "1.0.2.11"),
        ("OpenSSL 3.0.19 27 Jan 2026", "3.0.19"),
        ("OpenSSL 3.0.19 27 Jan 2026 (Library: OpenSSL 3.0.19 27 Jan 2026)", "3.0.19"),
        ("LibreSSL 2.8.3", "2.8.3"),
        ("OpenSSL/3.0.19", "3.0.19"),
        ("OpenSSL/0.9.8zh", "0.9.8.34"),
        ("NSS/3.19.1 Basic ECC", "3.19.1"),
        ("3.0", "3.0"),
    ],
)
def test_openssl(raw: str, expected: str) -> None:
    assert normalise(raw, "openssl") == Version(expected)


def test_openssl_letter_order() -> None:
    versions = [
        "0.9.8",
        "0.9.8a",
        "0.9.8z",
        "0.9.8za",
        "0.9.8zh",
        "1.0.0",
        "1.0.1",
        "1.0.1a",
        "1.0.1c",
        "1.0.2",
    ]
    normalised = [normalise(v, "openssl") for v in versions]
    assert all(v is not None for v in normalised)
    assert normalised == sorted(normalised)  # type: ignore[type-var]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("SR6 FP25", "6.25"),
        ("SR6", "6.0"),
        ("SR10 FP1", "10.1"),
        ("(SR6 FP26)", "6.26"),
        ("8.0.6.26 - pxa6480sr6fp26-20210216_01(SR6 FP26)", "6.26"),
        ("pxa6480sr7fp15-20220815_01", "7.15"),
        ("sr6fp25", "6.25"),
        ("6.25", "6.25"),
    ],
)
def test_ibm(raw: str, expected: str) -> None:
    assert normalise(raw, "ibm") == Version(expected)


def test_ibm_fix_pack_numeric() -> None:
    assert satisfies("SR6 FP3", "<SR6 FP25", "ibm") is True
    assert satisfies("SR6 FP25", ">=SR6 FP25", "ibm") is True
    assert satisfies("SR5 FP40", ">=SR6 FP25", "ibm") is False
    assert satisfies("1.8.0_281", ">=SR6", "ibm") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("378389", "4.5"),
        ("378758", "4.5.1"),
        ("379893", "4.5.2"),
        ("393297", "4.6"),
        ("394271", "4.6.1"),
        ("394806", "4.6.2"),
        ("460805", "4.7"),
        ("461310", "4.7.1"),
        ("461814", "4.7.2"),
        ("528040", "4.8"),
        ("528372", "4.8"),
        ("528449", "4.8"),
        ("533320", "4.8.1"),
        ("533509", "4.8.1"),
        ("0x80ea8", "4.8"),
        ("4.6.2", "4.6.2"),
        ("4.6", "4.6"),
    ],
)
def test_dotnet_release(raw: str, expected: str) -> None:
    assert normalise(raw, "dotnet-release") == Version(expected)


def test_dotnet_release_below_45_is_unknown() -> None:
    assert dotnet_release_version(300000) is None
    assert normalise("300000", "dotnet-release") is None
    assert satisfies("394802", ">=4.6", "dotnet-release") is True
    assert satisfies("379893", ">=4.6", "dotnet-release") is False
    assert satisfies("379893", "<393295", "dotnet-release") is True


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("v20.20.2", "20.20.2"),
        ("PHP 8.2.36 (cli)", "8.2.36"),
        ("7.88.1", "7.88.1"),
        ("3.11.7 (main, May)", "3.11.7"),
    ],
)
def test_plain(raw: str, expected: str) -> None:
    assert normalise(raw, "plain") == Version(expected)


@pytest.mark.parametrize("scheme", ["plain", "java", "openssl", "ibm", "dotnet-release"])
@pytest.mark.parametrize("raw", ["", "   ", "garbage", "BoringSSL", "Schannel"])
def test_no_version_is_none(raw: str, scheme: str) -> None:
    assert normalise(raw, scheme) is None
    assert satisfies(raw, "<1", scheme) is None


@pytest.mark.parametrize(
    ("raw", "spec", "scheme", "expected"),
    [
        ("0.9.8zh", "<1.0.1", "openssl", True),
        ("1.0.0t", "<1.0.1", "openssl", True),
        ("1.0.1", "<1.0.1", "openssl", False),
        ("1.0.1b", "<1.0.1c", "openssl", True),
        ("1.0.1c", "<1.0.1c", "openssl", False),
        ("1.0.1e-fips", ">=1.0.1, <1.0.1c", "openssl", False),
        ("1.0.1a", ">=1.0.1, <1.0.1c", "openssl", True),
        ("3.0.19", ">=3.0", "openssl", True),
        ("1.7.0_80", "<1.7.0_111", "java", True),
        ("1.7.0_111", "<1.7.0_111", "java", False),
        ("1.7.0_95", ">=7u95, <7u111", "java", True),
        ("1.6.0_45", "<=1.6.0_45", "java", True),
        ("1.6.0_121", ">=1.6.0_121, <1.7", "java", True),
        ("1.8.0_292-b10", ">=8u292", "java", True),
        ("1.8.0_282", ">=8u292", "java", False),
        ("11.0.10", ">=11, <11.0.11", "java", True),
        ("11.0.11", ">=11, <11.0.11", "java", False),
        ("17.0.15+6-Debian-1deb12u1", ">=11.0.11", "java", True),
        ("9", ">=8", "java", True),
        ("1.5.0_22", "<6", "java", True),
        ("11.0.10", "==11.*", "java", True),
        ("7.19.7", "<7.34.0", "plain", True),
        ("7.88.1", "<7.34.0", "plain", False),
    ],
)
def test_satisfies(raw: str, spec: str, scheme: str, expected: bool) -> None:
    assert satisfies(raw, spec, scheme) is expected


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("1.0.1", "expected an operator"),
        ("", "empty"),
        ("<", "expected an operator"),
        ("<1.0.1,", "expected an operator"),
        ("<garbage", "does not parse"),
        ("=>1.0", "expected an operator"),
    ],
)
def test_malformed_specifier(spec: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        satisfies("1.0.1", spec, "openssl")
    with pytest.raises(ValueError, match=fragment):
        parse_specifier(spec, "openssl")


def test_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="unknown version scheme 'semver'"):
        normalise("1.0", "semver")
    with pytest.raises(ValueError, match="unknown version scheme"):
        satisfies("1.0", "<2", "semver")


def test_specifier_normalised_with_scheme() -> None:
    assert str(parse_specifier("<1.0.1c", "openssl")) == "<1.0.1.3"
    assert str(parse_specifier("<1.7.0_111", "java")) == "<7.0.111"
    assert str(parse_specifier(">=SR6 FP25", "ibm")) == ">=6.25"
