"""Browsers: versions read from the installed binaries, and the TLS defaults judged by version."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tlsaudit.inspectors.browser import browser_details, parse_browser_version


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
