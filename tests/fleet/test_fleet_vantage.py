"""`tlsaudit fleet --scan-targets`: inventory hosts (`ansible_connection=local`, running this venv's tlsaudit)
scan their shards of one target list through the real ansible-playbook; the JSONL comes back and is merged
into one report equal to an unsharded scan. A host that is unreachable and one whose scan fails leave
their shards unscanned: those targets are in the report as not assessed (verdict error), never dropped."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fleet.support import VENV_BIN
from tests.support.servers import VERSION_SETS, tls_server
from tlsaudit.cli import with_service_settings
from tlsaudit.models import TlsVersion
from tlsaudit.probe.shard import shard_number
from tlsaudit.probe.targets import parse_targets
from tlsaudit.report import schema_errors

CLOSED_PORTS = (1, 3, 4, 6, 8)  # below the ephemeral range: nothing listens there on 127.x.y.z
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
# sorted names give the shards: alpha 1, beta 2, delta 3, epsilon 4, gone 5
INVENTORY = {
    "alpha": {**LOCAL, "tlsaudit_command": [sys.executable, "-m", "tlsaudit"]},
    "beta": {**LOCAL, "tlsaudit_command": [sys.executable, "-m", "tlsaudit"]},
    "delta": {**LOCAL, "tlsaudit_command": [sys.executable, "-m", "tlsaudit"]},
    "epsilon": {**LOCAL, "tlsaudit_command": ["/nonexistent/tlsaudit"]},  # its scan fails
    # a closed port on loopback: the SSH connection is refused at once
    "gone": {"ansible_host": "127.0.0.1", "ansible_port": 9, "ansible_connection": "ssh"},
}
SHARDS = len(INVENTORY)


def _closed_targets() -> list[str]:
    """Closed loopback ports, enough that every shard holds at least two."""
    found: list[str] = []
    counts = dict.fromkeys(range(1, SHARDS + 1), 0)
    number = 0
    while min(counts.values()) < 2:
        target = f"127.0.{1 + number // 5}.1:{CLOSED_PORTS[number % 5]}"
        counts[_shard(target)] += 1
        found.append(target)
        number += 1
    return found


def _shard(target: str) -> int:
    """The shard of a target, as `scan --shard` computes it."""
    (parsed,) = parse_targets([target])
    return shard_number(with_service_settings(parsed, sni=None, starttls=None), SHARDS)


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.timeout(900)
def test_fleet_scan_shards_come_back_merged_and_lost_shards_are_not_assessed(tmp_path: Path) -> None:
    if not (VENV_BIN / "ansible-playbook").is_file():
        pytest.fail("ansible-playbook not installed (pip install -e '.[test,fleet]', make venv)")
    inventory = tmp_path / "hosts.yml"  # JSON is YAML: tlsaudit_command is an argv list
    inventory.write_text(json.dumps({"all": {"hosts": INVENTORY}}), encoding="utf-8")
    with contextlib.ExitStack() as servers:
        real = [servers.enter_context(tls_server(VERSION_SETS[name])) for name in ("tls12+13", "tls10-13")]
        real.append(servers.enter_context(tls_server({TlsVersion.TLSv1_2})))
        targets = [s.target for s in real] + _closed_targets()
        listing = tmp_path / "targets.txt"
        listing.write_text("\n".join(["# endpoints", *targets]) + "\n", encoding="utf-8")

        whole_json = tmp_path / "whole.json"
        tlsaudit = [sys.executable, "-m", "tlsaudit"]
        whole = _run([*tlsaudit, "scan", "-f", str(listing), "-q", "--timeout", "10", "-o", str(whole_json)])
        assert whole.returncode in (1, 3), whole.stderr
        merged_json, kept = tmp_path / "merged.json", tmp_path / "kept"
        fleet = [
            *tlsaudit,
            "fleet",
            "-i",
            str(inventory),
            "--scan-targets",
            str(listing),
            "--scan-timeout",
            "10",
        ]
        done = _run([*fleet, "-q", "--keep-facts", str(kept), "-o", str(merged_json)])

    report: dict[str, Any] = json.loads(merged_json.read_text(encoding="utf-8"))
    assert schema_errors(report) == []
    endpoints = report["endpoints"]
    # every target exactly once
    assert sorted(e["target"] for e in endpoints) == sorted(targets), done.stderr
    shard_of = {t: _shard(t) for t in targets}
    # each working host scanned exactly its shard (1..n over the sorted host names)
    for number, host in enumerate(sorted(INVENTORY), start=1):
        stream = kept / f"{host}.jsonl"
        if number <= 3:
            lines = [json.loads(line) for line in stream.read_text(encoding="utf-8").splitlines()]
            assert sorted(e["target"] for e in lines) == sorted(t for t in targets if shard_of[t] == number)
        else:
            assert not stream.exists()
    # the shards that came back judge exactly as the unsharded scan
    expected = {
        e["id"]: e["verdict"] for e in json.loads(whole_json.read_text(encoding="utf-8"))["endpoints"]
    }
    for endpoint in endpoints:
        number = shard_of[endpoint["target"]]
        if number <= 3:
            assert endpoint["verdict"] == expected[endpoint["id"]], endpoint
            continue
        # the failed and the unreachable host: their shards are not assessed, seen from them, with the reason
        host = sorted(INVENTORY)[number - 1]
        assert endpoint["verdict"] == "error" and endpoint["source_host"] == host, endpoint
        why = endpoint["errors"][0]
        assert why.startswith(f"not scanned: vantage host {host} (shard {number}/{SHARDS}): "), why
        assert (
            ("unreachable" in why and "Connection refused" in why) if host == "gone" else "exit code" in why
        )
        assert any(f["subject"] == endpoint["id"] and f["status"] == "error" for f in report["findings"])
    assert "shard 4/5 (epsilon) recorded as not assessed" in done.stderr
    assert "shard 5/5 (gone) recorded as not assessed: unreachable" in done.stderr
    # exit code: a failing endpoint wins over the not-assessed ones (exit 1), else 3
    assert done.returncode == (1 if any(e["verdict"] == "fail" for e in endpoints) else 3), done.stderr
