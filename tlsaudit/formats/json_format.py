"""JSON: the report itself, the public contract (reports/report.schema.json)."""

from __future__ import annotations

import json

from tlsaudit.formats.base import RenderOptions
from tlsaudit.report_types import Report


def render(report: Report, options: RenderOptions) -> str:
    """Pretty at the top, one line per endpoint, runtime, capture and finding: readable, diffable, and fast
    (json's C encoder only runs without `indent`)."""
    parts: list[str] = []
    for key, value in report.items():
        name = json.dumps(key)
        if isinstance(value, list) and value:
            items = ",\n".join("    " + _compact(item) for item in value)
            parts.append(f"  {name}: [\n{items}\n  ]")
        else:
            parts.append(f"  {name}: {_compact(value)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


# One encoder for every item: json.dumps with options builds a new encoder per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


def _compact(value: object) -> str:
    return _ENCODER.encode(value)
