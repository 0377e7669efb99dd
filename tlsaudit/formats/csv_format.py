"""CSV for spreadsheets: one row per finding (every status, so a filter on `status` shows the gaps).

`audit`'s local services follow, one row each (`subject_kind` `local-service`, `rule_id`
`audit.local-service`), whose `status` is the service's own: `tls`, `not-tls` or `unknown` (not assessed:
the run exits 3); they are not findings, so they never change a count of findings by status.

Endpoint facts are not repeated here: the JSON, HTML and Markdown outputs carry them. Cells that a spreadsheet
would read as a formula (starting with = + - @, tab or carriage return) are prefixed with a single quote.
"""

from __future__ import annotations

import csv
import io

from tlsaudit.counts import tally
from tlsaudit.formats.base import (
    LOCAL_SERVICE_KIND,
    LOCAL_SERVICE_RULE,
    RenderOptions,
    local_service_message,
    strip_controls,
)
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
    for service in report.get("local_services", []):
        row = {
            "severity": "info",
            "status": service["status"],
            "rule_id": LOCAL_SERVICE_RULE,
            "subject_kind": LOCAL_SERVICE_KIND,
            "subject": service["address"],
            "source_host": service.get("source_host", ""),
            "title": "Local service looked at by audit",
            "message": local_service_message(service),
        }
        writer.writerow([spreadsheet_safe(str(row.get(column, ""))) for column in COLUMNS])
    return out.getvalue()
