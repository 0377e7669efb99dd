"""Locate the shipped data folders (`rules/`, `reports/`, `clients/`) wherever tlsaudit runs from.

- wheel: hatchling force-includes them as `tlsaudit/_data/rules`, `.../reports` and `.../clients`;
- editable install or bare checkout: they sit next to the `tlsaudit` package, at the top of the repository.
"""

from __future__ import annotations

from pathlib import Path

from tlsaudit.errors import TlsAuditError

_PACKAGE_DIR = Path(__file__).resolve().parent


class DataNotFoundError(TlsAuditError):
    """A shipped data folder is missing: the installation is broken."""


def data_dir(name: str) -> Path:
    """The folder `name` ("rules" or "reports"), from the wheel layout first, then the checkout layout."""
    candidates = (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise DataNotFoundError(f"tlsaudit data folder {name!r} not found (looked in {looked})")


def rules_dir() -> Path:
    return data_dir("rules")


def reports_dir() -> Path:
    return data_dir("reports")


def report_schema_path() -> Path:
    return reports_dir() / "report.schema.json"
