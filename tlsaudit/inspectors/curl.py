"""curl command line: its version, libcurl version and the TLS backend in use."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from tlsaudit.inspectors.base import (
    Context,
    absolute,
    clean_details,
    dedupe,
    failed,
    failure_reason,
    on_path,
)
from tlsaudit.inspectors.dotnet import windows_version
from tlsaudit.inspectors.tlslib import KNOWN_BACKENDS, split_backend
from tlsaudit.models import FactValue, RuntimeFacts

KIND = "curl"
_CURL_NAME = re.compile(r"curl(\.exe)?")
_FIRST_LINE = re.compile(r"^curl (?P<version>\d[\w.\-]*)(?P<rest>.*)$", re.MULTILINE)


def parse_curl_version(text: str, selected: str | None = None) -> tuple[str | None, dict[str, FactValue]]:
    """`curl --version` -> (curl version, details). The backend is the first TLS token after `libcurl/…`
    that is not in parentheses (MultiSSL builds list the alternates in parentheses), unless `selected`
    (the CURL_SSL_BACKEND environment variable) names one of the built-in backends."""
    m = _FIRST_LINE.search(text)
    if m is None:
        return None, {}
    rest = m.group("rest")
    details: dict[str, FactValue] = {}
    lib = re.search(r"\blibcurl/(\S+)", rest)
    details["curl_version"] = lib.group(1) if lib else m.group("version")
    after = rest[lib.end() :] if lib else rest
    tokens = re.findall(r"\(?[\w.\-+]+(?:/[^\s()]+)?\)?", after)
    backends = [t for t in tokens if t.strip("()").partition("/")[0].lower() in KNOWN_BACKENDS]
    active = next((t for t in backends if not t.startswith("(")), None)
    wanted = KNOWN_BACKENDS.get((selected or "").strip().lower().replace("-", ""))
    chosen = next((t for t in backends if wanted and split_backend(t)[0] == wanted), None)
    if chosen is not None:
        details["curl_ssl_backend_selected_by"] = "CURL_SSL_BACKEND"
        active = chosen
    if active is not None:
        backend, version = split_backend(active)
        details["curl_ssl_backend"] = backend
        details["curl_ssl_version"] = version
        details["tls_library"] = backend
        details["tls_library_version"] = version
    alternates = tuple(split_backend(t)[0] or t for t in backends if t != active)
    details["curl_ssl_alternates"] = alternates or None
    features = re.search(r"^Features:(.*)$", text, re.MULTILINE)
    if features:
        names = features.group(1).split()
        details["curl_has_ssl"] = "SSL" in names
    else:
        details["curl_has_ssl"] = active is not None or None
    protocols = re.search(r"^Protocols:(.*)$", text, re.MULTILINE)
    if protocols:
        details["curl_https"] = "https" in protocols.group(1).split()
    return m.group("version"), clean_details(details)


class CurlInspector:
    kind = KIND

    def discover(self, ctx: Context, extra: Sequence[str | Path]) -> list[Path]:
        found = absolute(extra)
        if ctx.search_system:
            found += on_path(ctx.env, _CURL_NAME)
        return dedupe(found)

    def inspect(self, target: Path, ctx: Context) -> list[RuntimeFacts]:
        result = ctx.run([str(target), "--version"])
        if not result.ok:
            return [failed(KIND, target, failure_reason(result, "curl --version"), [result.evidence])]
        version, details = parse_curl_version(result.stdout, ctx.env.get("CURL_SSL_BACKEND"))
        if version is None:
            return [failed(KIND, target, "curl --version: unrecognised output", [result.evidence])]
        if ctx.registry is not None:
            details["windows_version"] = windows_version(ctx.registry)
            details = clean_details(details)
        return [
            RuntimeFacts(
                kind=KIND, path=str(target), version=version, details=details, evidence=(result.evidence,)
            )
        ]
