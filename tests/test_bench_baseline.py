"""The benchmark's baseline comparison: the right package is imported, and runs are paired."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.model import VERSIONS, Endpoint, Status, ToolRun
from bench.paired import Paired
from bench.report import MB, outcome
from bench.scanners.common import ScannerUnavailable
from bench.scanners.tlsaudit import Checkout, command, imported_from


def test_a_baseline_checkout_shadows_the_editable_install(tmp_path: Path) -> None:
    (tmp_path / "tlsaudit").mkdir()
    (tmp_path / "tlsaudit" / "__init__.py").write_text("")
    checkout = Checkout(tool="old", root=tmp_path)
    assert imported_from(checkout) == str((tmp_path / "tlsaudit").resolve())
    argv, env = command(checkout)
    assert argv[1:] == ["-c", "import sys; from tlsaudit.cli import main; sys.exit(main())"]
    assert env["PYTHONPATH"].split(":")[0] == str(tmp_path)


def test_a_directory_without_the_package_is_refused(tmp_path: Path) -> None:
    # the editable install (this checkout) would be imported instead: never measure it as the baseline
    with pytest.raises(ScannerUnavailable, match="not from"):
        imported_from(Checkout(tool="old", root=tmp_path))


def _run(tool: str, wall: float, cpu: float, mb: int, status: Status) -> ToolRun:
    return ToolRun(
        tool=tool,
        mode="tls",
        targets=1,
        wall_seconds=wall,
        cpu_seconds=cpu,
        peak_rss_bytes=mb * MB,
        verdicts={"127.0.0.1:1": {v: status if v == "TLSv1.2" else Status.REJECTED for v in VERSIONS}},
        exit_codes=(0,),
        timed_out=False,
    )


def test_ratios_are_paired_run_by_run() -> None:
    endpoint = Endpoint(port=1, profile="tls12", key_type="rsa", accepted=frozenset({"TLSv1.2"}))
    after = (_run("new", 2.0, 1.0, 40, Status.ACCEPTED), _run("new", 6.0, 1.0, 40, Status.ACCEPTED))
    before = (_run("old", 1.0, 1.0, 20, Status.ACCEPTED), _run("old", 4.0, 2.0, 40, Status.REJECTED))
    pair = Paired(
        mode="tls",
        after=after,
        before=before,
        after_outcome=outcome(list(after), [endpoint], []),
        before_outcome=outcome(list(before), [endpoint], []),
    )
    data = pair.record()
    assert data["wall_seconds"]["ratios"] == [2.0, 1.5]
    assert data["wall_seconds"]["ratio_median"] == 1.75
    assert data["wall_seconds"]["after_median"] == 4.0
    assert data["cpu_seconds"]["ratios"] == [1.0, 0.5]
    assert data["peak_mb"]["ratio_median"] == 1.5
    assert data["verdicts_right"] == {"after": "12/12", "before": "11/12"}
    assert any("x1.75" in line for line in pair.lines())


def test_checkouts_run_with_their_bytecode_kept_unless_asked_to_compile_from_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both sides of a comparison run as installed (compiled once), or both compile every run."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    _, kept = command(Checkout(tool="old", root=tmp_path, bytecode=True))
    _, source = command(Checkout(tool="old", root=tmp_path))
    assert "PYTHONDONTWRITEBYTECODE" not in kept
    assert source["PYTHONDONTWRITEBYTECODE"] == "1"
