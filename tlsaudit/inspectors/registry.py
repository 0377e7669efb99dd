"""Windows registry access behind a small interface, so recorded values can stand in for a real registry."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Protocol

RegistryValue = int | str


class RegistryReader(Protocol):
    def value(self, path: str, name: str, *, view: str = "64") -> RegistryValue | None:
        """The value `name` under `path` (`HKLM\\SOFTWARE\\...`) in the 64- or 32-bit view; None if absent."""
        ...

    def key_exists(self, path: str, *, view: str = "64") -> bool: ...


class RecordedRegistry:
    """Registry values as data: `{"64": {"HKLM\\\\SOFTWARE\\\\...": {"Release": 528040}}, "32": {...}}`."""

    def __init__(self, views: Mapping[str, Mapping[str, Mapping[str, RegistryValue]]]) -> None:
        self._views = {
            view: {path.lower(): {n.lower(): v for n, v in values.items()} for path, values in keys.items()}
            for view, keys in views.items()
        }

    def value(self, path: str, name: str, *, view: str = "64") -> RegistryValue | None:
        return self._views.get(view, {}).get(path.lower(), {}).get(name.lower())

    def key_exists(self, path: str, *, view: str = "64") -> bool:
        return path.lower() in self._views.get(view, {})


class WinRegistry:  # pragma: no cover - only on Windows
    """The live registry through `winreg`, read-only, in the requested WOW64 view."""

    def _open(self, path: str, view: str) -> object | None:
        if sys.platform != "win32":
            return None
        import winreg

        hive_name, _, sub = path.partition("\\")
        hives = {"HKLM": winreg.HKEY_LOCAL_MACHINE, "HKEY_LOCAL_MACHINE": winreg.HKEY_LOCAL_MACHINE}
        hive = hives.get(hive_name.upper())
        if hive is None:
            return None
        flag = winreg.KEY_WOW64_64KEY if view == "64" else winreg.KEY_WOW64_32KEY
        try:
            return winreg.OpenKey(hive, sub, 0, winreg.KEY_READ | flag)
        except OSError:
            return None

    def value(self, path: str, name: str, *, view: str = "64") -> RegistryValue | None:
        if sys.platform != "win32":
            return None
        import winreg

        key = self._open(path, view)
        if key is None:
            return None
        try:
            data, _kind = winreg.QueryValueEx(key, name)
        except OSError:
            return None
        finally:
            winreg.CloseKey(key)
        return data if isinstance(data, int | str) else None

    def key_exists(self, path: str, *, view: str = "64") -> bool:
        if sys.platform != "win32":
            return False
        import winreg

        key = self._open(path, view)
        if key is None:
            return False
        winreg.CloseKey(key)
        return True
