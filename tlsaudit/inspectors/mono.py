"""Mono, a .NET Framework-compatible runtime: `mono --version`, and what its TLS stack does by default.

The defaults come from the runtime itself: the capture client (capture/clients/probe.cs) compiled with
`mcs` and run with `--info` prints ServicePointManager.SecurityProtocol and the TLS provider Mono picks
(MONO_TLS_PROVIDER: btls, apple, legacy). Without `mcs` only the version and the environment are known.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tlsaudit.inspectors.base import (
    Context,
    absolute,
    clean_details,
    dedupe,
    failed,
    failure_reason,
    on_path,
    snippet_payload,
    text_or_none,
)
from tlsaudit.inspectors.process import find_program
from tlsaudit.models import Evidence, FactValue, RuntimeFacts

KIND = "mono"
CLIENT_SOURCE = Path(__file__).resolve().parent.parent / "capture" / "clients" / "probe.cs"
_MONO_NAME = re.compile(r"mono(\.exe)?")
_VERSION = re.compile(r"Mono JIT compiler version (\d+(?:\.\d+)+)")
_SYSTEM_MONOS = (
    "/usr/bin/mono",
    "/usr/local/bin/mono",
    "/opt/mono/bin/mono",
    "/Library/Frameworks/Mono.framework/Versions/Current/bin/mono",
)


def parse_mono_version(text: str) -> str | None:
    """`Mono JIT compiler version 6.8.0.105 (Debian 6.8.0.105+dfsg-3.3+deb12u1 ...)` -> `6.8.0.105`."""
    m = _VERSION.search(text)
    return m.group(1) if m else None


def parse_info(payload: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, FactValue]:
    """Details from the `probe.exe --info` line. SecurityProtocol prints as `Tls, Tls11, Tls12`."""
    protocol = text_or_none(payload.get("security_protocol"))
    provider = text_or_none(payload.get("provider"))
    details: dict[str, FactValue] = {
        "mono_tls_provider": provider,
        "mono_tls_provider_error": text_or_none(payload.get("provider_error")),
        "security_protocol_default": tuple(p.strip() for p in protocol.split(",")) if protocol else None,
        "security_protocol_source": "ServicePointManager.SecurityProtocol at start-up" if protocol else None,
        "tls_library": _library(provider),
    }
    details.update(env_details(environ))
    return clean_details(details)


def env_details(environ: Mapping[str, str]) -> dict[str, FactValue]:
    provider = environ.get("MONO_TLS_PROVIDER", "").strip()
    return {"mono_tls_provider_env": provider or None}


def _library(provider: str | None) -> str | None:
    return {
        "btls": "BoringSSL (Mono btls)",
        "apple": "Apple Security",
        "legacy": "Mono legacy TLS",
    }.get((provider or "").lower())


def find_mcs(mono: Path, env: Mapping[str, str]) -> Path | None:
    """The C# compiler of this Mono (next to it), else the one on PATH."""
    own = mono.parent / "mcs"
    if own.is_file():
        return own
    return find_program("mcs", env) or (Path("/usr/bin/mcs") if Path("/usr/bin/mcs").is_file() else None)


class MonoInspector:
    kind = KIND

    def discover(self, ctx: Context, extra: Sequence[str | Path]) -> list[Path]:
        found = absolute(extra)
        if ctx.search_system:
            found += on_path(ctx.env, _MONO_NAME)
            found += [Path(p) for p in _SYSTEM_MONOS if Path(p).is_file()]
        return dedupe(found)

    def inspect(self, target: Path, ctx: Context) -> list[RuntimeFacts]:
        result = ctx.run([str(target), "--version"])
        if not result.ok:
            return [failed(KIND, target, failure_reason(result, "mono --version"), [result.evidence])]
        version = parse_mono_version(result.output)
        if version is None:
            return [failed(KIND, target, "mono --version: no version in output", [result.evidence])]
        details, evidence = self._defaults(target, ctx)
        details.setdefault("product", "mono")
        return [
            RuntimeFacts(
                kind=KIND,
                path=str(target),
                version=version,
                details=clean_details(details),
                evidence=(result.evidence, *evidence),
            )
        ]

    def _defaults(self, mono: Path, ctx: Context) -> tuple[dict[str, FactValue], list[Evidence]]:
        """Run the capture client's `--info` mode; without a compiler, only the environment is known."""
        details: dict[str, FactValue] = {**env_details(ctx.env), "product": "mono"}
        mcs = find_mcs(mono, ctx.env)
        if mcs is None:
            details["probe_error"] = "no mcs (C# compiler) to build the TLS defaults probe"
            return details, []
        with tempfile.TemporaryDirectory(prefix="tlsaudit-mono-") as tmp:
            exe = Path(tmp) / "probe.exe"
            built = ctx.run([str(mcs), "-nologo", f"-out:{exe}", str(CLIENT_SOURCE)], note="build the probe")
            if not built.ok:
                details["probe_error"] = failure_reason(built, "mcs")
                return details, [built.evidence]
            info = ctx.run([str(mono), str(exe), "--info"])
        payload, reason = snippet_payload(info, "mono probe.exe --info")
        if payload is None:
            details["probe_error"] = reason
            return details, [info.evidence]
        details.update(parse_info(payload, ctx.env))
        return details, [info.evidence]
