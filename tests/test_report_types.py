"""The typed Report (tlsaudit/report_types.py) names exactly the keys of reports/report.schema.json, with the
same required ones, so that a format type-checked against it cannot read a key the schema does not promise."""

from __future__ import annotations

from typing import Any

import pytest

from tlsaudit import report_types as types
from tlsaudit.report import report_schema

PAIRS = [
    (types.Report, "#"),
    (types.Summary, "#/$defs/summary"),
    (types.HostRollup, "#/$defs/summary/properties/hosts/items"),
    (types.StatusCountsFull, "#/$defs/summary/properties/counts"),
    (types.EndpointCounts, "#/$defs/summary/properties/endpoints"),
    (types.RuntimeCounts, "#/$defs/summary/properties/runtimes"),
    (types.ToolInfo, "#/properties/tool"),
    (types.PolicyInfo, "#/properties/policy"),
    (types.ProtocolResult, "#/$defs/protocol_result"),
    (types.Certificate, "#/$defs/certificate"),
    (types.CipherSuiteResult, "#/$defs/cipher_suite_result"),
    (types.Endpoint, "#/$defs/endpoint"),
    (types.KeyExchange, "#/$defs/key_exchange"),
    (types.Handshake, "#/$defs/handshake"),
    (types.KnownFlaws, "#/$defs/known_flaws"),
    (types.FlawCheck, "#/$defs/flaw_check"),
    (types.ClientSimulation, "#/$defs/client_simulation"),
    (types.Evidence, "#/$defs/evidence"),
    (types.Runtime, "#/$defs/runtime"),
    (types.RuntimeProcess, "#/$defs/runtime/properties/process"),
    (types.Pin, "#/$defs/pin"),
    (types.Capture, "#/$defs/capture"),
    (types.Finding, "#/$defs/finding"),
    (types.FleetHost, "#/$defs/fleet_host"),
    (types.WorstFinding, "#/$defs/fleet_host/properties/worst_finding"),
    (types.FleetSummary, "#/$defs/fleet_summary"),
    (types.FleetRuleCount, "#/$defs/fleet_summary/properties/by_rule/items"),
]


def _resolve(pointer: str) -> dict[str, Any]:
    node: Any = report_schema()
    for part in pointer.lstrip("#").strip("/").split("/"):
        if part:
            node = node[part]
    assert isinstance(node, dict)
    return node


@pytest.mark.parametrize(("typed", "pointer"), PAIRS, ids=[p for _, p in PAIRS])
def test_typed_report_matches_the_schema(typed: Any, pointer: str) -> None:
    schema = _resolve(pointer)
    assert set(typed.__annotations__) == set(schema["properties"])
    assert set(typed.__required_keys__) == set(schema.get("required", []))
