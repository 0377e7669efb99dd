"""Shared by the fleet tests: the collector, this machine's Pythons, fixture environments with TLS pins."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tlsaudit.fleet.ansible_run import fleet_dir

COLLECTOR = fleet_dir() / "collector.py"
VENV_BIN = Path(sys.executable).parent
BASE_PATH = "/usr/local/bin:/usr/bin:/bin"


def pyenv_pythons() -> list[Path]:
    """Every pyenv Python here; 2.7 and 3.6 (the oldest the collector promises) must be among them."""
    root = Path(os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv")))
    found = sorted(p for p in root.glob("versions/*/bin/python") if p.is_file())
    for needed in ("2.7", "3.6"):
        if not any(p.parent.parent.name.startswith(needed) for p in found):
            pytest.fail(
                f"python{needed} not installed (pyenv install {needed}): the collector must run on it"
            )
    return found


def pyenv_python(prefix: str) -> Path:
    return next(p for p in pyenv_pythons() if p.parent.parent.name.startswith(prefix))


def pinned_env(tmp: Path, **extra: str) -> dict[str, str]:
    """An environment with TLS pins: a JVM option pinning TLS 1.0 and an openssl.cnf (with an .include
    directory) whose system_default allows TLS 1.0."""
    conf_dir = tmp / "ssl"
    (conf_dir / "conf.d").mkdir(parents=True, exist_ok=True)
    (conf_dir / "openssl.cnf").write_text(
        "openssl_conf = init\n[init]\nssl_conf = ssl_sect\n.include conf.d\n", encoding="utf-8"
    )
    (conf_dir / "conf.d" / "10-tls.cnf").write_text(
        "[ssl_sect]\nsystem_default = sd\n[sd]\nMinProtocol = TLSv1\nCipherString = DEFAULT@SECLEVEL=0\n",
        encoding="utf-8",
    )
    env = {
        "PATH": BASE_PATH,
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "JAVA_TOOL_OPTIONS": "-Djdk.tls.client.protocols=TLSv1",
        "OPENSSL_CONF": str(conf_dir / "openssl.cnf"),
    }
    env.update(extra)
    return env


def run_collector(python: Path | str, env: dict[str, str], timeout: float = 600) -> dict[str, Any]:
    done = subprocess.run(
        [str(python), str(COLLECTOR)], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert isinstance(document, dict)
    return document


_FILES_DIR = re.compile(r"/tmp/tlsaudit-(?:files|mono)-[^\"/ ]+")


_LONG_NUMBER = re.compile(r"\d{8,}")


def comparable(runtime: dict[str, Any]) -> dict[str, Any]:
    """A runtime object without what names the host (`id`, `host`, `source_host`), with the per-run
    directory of the Java probe class replaced, and long numbers some programs print that change from run
    to run (Debian's chromium wrapper prints the free memory in bytes on stderr)."""
    named = {k: v for k, v in runtime.items() if k not in ("id", "host", "source_host")}
    text = _LONG_NUMBER.sub("<n>", _FILES_DIR.sub("<files>", json.dumps(named)))
    value: dict[str, Any] = json.loads(text)
    return value
