"""CSV for spreadsheets: one row per finding (every status, so a filter on `status` shows the gaps).

Endpoint facts are not repeated here: the JSON, HTML and Markdown outputs carry them. Cells that a spreadsheet
would read as a formula (starting with = + - @, tab or carriage return) are prefixed with a single quote.
"""

from __future__ import annotations

import csv
import io

from tlsaudit.counts import tally
from tlsaudit.formats.base import RenderOptions, strip_controls
from tlsaudit.report_types import Report

COLUMNS = (
    "severity",
    "status",
    "rule_id",
    "subject_kind",
    "subject",
    "source_host",
    "title",
    "message",
    "remediation",
    "references",
    "readiness",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet shows as text, never evaluates (OWASP CSV injection advice)."""
    text = strip_controls(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def render(report: Report, options: RenderOptions) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for finding in tally(report).findings:  # one row per check, as every other format counts them
        row = {
            **finding,
            "references": " ".join(finding.get("references", [])),
        }
        writer.writerow([spreadsheet_safe(str(row.get(column, ""))) for column in COLUMNS])
    return out.getvalue()
