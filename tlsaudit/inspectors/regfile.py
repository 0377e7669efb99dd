"""A Windows registry export (`reg export`, regedit "Export") read into a RecordedRegistry, on any OS.

The format as `reg export` and regedit write it: UTF-16 LE with a byte-order mark (`REGEDIT4` files and
hand-made ones are often UTF-8 or ANSI), a `Windows Registry Editor Version 5.00` header, `[KEY]` sections,
`"Name"=value` lines (`@` for the default value) with `dword:0000000a`, `hex(b):` (QWORD), `hex(2):`
(expandable string), `hex(7):` (multi-string), `hex:` (binary) or a quoted string; long hex values continue
on the next line after a trailing backslash; `[-KEY]` and `"Name"=-` delete. A key under
`SOFTWARE\\Wow6432Node` is the 32-bit view of the same key without it; SOFTWARE keys are the 64-bit view;
keys outside SOFTWARE (SYSTEM\\...\\SCHANNEL) are shared by both views, as on Windows.
"""

from __future__ import annotations

import re
from pathlib import Path

from tlsaudit.errors import TlsAuditError
from tlsaudit.inspectors.registry import RecordedRegistry, RegistryValue

HEADERS = ("Windows Registry Editor Version 5.00", "REGEDIT4")
HIVES = {
    "HKEY_LOCAL_MACHINE": "HKLM",
    "HKEY_CURRENT_USER": "HKCU",
    "HKEY_CLASSES_ROOT": "HKCR",
    "HKEY_USERS": "HKU",
    "HKEY_CURRENT_CONFIG": "HKCC",
}
_VALUE = re.compile(r'^(?:@|"(?P<name>(?:[^"\\]|\\.)*)")\s*=\s*(?P<data>.*)$')
_WOW = re.compile(r"^(HKLM\\SOFTWARE)\\Wow6432Node(\\|$)", re.IGNORECASE)


class RegFileError(TlsAuditError):
    """A registry export that cannot be read; the message names the file and line."""


