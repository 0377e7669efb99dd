"""Locate the shipped `rules/` and `reports/` folders in a wheel, an editable install or a bare checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    """`rules` or `reports`: inside the package when installed from a wheel, else beside the package."""
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"tlsaudit data folder {name!r} not found next to {_PACKAGE_DIR}")


def rules_dir() -> Path:
    return data_dir("rules")


def reports_dir() -> Path:
    return data_dir("reports")
