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
        if payload is None and ctx.env.get("NODE_OPTIONS"):
            # Node refuses to start under some NODE_OPTIONS ("--tls-max-v1.1 is not allowed in NODE_OPTIONS"):
            # identify it without them, and record what they do as a fact of its own.
            sanitised = {k: v for k, v in ctx.env.items() if k != "NODE_OPTIONS"}
            plain = ctx.run([str(target), "-e", SNIPPET], env=sanitised, note="without NODE_OPTIONS")
            payload, _ = snippet_payload(plain, "node -e")
            version = text_or_none(payload.get("node")) if payload is not None else None
            if payload is not None and version is not None:
                lines = (result.stderr or result.stdout or reason).strip().splitlines()
                details = {
                    **parse_node(payload),
                    "node_options": ctx.env["NODE_OPTIONS"],
                    "node_options_error": lines[-1][:300] if lines else reason,
                    "node_options_source": "NODE_OPTIONS in the environment tlsaudit ran in",
                }
                return [
                    RuntimeFacts(
                        kind=KIND,
                        path=str(target),
                        version=version,
                        details=details,
                        evidence=(result.evidence, plain.evidence),
                    )
                ]
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
