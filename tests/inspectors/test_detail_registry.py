"""Every detail an inspector reports is declared in facts.RUNTIME_DETAIL_FACTS with the type it has."""

from __future__ import annotations

import json

from tests.inspectors.live import base_env
from tests.inspectors.recorded import (
    DATA,
    curl_facts,
    dotnet_core_facts,
    framework,
    java_facts,
    node_facts,
    php_facts,
    probe_output,
    python_facts,
    sections,
)
from tlsaudit.facts import RUNTIME_DETAIL_FACTS
from tlsaudit.inspectors import InspectOptions, inspect_runtimes
from tlsaudit.models import FactValue, RuntimeFacts

TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "bool": (bool,),
    "list": (tuple,),
    "version": (str, int),
}


def check(value: FactValue, declared: str) -> bool:
    if declared in ("int", "version") and isinstance(value, bool):
        return False
    if declared == "list":
        return isinstance(value, tuple) and all(isinstance(v, str) for v in value)
    return isinstance(value, TYPES[declared])


def recorded_runtimes() -> list[RuntimeFacts]:
    out: list[RuntimeFacts] = []
    for name in sections("java-banners.txt"):
        out.append(
            java_facts(name, probe_output("[TLSv1.2]", "[TLSv1.2]", jdk_tls_client_protocols="TLSv1.2"))
        )
    out += [php_facts(p.name) for p in DATA.glob("php-*.json")]
    out += [python_facts(p.name) for p in DATA.glob("python-*.json")]
    out += [node_facts(n) for n in json.loads((DATA / "node-payloads.json").read_text())]
    out += [curl_facts(n) for n in sections("curl-versions.txt")]
    for name in json.loads((DATA / "windows-registry.json").read_text()):
        out += framework(name)
    out += dotnet_core_facts("3")
    return out


def test_every_detail_is_registered_with_its_type() -> None:
    runtimes = recorded_runtimes() + inspect_runtimes(
        InspectOptions(environ=base_env(JAVA_TOOL_OPTIONS="-Djdk.tls.client.protocols=TLSv1.2"))
    )
    seen: set[str] = set()
    for rt in runtimes:
        for key, value in rt.details.items():
            assert key in RUNTIME_DETAIL_FACTS, f"{rt.subject}: details.{key} is not declared in facts.py"
            assert check(value, RUNTIME_DETAIL_FACTS[key].type), f"{rt.subject}: details.{key}={value!r}"
            seen.add(key)
    assert len(seen) > 60
