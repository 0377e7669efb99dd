"""JSON: the report itself, the public contract (reports/report.schema.json)."""

from __future__ import annotations

import json

from tlsaudit.formats.base import RenderOptions, Report


def render(report: Report, options: RenderOptions) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
