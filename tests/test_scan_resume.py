"""`scan --resume`: a real scan interrupted by SIGINT, resumed and killed with SIGKILL, its stream then cut
in the middle of its last line, and resumed again to the end: the JSONL holds every target exactly once,
every line complete, and nothing that was finished is scanned again."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IPV6_LOOPBACK
from tests.support.certs import make_cert
from tests.support.servers import VERSION_SETS, silent_server, tls_server
from tlsaudit.endpoint_lines import endpoint_errors

CLOSED = 300


def _complete_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
            if line.endswith("\n")]  # fmt: skip


def _scan(stream: Path, listing: Path, *extra: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "tlsaudit", "scan", "-f", str(listing), "-o", str(stream), "-q"]
    argv += ["--timeout", "0.5", "--retries", "1", "--ca-file", str(make_cert().ca), *extra]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _run(stream: Path, listing: Path, *extra: str) -> int:
    process = _scan(stream, listing, *extra)
    process.communicate(timeout=120)
    return process.returncode


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 90
    while not condition():
        assert process.poll() is None, f"the scan ended before {what}: {process.communicate()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_interrupted_and_killed_scans_resume_without_loss_or_duplicates(tmp_path: Path) -> None:
    with tls_server(VERSION_SETS["tls12+13"]) as tls, silent_server() as silent:
        # Closed ports refuse at once; each silent target takes a second (its probes time out), and they
        # go one at a time (all share one address and port), so the scan is still running when stopped.
        closed = [f"127.0.{10 + i // 200}.{1 + i % 200}:{7000 + i % 5}" for i in range(CLOSED)]
        slow = [f"slow{i}.test:{silent.port}{{127.0.0.1}}" for i in range(8)]
        real = [tls.target, f"https://{tls.target}/again", f"named.test:{tls.port}{{127.0.0.1}}"]
        listing = tmp_path / "targets.txt"
        listing.write_text("\n".join([*real, *closed, *slow]) + "\n")
        expected = {
            tls.target,
            f"named.test:{tls.port} (127.0.0.1)",
            *closed,
            *(f"slow{i}.test:{silent.port} (127.0.0.1)" for i in range(8)),
        }
        stream = tmp_path / "scan.jsonl"

        first = _scan(stream, listing)
        _wait_for(lambda: len(_complete_lines(stream)) >= CLOSED, first, "the closed ports were done")
        first.send_signal(signal.SIGINT)
        _, stderr = first.communicate(timeout=60)
        assert first.returncode == 3, stderr  # interrupted: not everything assessed
        after_sigint = _complete_lines(stream)
        assert stream.read_text().endswith("\n")  # Ctrl-C leaves only whole lines
        assert CLOSED <= len(after_sigint) < len(expected)
        assert all(endpoint_errors(line) == [] for line in after_sigint)
        assert not any("interrupted" in json.dumps(line) for line in after_sigint)

        second = _scan(stream, listing, "--resume", str(stream))
        _wait_for(lambda: len(_complete_lines(stream)) > len(after_sigint), second, "one more endpoint")
        second.send_signal(signal.SIGKILL)
        second.communicate(timeout=60)
        after_kill = _complete_lines(stream)
        assert len(after_kill) < len(expected)
        assert [line["id"] for line in after_kill[: len(after_sigint)]] == [x["id"] for x in after_sigint]

        # A kill in the middle of a write: the last line cut in half. Its target must be scanned again.
        text = stream.read_text()
        last = text.splitlines(keepends=True)[-1]
        cut_id = after_kill[-1]["id"]
        stream.write_text(text[: -len(last)] + last[: len(last) // 2])

        third = _scan(stream, listing, "--resume", str(stream), "-o", str(tmp_path / "final.json"))
        _, stderr = third.communicate(timeout=120)
        assert third.returncode == 1, stderr  # named.test is not the certificate's name: a failure
        assert f"{stream}:{len(after_kill)}: a line cut short" in stderr
    lines = _complete_lines(stream)
    assert stream.read_text().endswith("\n")
    ids = [line["id"] for line in lines]
    assert len(ids) == len(set(ids)), "a target was written twice"
    assert set(ids) == expected
    assert ids.count(cut_id) == 1
    # what was finished before the kill was not scanned again: those lines are unchanged, in place
    assert lines[: len(after_kill) - 1] == after_kill[:-1]
    report = json.loads((tmp_path / "final.json").read_text())
    assert {e["id"] for e in report["endpoints"]} == expected  # the report covers the resumed ones too
    assert len(report["endpoints"]) == len(expected)


def test_resume_from_another_file_writes_only_what_is_new(tmp_path: Path) -> None:
    targets = [f"127.0.20.{i}:7001" for i in range(1, 11)]
    listing = tmp_path / "t.txt"
    listing.write_text("\n".join(targets[:6]) + "\n")
    old = tmp_path / "old.jsonl"
    assert _run(old, listing) == 3
    listing.write_text("\n".join(targets) + "\n")
    new = tmp_path / "new.jsonl"
    assert _run(new, listing, "--resume", str(old)) == 3
    assert sorted(line["id"] for line in _complete_lines(new)) == sorted(targets[6:])
    # a resume file that does not exist yet: nothing done, everything scanned
    fresh = tmp_path / "fresh.jsonl"
    assert _run(fresh, listing, "--resume", str(fresh)) == 3
    assert sorted(line["id"] for line in _complete_lines(fresh)) == sorted(targets)


def test_resume_into_a_non_jsonl_output_is_refused(tmp_path: Path) -> None:
    listing = tmp_path / "t.txt"
    listing.write_text("127.0.20.1:7001\n")
    report = tmp_path / "r.json"
    report.write_text("")
    process = _scan(report, listing, "--resume", str(report))
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "can only be continued as jsonl" in stderr


@pytest.mark.parametrize(
    ("targets", "extra"),
    [
        (
            [
                "127.0.21.1:9",
                "localhost:9",
                "name.test:9{127.0.21.2}",
                "smtp://127.0.21.3:2525",
                "127.0.21.4",
            ],
            [],
        ),
        (["127.0.21.5:9", "name.test:9{127.0.21.6}", "localhost:9"], ["--sni", "other.test"]),
        (["127.0.21.7:9", "https://127.0.21.8:9/x"], ["--starttls", "imap"]),
        (["[::1]:9", "https://[::1]:9/"], []),
    ],
)
def test_every_kind_of_target_is_recognised_when_resuming(
    tmp_path: Path, targets: list[str], extra: list[str]
) -> None:
    if any("::1" in t for t in targets) and not IPV6_LOOPBACK:
        pytest.fail("IPv6 loopback ::1 is not available on this machine (no IPv6 in the kernel)")
    listing = tmp_path / "t.txt"
    listing.write_text("\n".join(targets) + "\n")
    first = tmp_path / "first.jsonl"
    assert _run(first, listing, *extra) == 3
    done = _complete_lines(first)
    assert done
    second, report = tmp_path / "second.jsonl", tmp_path / "report.json"
    assert _run(second, listing, *extra, "--resume", str(first), "-o", str(report)) == 3
    assert second.read_text() == ""  # everything was already there: nothing scanned again
    assert sorted(e["id"] for e in json.loads(report.read_text())["endpoints"]) == sorted(
        e["id"] for e in done
    )
