"""RuntimeFacts built from recorded outputs (tests/data/runtimes) by the inspectors' own parsers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tlsaudit.inspectors.curl import parse_curl_version
from tlsaudit.inspectors.dotnet import framework_facts, parse_list_runtimes
from tlsaudit.inspectors.java import parse_banner, parse_probe, protocols_facts
from tlsaudit.inspectors.node import parse_node
from tlsaudit.inspectors.openssl import config_facts, parse_version_a, read_config
from tlsaudit.inspectors.php import parse_php
from tlsaudit.inspectors.python import parse_python
from tlsaudit.inspectors.registry import RecordedRegistry
from tlsaudit.models import FactValue, RuntimeFacts

DATA = Path(__file__).resolve().parents[1] / "data" / "runtimes"
SAMPLES = Path("/work/shared/reference/runtime-samples")


def sections(filename: str) -> dict[str, str]:
    """`== name` sections of a recorded file."""
    out: dict[str, str] = {}
    name = None
    for line in (DATA / filename).read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("== "):
            name = line[3:].strip()
            out[name] = ""
        elif name is not None:
            out[name] += line
    return out


def java_facts(
    banner_name: str,
    probe: str = "",
    env: Mapping[str, str] | None = None,
    security_file_value: str | None = None,
) -> RuntimeFacts:
    banner = parse_banner(sections("java-banners.txt")[banner_name])
    assert banner, banner_name
    details = protocols_facts(banner, parse_probe(probe), None, security_file_value, env or {})
    return RuntimeFacts(
        kind="java", path=f"recorded/{banner_name}", version=str(banner["java_version"]), details=details
    )


def probe_output(default: str, supported: str, **props: str) -> str:
    """Probe output in the probe class's format (for JVMs that cannot run here)."""
    lines = [f"prop.{k.replace('_', '.')}={v}" for k, v in props.items()]
    lines += [f"default.protocols={default}", f"supported.protocols={supported}", "probe.end=ok"]
    return "\n".join(lines) + "\n"


def php_facts(filename: str) -> RuntimeFacts:
    payload = json.loads((DATA / filename).read_text(encoding="utf-8"))
    return RuntimeFacts(
        kind="php", path=f"recorded/{filename}", version=payload["php_version"], details=parse_php(payload)
    )


def curl_facts(name: str, extra: Mapping[str, FactValue] | None = None) -> RuntimeFacts:
    text = (
        (DATA / "curl-7.88.1-debian.txt").read_text()
        if name == "debian"
        else sections("curl-versions.txt")[name]
    )
    version, details = parse_curl_version(text)
    assert version is not None, name
    return RuntimeFacts(
        kind="curl", path=f"recorded/{name}", version=version, details={**details, **(extra or {})}
    )


def python_facts(filename: str) -> RuntimeFacts:
    payload: dict[str, Any] = json.loads((DATA / filename).read_text(encoding="utf-8"))
    return RuntimeFacts(
        kind="python",
        path=f"recorded/{filename}",
        version=payload["python_version"],
        details=parse_python(payload),
    )


def node_facts(name: str) -> RuntimeFacts:
    payload = json.loads((DATA / "node-payloads.json").read_text(encoding="utf-8"))[name]
    return RuntimeFacts(
        kind="node", path=f"recorded/{name}", version=payload["node"], details=parse_node(payload)
    )


def registry(name: str) -> RecordedRegistry:
    return RecordedRegistry(json.loads((DATA / "windows-registry.json").read_text(encoding="utf-8"))[name])


def framework(name: str) -> list[RuntimeFacts]:
    return framework_facts(registry(name))


def dotnet_core_facts(tls_version: str | None) -> list[RuntimeFacts]:
    runtimes = parse_list_runtimes((DATA / "dotnet-list-runtimes.txt").read_text(encoding="utf-8"))
    return [
        RuntimeFacts(
            kind="dotnet",
            path=f"{d}/{v}",
            version=v,
            details={"product": "core", "runtime_name": n, "tls_library": "OpenSSL"}
            | ({"tls_library_version": tls_version} if tls_version else {}),
        )
        for n, v, d in runtimes
    ]


def openssl_facts(version_a: str, config: Path) -> RuntimeFacts:
    details = parse_version_a(version_a)
    lib = details.get("tls_library_version")
    level = details.get("compiled_security_level")
    details.update(
        config_facts(
            read_config(config),
            lib if isinstance(lib, str) else None,
            level if isinstance(level, int) else None,
        )
    )
    details["config_path"] = str(config)
    return RuntimeFacts(
        kind="openssl", path="recorded/openssl", version=str(details["openssl_cli_version"]), details=details
    )
