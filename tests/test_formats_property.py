"""Every format renders every schema-valid report: random reports generated from reports/report.schema.json
(hypothesis-jsonschema), each rendered in every format. No exception; the JSON round-trips and follows the
schema; SARIF validates against the SARIF 2.1.0 schema; JUnit is well-formed XML of the JUnit shape; and the
counts agree between the JSON summary, JUnit and CSV. This is the test that would have caught the HTML crash
on a cipher-suite result without `server_preference`."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema.validators import validator_for

from tlsaudit.formats import FORMATS, RenderOptions, render
from tlsaudit.report import normalized, report_schema, schema_errors

SARIF_SCHEMA_PATH = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
JUNIT_CASE_CHILDREN = {"failure", "error", "skipped", "system-out", "system-err"}


@cache
def _sarif_validator() -> Any:
    schema = json.loads(SARIF_SCHEMA_PATH.read_text(encoding="utf-8"))
    return validator_for(schema)(schema)


def _reports() -> st.SearchStrategy[dict[str, Any]]:
    """Schema-valid reports with short lists, so that each example stays fast."""
    schema = json.loads(json.dumps(report_schema()))
    for name in ("endpoints", "runtimes", "captures", "local_services"):
        schema["properties"][name]["maxItems"] = 3
    schema["properties"]["findings"]["maxItems"] = 6
    schema["properties"]["hosts"]["maxItems"] = 3  # fleet hosts, each with its own runtimes
    schema["$defs"]["fleet_host"]["properties"]["runtimes"]["maxItems"] = 2
    return cast(st.SearchStrategy[dict[str, Any]], from_schema(schema))


def _check_junit(xml_text: str, report: dict[str, Any]) -> None:
    root = ET.fromstring(xml_text)
    assert root.tag == "testsuites"
    cases = 0
    for suite in root:
        assert suite.tag == "testsuite" and suite.get("name") is not None
        suite_cases = list(suite)
        assert all(case.tag == "testcase" for case in suite_cases)
        assert int(suite.get("tests", "-1")) == len(suite_cases)
        for case in suite_cases:
            assert case.get("name") and case.get("classname")
            assert {child.tag for child in case} <= JUNIT_CASE_CHILDREN
        cases += len(suite_cases)
    assert int(root.get("tests", "-1")) == cases
    counts = report["summary"]["counts"]
    services = report.get("local_services", [])
    unknown = sum(s["status"] == "unknown" for s in services)
    assert cases == sum(counts.values()) + len(services)  # a case per check and per local service
    assert int(root.get("failures", "-1")) == counts["fail"]
    assert int(root.get("errors", "-1")) == counts["error"] + unknown


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(report=_reports())
def test_every_format_renders_every_schema_valid_report(report: dict[str, Any]) -> None:
    assert schema_errors(report) == []
    options = RenderOptions()
    rendered = {fmt: render(report, fmt, options) for fmt in FORMATS}
    # every format says something, except JSONL of a report without endpoints (one line per endpoint)
    assert all(isinstance(text, str) and (text or fmt == "jsonl") for fmt, text in rendered.items())
    # JSON: the normalized report, schema-valid, read back identical
    back = json.loads(rendered["json"])
    assert schema_errors(back) == []
    assert back == json.loads(json.dumps(normalized(report)))
    assert json.loads(render(back, "json", options)) == back
    errors = [e.message for e in _sarif_validator().iter_errors(json.loads(rendered["sarif"]))]
    assert errors == []
    _check_junit(rendered["junit"], back)
    rows = list(csv.DictReader(io.StringIO(rendered["csv"])))
    findings = [r for r in rows if r["subject_kind"] != "local-service"]
    assert len(findings) == sum(back["summary"]["counts"].values())
    # every local service once in CSV and SARIF too (their text may have been made safe: count them)
    services = back.get("local_services", [])
    listed = [r["status"] for r in rows if r["subject_kind"] == "local-service"]
    assert listed == [s["status"] for s in services]
    sarif_listed = [
        r["properties"]["status"]
        for r in json.loads(rendered["sarif"])["runs"][0]["results"]
        if r["ruleId"] == "audit.local-service"
    ]
    assert sarif_listed == listed
    assert rendered["html"].lstrip().startswith("<!DOCTYPE html>")
    # JSONL: exactly the report's endpoint objects, one per line
    assert [json.loads(line) for line in rendered["jsonl"].splitlines()] == back["endpoints"]
