"""`scan --shard i/n`: the n shards of any target list partition it (hypothesis), the assignment is a
fixed function of the target (the same values on every machine and run, whatever the list's order), and
anything but 1 <= i <= n is refused with exit code 2 before any scan."""

from __future__ import annotations

import ipaddress
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsaudit.errors import UsageError
from tlsaudit.models import Target
from tlsaudit.probe.shard import Shard, parse_shard, select_shard, shard_number
from tlsaudit.probe.targets import parse_target, target_key, unique_targets

_labels = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
_names = st.lists(_labels, min_size=1, max_size=3).map(lambda parts: ".".join([*parts, "example"]))
_ipv4 = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
_ipv6 = st.integers(0, 2**128 - 1).map(lambda n: f"[{ipaddress.IPv6Address(n)}]")
_hosts = st.one_of(_names, _ipv4, _ipv6)
_ports = st.integers(1, 65535)
_schemes = st.sampled_from(["", "https://", "smtp://", "imaps://", "ldap://"])


@st.composite
def target_texts(draw: st.DrawFn) -> str:
    host, port, scheme = draw(_hosts), draw(_ports), draw(_schemes)
    text = f"{scheme}{host}:{port}"
    if draw(st.booleans()) and not host.startswith("["):
        text += f"{{127.0.{draw(st.integers(0, 255))}.{draw(st.integers(1, 254))}}}"
    return text


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(target_texts(), max_size=60), count=st.integers(1, 12))
def test_the_shards_partition_any_target_list(texts: list[str], count: int) -> None:
    targets = unique_targets(parse_target(t) for t in texts)
    shards = [select_shard(targets, Shard(index=i, count=count)) for i in range(1, count + 1)]
    keys = [[target_key(t) for t in shard] for shard in shards]
    flat = [k for shard in keys for k in shard]
    assert len(flat) == len(set(flat)) == len(targets)  # nothing twice, nothing lost
    assert set(flat) == {target_key(t) for t in targets}
    for shard in shards:  # each shard keeps the list's order
        positions = [targets.index(t) for t in shard]
        assert positions == sorted(positions)


@settings(max_examples=100, deadline=None)
@given(texts=st.lists(target_texts(), min_size=1, max_size=30, unique=True), count=st.integers(1, 9))
def test_a_target_lands_in_the_same_shard_whatever_the_list(texts: list[str], count: int) -> None:
    targets = [parse_target(t) for t in texts]
    alone = {target_key(t): shard_number(t, count) for t in targets}
    for index in range(1, count + 1):
        for target in select_shard(list(reversed(targets)), Shard(index=index, count=count)):
            assert alone[target_key(target)] == index


def _spellings(text: str) -> list[Target]:
    return [parse_target(text), parse_target(f"https://{text}/some/path")]


def test_two_spellings_of_one_endpoint_share_a_shard() -> None:
    for count in (2, 3, 7, 64):
        a, b = _spellings("[2001:db8::1]:8443")
        assert shard_number(a, count) == shard_number(b, count)


def test_the_assignment_is_a_fixed_function_of_the_target() -> None:
    """SHA-256 based: these values hold on every machine, Python version and run (PYTHONHASHSEED too)."""
    program = (
        "from tlsaudit.probe.targets import parse_target\n"
        "from tlsaudit.probe.shard import shard_number\n"
        "print([shard_number(parse_target(t), 7) for t in "
        "['api.example.com', '127.0.0.1:8443', 'smtp://mail.example.com:587', '[::1]:443']])\n"
    )
    seen = set()
    for seed in ("0", "1", "12345"):
        result = subprocess.run(
            [sys.executable, "-c", program],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
        )
        seen.add(result.stdout.strip())
    here = [
        shard_number(parse_target(t), 7)
        for t in ("api.example.com", "127.0.0.1:8443", "smtp://mail.example.com:587", "[::1]:443")
    ]
    assert seen == {str(here)}
    # The recorded assignment: a change of the hash would silently reshuffle every user's shards.
    assert here == [_expected(t, 7) for t in ("api.example.com", "127.0.0.1:8443",
                                              "smtp://mail.example.com:587", "[::1]:443")]  # fmt: skip


def _expected(text: str, count: int) -> int:
    """The documented formula, written out independently of the implementation."""
    import hashlib
    import json

    t = parse_target(text)
    key = [t.host, t.port, t.starttls, t.sni, t.address]
    digest = hashlib.sha256(json.dumps(key, separators=(",", ":")).encode()).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0/3", "numbered 1 to 3"),
        ("4/3", "numbered 1 to 3"),
        ("1/0", "at least 1"),
        ("0/0", "at least 1"),
        ("garbage", "expected i/n"),
        ("1/", "expected i/n"),
        ("/3", "expected i/n"),
        ("-1/3", "expected i/n"),
        ("1.5/3", "expected i/n"),
        ("1/3/5", "expected i/n"),
        ("", "expected i/n"),
    ],
)
def test_bad_shard_arguments_are_refused(text: str, words: str) -> None:
    with pytest.raises(UsageError, match=words):
        parse_shard(text)


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "garbage", "2"])
def test_the_cli_exits_2_on_a_bad_shard_before_scanning(text: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tlsaudit", "scan", "127.0.0.1:9", "--shard", text, "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"tlsaudit: error: --shard {text!r}: "), result.stderr
    assert result.stdout == ""


def test_good_shard_arguments() -> None:
    assert parse_shard("1/1") == Shard(index=1, count=1)
    assert parse_shard(" 3 / 8 ") == Shard(index=3, count=8)
    assert str(parse_shard("8/8")) == "8/8"
