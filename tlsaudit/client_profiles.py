"""Client profiles: the ClientHello a real client sends, as captured (or recorded from a cited source).

One JSON file per profile in the shipped `clients/` folder (format: clients/README.md); its `id` is the
`client` a report names. `--clients all|ID,ID|FILE` selects which to replay.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tlsaudit.data import data_dir
from tlsaudit.errors import PeerError, UsageError
from tlsaudit.tls.client_hello_parse import ClientHelloInfo, parse_client_hello

PROFILE_SOURCES = ("captured", "recorded")
REQUIRED_KEYS = ("id", "name", "version", "platform", "source", "captured_with", "hello_hex")


class ProfileError(UsageError):
    """A client profile file is invalid (exit 2): the message names the file."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientProfile:
    id: str
    name: str
    version: str
    platform: str
    source: str  # "captured" here by `make profiles`, or "recorded" from `reference`
    captured_with: str  # the command or setting that produced the hello
    hello: bytes
    info: ClientHelloInfo
    library: str = ""
    captured_at: str = ""
    reference: str = ""  # where a recorded hello comes from
    note: str = ""
    # Key exchanges (`rsa`, `ecdhe`) the client was seen to complete at TLS 1.0/1.1; None: not measured.
    legacy_kex: tuple[str, ...] | None = None

    @property
    def versions(self) -> tuple[str, ...]:
        return self.info.versions_offered


def clients_dir() -> Path:
    return data_dir("clients")


def _text(raw: Mapping[str, Any], key: str, path: Path) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise ProfileError(f"{path}: `{key}` must be a string")
    return value


def load_profile(path: Path) -> ClientProfile:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot be read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ProfileError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(raw, dict):
        raise ProfileError(f"{path}: a profile is a JSON object")
    missing = [k for k in REQUIRED_KEYS if not raw.get(k)]
    if missing:
        raise ProfileError(f"{path}: missing {', '.join(missing)}")
    source = _text(raw, "source", path)
    if source not in PROFILE_SOURCES:
        raise ProfileError(f"{path}: `source` must be one of {', '.join(PROFILE_SOURCES)}")
    if source == "recorded" and not raw.get("reference"):
        raise ProfileError(f"{path}: a recorded profile names its `reference`")
    try:
        hello = bytes.fromhex(_text(raw, "hello_hex", path))
        info = parse_client_hello(hello)
    except ValueError as exc:
        raise ProfileError(f"{path}: `hello_hex` is not hexadecimal: {exc}") from exc
    except PeerError as exc:
        raise ProfileError(f"{path}: `hello_hex` is not a ClientHello: {exc}") from exc
    legacy_kex = raw.get("legacy_kex")
    if legacy_kex is not None and (
        not isinstance(legacy_kex, list) or not all(k in ("rsa", "ecdhe") for k in legacy_kex)
    ):
        raise ProfileError(f'{path}: `legacy_kex` is a list of "rsa" and "ecdhe"')
    profile_id = _text(raw, "id", path)
    if path.stem != profile_id:
        raise ProfileError(f"{path}: the file name must be the profile id {profile_id!r} + .json")
    return ClientProfile(
        id=profile_id,
        name=_text(raw, "name", path),
        version=_text(raw, "version", path),
        platform=_text(raw, "platform", path),
        source=source,
        captured_with=_text(raw, "captured_with", path),
        hello=hello,
        info=info,
        library=_text(raw, "library", path),
        captured_at=_text(raw, "captured_at", path),
        reference=_text(raw, "reference", path),
        note=_text(raw, "note", path),
        legacy_kex=tuple(legacy_kex) if legacy_kex is not None else None,
    )


def load_profiles(folder: Path | None = None) -> list[ClientProfile]:
    """Every profile in `folder` (default: the shipped ones), by id."""
    where = folder or clients_dir()
    return sorted((load_profile(p) for p in where.glob("*.json")), key=lambda p: p.id)


def select_profiles(spec: str, *, shipped: Sequence[ClientProfile] | None = None) -> list[ClientProfile]:
    """`all`, a comma list of ids, or a file/folder of profile JSON files."""
    available = list(shipped) if shipped is not None else load_profiles()
    if spec == "all":
        return available
    candidate = Path(spec)
    if candidate.is_dir():
        return load_profiles(candidate)
    if candidate.suffix == ".json" and candidate.is_file():
        return [load_profile(candidate)]
    by_id = {p.id: p for p in available}
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [w for w in wanted if w not in by_id]
    if unknown or not wanted:
        known = ", ".join(sorted(by_id)) or "none shipped"
        raise UsageError(f"unknown client profile {', '.join(unknown) or spec!r} (known: {known})")
    return [by_id[w] for w in dict.fromkeys(wanted)]


def profile_document(profile: ClientProfile) -> dict[str, Any]:
    """The JSON a profile file holds (what `make profiles` writes)."""
    info = profile.info
    doc: dict[str, Any] = {
        "id": profile.id,
        "name": profile.name,
        "version": profile.version,
        "platform": profile.platform,
        "library": profile.library,
        "source": profile.source,
        "captured_with": profile.captured_with,
        "captured_at": profile.captured_at,
        "reference": profile.reference,
        "note": profile.note,
        "legacy_kex": list(profile.legacy_kex) if profile.legacy_kex is not None else None,
        "hello_hex": profile.hello.hex(),
        "offer": {
            "versions": list(info.versions_offered),
            "cipher_suites": [f"0x{c:04X}" for c in info.cipher_suites],
            "groups": [f"0x{g:04X}" for g in info.groups],
            "signature_algorithms": [f"0x{s:04X}" for s in info.signature_algorithms],
            "extensions": [f"0x{e:04X}" for e in info.extensions],
            "sni": info.sni,
        },
    }
    return {k: v for k, v in doc.items() if v not in ("", None)}
