"""5,000 endpoints on loopback, scanned in 4 shards by 4 separate processes (targets from stdin), merged
back with `report` into one report: every target exactly once, and every verdict and finding the same as
in one unsharded scan of the same list. Real TLS servers among closed ports on many 127.x.y.z addresses
(a closed loopback port refuses at once, so 5,000 endpoints take seconds)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.certs import make_cert
from tests.support.servers import VERSION_SETS, tls_server
from tlsaudit.models import TlsVersion

TOTAL = 5000
SHARDS = 4
CLOSED_PORTS = (1, 3, 4, 6, 8)  # below the ephemeral range: nothing listens there on 127.x.y.z


def _argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "tlsaudit", *args]


def _scan_args() -> list[str]:
    return ["scan", "-f", "-", "-q", "--timeout", "10", "--ca-file", str(make_cert().ca)]


def _judged(report: dict[str, Any]) -> tuple[dict[str, str], set[tuple[str, str, str]]]:
    verdicts = {e["id"]: e["verdict"] for e in report["endpoints"]}
    findings = {(f["rule_id"], f["subject"], f["status"]) for f in report["findings"]}
    return verdicts, findings


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sharded_scan_merges_back_into_the_unsharded_report(tmp_path: Path) -> None:
    with contextlib.ExitStack() as servers:
        real = [
            servers.enter_context(tls_server(VERSION_SETS[name]))
            for name in ("tls12+13", "tls10-13", "tls12+13")
        ]
        real.append(servers.enter_context(tls_server({TlsVersion.TLSv1_2})))
        named = f"named.test:{real[0].port}{{127.0.0.1}}"  # a name connected to an address: SNI mismatch
        targets = [s.target for s in real] + [named]
        closed_count = TOTAL - len(targets)
        targets += [
            f"127.{1 + i // 60000}.{(i // 250) % 240}.{1 + i % 250}:{CLOSED_PORTS[i % len(CLOSED_PORTS)]}"
            for i in range(closed_count)
        ]
        # the same endpoint written another way is one target, in every shard count
        listing = "\n".join([*targets, f"https://{real[1].target}/", "# a comment"]) + "\n"

        whole_json, whole_jsonl = tmp_path / "whole.json", tmp_path / "whole.jsonl"
        whole = subprocess.run(
            _argv(*_scan_args(), "-o", str(whole_json), "-o", str(whole_jsonl)),
            input=listing,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert whole.returncode == 1, whole.stderr  # TLS 1.0 accepted: a failure

        shard_files = [tmp_path / f"shard-{i}.jsonl" for i in range(1, SHARDS + 1)]
        processes = [
            subprocess.Popen(
                _argv(*_scan_args(), "--shard", f"{i}/{SHARDS}", "-o", str(path)),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i, path in enumerate(shard_files, start=1)
        ]
        outcomes = [p.communicate(listing, timeout=600) for p in processes]
        for process, (_, stderr) in zip(processes, outcomes, strict=True):
            assert process.returncode in (1, 3), stderr

    shards = [[json.loads(line) for line in path.read_text().splitlines()] for path in shard_files]
    ids_per_shard = [[e["id"] for e in shard] for shard in shards]
    all_ids = [i for shard in ids_per_shard for i in shard]
    assert all(shard for shard in shards)  # 5,000 targets leave no shard empty
    assert len(all_ids) == TOTAL == len(set(all_ids))  # nothing lost, nothing twice
    unsharded = json.loads(whole_json.read_text())
    assert {e["id"] for e in unsharded["endpoints"]} == set(all_ids)
    assert len(whole_jsonl.read_text().splitlines()) == TOTAL

    merged_file = tmp_path / "merged.json"
    merged_run = subprocess.run(
        _argv("report", *map(str, shard_files), "-o", str(merged_file)),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert merged_run.returncode == whole.returncode, merged_run.stderr
    assert "duplicate" not in merged_run.stderr
    merged = json.loads(merged_file.read_text())
    assert len(merged["endpoints"]) == TOTAL
    merged_verdicts, merged_findings = _judged(merged)
    whole_verdicts, whole_findings = _judged(unsharded)
    assert merged_verdicts == whole_verdicts
    assert merged_findings == whole_findings
    assert merged["summary"]["verdict"] == unsharded["summary"]["verdict"] == "fail"
    assert merged["summary"]["counts"] == unsharded["summary"]["counts"]
    by_port = {e["port"]: e["verdict"] for e in merged["endpoints"] if e["ip"] == "127.0.0.1"}
    assert by_port[real[1].port] == "fail" and by_port[real[3].port] == "pass"
    assert sum(v == "error" for v in merged_verdicts.values()) == closed_count
