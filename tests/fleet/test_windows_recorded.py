"""The Windows collector's output (recorded: no Windows host runs here; see tests/data/fleet/README.md) read
by the controller: the dotnet inspector's registry facts through RecordedRegistry, browsers from versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tlsaudit.fleet.assess import HostStatus, load_host_file
from tlsaudit.fleet.observed import registry_of, runtimes_from_observations
from tlsaudit.models import RuntimeFacts

DATA = Path(__file__).parent.parent / "data" / "fleet"


def _load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return document


def _by_path(facts: list[RuntimeFacts]) -> dict[str, RuntimeFacts]:
    return {rt.path: rt for rt in facts}


def test_windows_11_framework_481_opted_in_with_tls10_off() -> None:
    facts = _by_path(runtimes_from_observations(_load("windows-11-23h2.json"), "WS-FIN-0231"))
    full = facts["HKLM/SOFTWARE/Microsoft/NET Framework Setup/NDP/v4/Full"]
    assert full.version == "4.8.1"
    assert full.details["framework_release"] == 533320
    assert full.details["windows_version"] == "10.0.22631"
    assert full.details["sch_use_strong_crypto_64"] == 1 and full.details["sch_use_strong_crypto_32"] == 1
    assert full.details["system_default_tls_versions_32"] == 1
    assert full.details["registry_tls_opt_in"] is True
    assert full.details["schannel_tls10_client_enabled_value"] == 0
    assert full.details["schannel_tls12_client_enabled"] is True
    assert full.subject.startswith("WS-FIN-0231: dotnet ")
    core = [rt for rt in facts.values() if rt.details.get("product") == "core"]
    assert {rt.version for rt in core} == {"8.0.11"}
    assert all(rt.details["tls_library"] == "Schannel" for rt in core)
    firefox = facts["C:\\Program Files\\Mozilla Firefox\\firefox.exe"]
    assert firefox.version == "115.18.0" and firefox.details["browser"] == "Firefox ESR"
    assert (
        facts["C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe"].details["engine"]
        == "Chromium"
    )


def test_server_2012_r2_not_opted_in_and_tls10_client_on() -> None:
    facts = _by_path(runtimes_from_observations(_load("windows-server-2012r2.json")))
    full = facts["HKLM/SOFTWARE/Microsoft/NET Framework Setup/NDP/v4/Full"]
    assert (full.version, full.details["framework_release"]) == ("4.8", 528049)
    assert full.details["windows_version"] == "6.3.9600"
    assert full.details["registry_tls_opt_in"] is False
    assert "sch_use_strong_crypto_64" not in full.details
    assert full.details["schannel_tls10_client_enabled_value"] == 1
    v35 = facts["HKLM/SOFTWARE/Microsoft/NET Framework Setup/NDP/v3.5"]
    assert v35.version == "3.5.30729.4926"
    chrome = facts["C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"]
    assert chrome.version == "109.0.5414.165"


def test_server_2008_r2_on_powershell_2_has_one_registry_view_and_tls12_client_off() -> None:
    document = _load("windows-server-2008r2-ps2.json")
    registry = registry_of(document)
    assert registry is not None and not registry.key_exists(
        r"HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full", view="32"
    )
    (full,) = runtimes_from_observations(document)
    assert full.version == "4.5.2"
    assert full.details["windows_version"] == "6.1.7601"
    assert full.details["schannel_tls12_client_enabled"] is False


def test_recorded_windows_hosts_are_assessed_from_their_files() -> None:
    for path in sorted(DATA.glob("*.json")):
        result = load_host_file(path)
        assert result.status == HostStatus.ASSESSED, path
        assert result.os["system"] == "Windows"
        assert result.runtimes
