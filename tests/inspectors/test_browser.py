"""Browsers: versions read from the installed binaries, and the TLS defaults judged by version."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tlsaudit.inspectors.browser import (
    browser_details,
    launcher_target,
    parse_browser_version,
    without_launchers,
)


@pytest.mark.parametrize(
    ("text", "browser", "tls12", "tls10_off"),
    [
        ("Chromium 156.0.8078.129 built on Debian GNU/Linux 12 (bookworm)", "Chromium", True, True),
        ("Google Chrome 83.0.4103.116", "Chrome", True, False),
        ("Google Chrome 29.0.1547.76", "Chrome", False, False),
        ("Microsoft Edge 120.0.2210.91", "Edge", True, True),
        ("Mozilla Firefox 153.8.0esr", "Firefox ESR", True, True),
        ("Mozilla Firefox 68.12.0esr", "Firefox ESR", True, False),
        ("Mozilla Firefox 26.0", "Firefox", False, False),
    ],
)
def test_defaults_by_version(text: str, browser: str, tls12: bool, tls10_off: bool) -> None:
    parsed = parse_browser_version(text)
    assert parsed is not None
    details = browser_details(*parsed)
    assert details["browser"] == browser
    assert details["tls12_by_default"] is tls12
    assert details["tls10_11_disabled"] is tls10_off


def test_unknown_program_is_not_a_browser() -> None:
    assert parse_browser_version("curl 7.88.1 (x86_64-pc-linux-gnu)") is None


def _runtimes(kind: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "tlsaudit", "runtimes", "--kind", kind, "--format", "json", "-o", "-", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report: dict[str, object] = json.loads(done.stdout)
    return report


@pytest.mark.parametrize("binary", ["chromium", "firefox-esr"])
def test_installed_browser_is_listed_with_its_defaults(binary: str) -> None:
    path = shutil.which(binary)
    if path is None:
        pytest.fail(f"{binary} is not installed (Debian package {binary}, make system-deps)")
    version = subprocess.run(
        [path, "--version"], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    report = _runtimes("browser")
    runtimes = report["runtimes"]
    assert isinstance(runtimes, list)
    mine = [r for r in runtimes if r["path"] == path]
    assert mine, runtimes
    assert mine[0]["version"] in version
    assert mine[0]["details"]["tls12_by_default"] is True
    ids = {f["rule_id"] for f in report["findings"]}  # type: ignore[attr-defined]
    assert {"runtime.browser.no-tls12", "runtime.browser.tls10-still-offered"} <= ids


def test_a_browser_is_listed_once_with_its_launcher_script() -> None:
    """Debian installs /usr/bin/firefox, a shell script that runs firefox-esr: one browser, one entry."""
    report = _runtimes("browser")
    runtimes = report["runtimes"]
    assert isinstance(runtimes, list)
    firefox = [r for r in runtimes if "firefox" in Path(r["path"]).name]
    assert len(firefox) == 1, [r["path"] for r in firefox]
    versions = [(r["details"].get("browser"), r["version"]) for r in runtimes]
    assert len(versions) == len(set(versions)), versions


def test_launcher_scripts_are_left_out_only_when_they_run_another_listed_browser(tmp_path: Path) -> None:
    real = tmp_path / "firefox-esr"
    real.write_text("#!/bin/sh\necho Mozilla Firefox 128.0esr\n", encoding="utf-8")
    launcher = tmp_path / "firefox"
    launcher.write_text('#!/bin/sh\n[ -x "$0.real" ] && exec "$0.real" "$@"\nexec firefox-esr "$@"\n')
    other = tmp_path / "chromium"
    other.write_text('#!/bin/sh\nexec /opt/elsewhere/chrome "$@"\n', encoding="utf-8")
    for path in (real, launcher, other):
        path.chmod(0o755)
    env = {"PATH": str(tmp_path)}
    assert launcher_target(launcher, env) == real
    assert without_launchers([launcher, real, other], env) == [real, other]
    assert without_launchers([launcher], env) == [launcher]  # what it runs is not listed: keep it
    (tmp_path / "firefox.real").write_text("#!/bin/sh\n", encoding="utf-8")
    assert without_launchers([launcher, real], env) == [launcher, real]  # runs a program of its own