def decode(data: bytes) -> str:
    """Text of a .reg file: UTF-16 LE/BE by BOM (or by NUL bytes without one), else UTF-8 (BOM optional)."""
    if data.startswith(b"\xff\xfe"):
        return data[2:].decode("utf-16-le")
    if data.startswith(b"\xfe\xff"):
        return data[2:].decode("utf-16-be")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if len(data) > 1 and data[1:2] == b"\x00":
        return data.decode("utf-16-le")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252")  # REGEDIT4 files are ANSI


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, line) with backslash continuations joined."""
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if pending is not None:
            start, head = pending
            line = head + line.lstrip()
            number = start
            pending = None
        if line.endswith("\\") and _VALUE.match(line.strip()) and not line.strip().endswith('"'):
            pending = (number, line[:-1])
            continue
        out.append((number, line))
    if pending is not None:
        out.append(pending)
    return out


def _key(name: str) -> str:
    hive, _, rest = name.partition("\\")
    hive = HIVES.get(hive.upper(), hive.upper())
    return f"{hive}\\{rest}" if rest else hive


def _views(path: str) -> list[tuple[str, str]]:
    """(view, path in that view) for a key as written in the export."""
    wow = _WOW.match(path)
    if wow:
        return [("32", _WOW.sub(r"\1\2", path))]
    if path.upper().startswith("HKLM\\SOFTWARE"):
        return [("64", path)]
    return [("64", path), ("32", path)]


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _hex_bytes(text: str) -> bytes:
    text = text.strip()
    if not text:
        return b""
    parts = [p.strip() for p in text.split(",")]
    if not all(re.fullmatch(r"[0-9a-fA-F]{1,2}", p) for p in parts):
        raise ValueError("bad hex byte list")
    return bytes(int(p, 16) for p in parts)


def _utf16(data: bytes) -> str:
    return data.decode("utf-16-le", errors="replace")


def parse_value(data: str) -> RegistryValue | None:
    """The value of one `"Name"=DATA`; None for `-` (a deletion). Raises ValueError when malformed."""
    data = data.strip()
    if data == "-":
        return None
    if data.startswith('"'):
        m = re.fullmatch(r'"((?:[^"\\]|\\.)*)"', data)
        if m is None:
            raise ValueError("unterminated string")
        return _unquote(m.group(1))
    kind, sep, body = data.partition(":")
    if not sep:
        raise ValueError(f"unknown value format {data[:40]!r}")
    kind = kind.lower()
    if kind == "dword":
        if not re.fullmatch(r"[0-9a-fA-F]{1,8}", body.strip()):
            raise ValueError(f"bad dword {body.strip()[:20]!r} (8 hex digits expected)")
        return int(body, 16)
    m = re.fullmatch(r"hex(?:\(([0-9a-fA-F]+)\))?", kind)
    if m is None:
        raise ValueError(f"unknown value type {kind!r}")
    raw = _hex_bytes(body)
    type_code = int(m.group(1), 16) if m.group(1) else 3
    if type_code in (4, 5, 0xB):  # REG_DWORD (LE), REG_DWORD_BIG_ENDIAN, REG_QWORD
        return int.from_bytes(raw, "big" if type_code == 5 else "little")
    if type_code in (1, 2):  # REG_SZ, REG_EXPAND_SZ, stored as UTF-16 LE with a NUL
        return _utf16(raw).rstrip("\x00")
    if type_code == 7:  # REG_MULTI_SZ: NUL-separated, double NUL at the end
        return "\n".join(s for s in _utf16(raw).split("\x00") if s)
    return raw.hex()  # REG_BINARY and the rest: kept as hex text


def parse_reg(text: str, source: str = "<reg>") -> RecordedRegistry:
    """A RecordedRegistry from the text of a registry export; RegFileError names the line that is wrong."""
    lines = _logical_lines(text)
    first = next(((n, line.strip()) for n, line in lines if line.strip()), None)
    if first is None or first[1] not in HEADERS:
        number = first[0] if first else 1
        raise RegFileError(
            f"{source}:{number}: not a registry export (first line must be {HEADERS[0]!r} or {HEADERS[1]!r})"
        )
    views: dict[str, dict[str, dict[str, RegistryValue]]] = {"64": {}, "32": {}}
    current: list[tuple[str, str]] | None = None
    for number, line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith(";") or stripped in HEADERS:
            continue
        if stripped.startswith("["):
            if not stripped.endswith("]"):
                raise RegFileError(f"{source}:{number}: key line without a closing ']'")
            name = stripped[1:-1]
            if name.startswith("-"):
                for view, path in _views(_key(name[1:])):
                    for known in [
                        k
                        for k in views[view]
                        if k.lower() == path.lower() or k.lower().startswith(path.lower() + "\\")
                    ]:
                        del views[view][known]
                current = None
                continue
            current = _views(_key(name))
            for view, path in current:
                views[view].setdefault(path, {})
            continue
        m = _VALUE.match(stripped)
        if m is None:
            raise RegFileError(f'{source}:{number}: cannot read {stripped[:60]!r} (expected "Name"=value)')
        if current is None:
            raise RegFileError(f"{source}:{number}: value outside a [KEY] section")
        try:
            value = parse_value(m.group("data"))
        except ValueError as exc:
            raise RegFileError(f"{source}:{number}: {exc}") from exc
        name = _unquote(m.group("name")) if m.group("name") is not None else ""
        for view, path in current:
            values = views[view][path]
            if value is None:
                values.pop(name, None)
            else:
                values[name] = value
    return RecordedRegistry(views)


def read_reg_file(path: str | Path) -> RecordedRegistry:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise RegFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        text = decode(data)
    except UnicodeDecodeError as exc:
        raise RegFileError(f"{path}: not UTF-16 or UTF-8 text: {exc}") from exc
    return parse_reg(text, str(path))
