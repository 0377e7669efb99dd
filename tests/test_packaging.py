"""The wheel carries its rules and report templates and finds them when run from elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("tlsaudit-*.whl")
    return built


def test_wheel_contains_rules_and_reports(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "tlsaudit/_data/rules/endpoint/protocols.toml" in names
    assert "tlsaudit/_data/rules/policies/sage-intacct-2018.toml" in names
    assert "tlsaudit/_data/reports/report.schema.json" in names
    assert "tlsaudit/_data/reports/report.html.j2" in names
    assert "tlsaudit/_data/reports/report.css" in names
    # client profiles, one file per profile, installed as the rule tables are (issue 13)
    shipped = {p.name for p in (Path(__file__).parents[1] / "clients").glob("*.json")}
    packaged = {n.rsplit("/", 1)[1] for n in names if n.startswith("tlsaudit/_data/clients/")}
    assert len(shipped) >= 10 and shipped <= packaged
    # fleet mode: the playbook copies the collectors from the installed package
    assert {
        "tlsaudit/fleet/playbook.yml",
        "tlsaudit/fleet/scan_playbook.yml",
        "tlsaudit/fleet/collector.py",
        "tlsaudit/fleet/collector.ps1",
    } <= names


def test_installed_wheel_run_from_another_directory_finds_its_rules(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # Dependencies come from this interpreter's site-packages; the package itself only from the wheel.
    env = {**os.environ, "PYTHONPATH": f"{target}{os.pathsep}{sysconfig.get_paths()['purelib']}"}
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            "import sys; sys.path[:0] = __import__('os').environ['PYTHONPATH'].split(':');"
            "from tlsaudit.cli import run; sys.argv = ['tlsaudit', 'rules', 'list']; run()",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "endpoint.tls10-accepted" in result.stdout
    located = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            "import sys; sys.path[:0] = __import__('os').environ['PYTHONPATH'].split(':');"
            "from tlsaudit.data import rules_dir; print(rules_dir())",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert located.stdout.strip().startswith(str(target))


def test_every_shipped_rule_is_named_by_a_test() -> None:
    """Each rule id appears in at least one test, which exercises it firing and staying quiet."""
    from tlsaudit.engine import load_all_rules

    tests_text = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py"))
    missing = [rule.id for rule in load_all_rules() if rule.id not in tests_text]
    assert not missing, f"rules no test names: {missing}"
