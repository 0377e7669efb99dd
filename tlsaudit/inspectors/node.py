"""Node.js: its (usually bundled) OpenSSL and tls.DEFAULT_MIN_VERSION / DEFAULT_MAX_VERSION."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tlsaudit.inspectors.base import (
    Context,
    absolute,
    clean_details,
    dedupe,
    failed,
    on_path,
    snippet_payload,
    text_or_none,
)
from tlsaudit.models import FactValue, RuntimeFacts

KIND = "node"
SNIPPET = (
    "var t=require('tls');var v=process.versions;"
    "console.log('TLSAUDIT-JSON:'+JSON.stringify({node:v.node,openssl:v.openssl||null,"
    "min:t.DEFAULT_MIN_VERSION||null,max:t.DEFAULT_MAX_VERSION||null,"
    "node_options:process.env.NODE_OPTIONS||null}))"
)
_NODE_NAME = re.compile(r"(node|nodejs)(\.exe)?")


def parse_node(payload: Mapping[str, Any]) -> dict[str, FactValue]:
    openssl = text_or_none(payload.get("openssl"))
    details: dict[str, FactValue] = {
        "tls_library": "OpenSSL" if openssl else None,
        "tls_library_version": openssl,
        "min_version": _name(payload.get("min")),
        "max_version": _name(payload.get("max")),
        "node_options": text_or_none(payload.get("node_options")),
    }
    return clean_details(details)


def _name(value: object) -> str | None:
    """Node spells TLS 1.0 `TLSv1`; the rest of tlsaudit says `TLSv1.0`."""
    text = text_or_none(value)
    return "TLSv1.0" if text == "TLSv1" else text


class NodeInspector:
    kind = KIND

    def discover(self, ctx: Context, extra: Sequence[str | Path]) -> list[Path]:
        found = absolute(extra)
        if ctx.search_system:
            found += on_path(ctx.env, _NODE_NAME)
        return dedupe(found)

    def inspect(self, target: Path, ctx: Context) -> list[RuntimeFacts]:
        result = ctx.run([str(target), "-e", SNIPPET])
        payload, reason = snippet_payload(result, "node -e")
        if payload is None:
            return [failed(KIND, target, reason, [result.evidence])]
        version = text_or_none(payload.get("node"))
        if version is None:
            return [failed(KIND, target, "node -e: no version in output", [result.evidence])]
        return [
            RuntimeFacts(
                kind=KIND,
                path=str(target),
                version=version,
                details=parse_node(payload),
                evidence=(result.evidence,),
            )
        ]
