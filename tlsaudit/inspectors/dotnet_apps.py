""".NET applications as the dotnet inspector sees them: one runtime entry per configuration file
(`--dotnet-config PATH`), judged together with the machine's registry when one is given (`--registry FILE`).

`dotnet_inputs` turns the two options into what InspectOptions carries: a RecordedRegistry (the dotnet
inspector then also reports .NET Framework and Schannel from it, as on Windows) and the config files, which
go to the dotnet kind as extra paths; DotnetInspector hands each of them to `app_config_runtime`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tlsaudit.inspectors.dotnet_config import (
    effective_framework_defaults,
    find_configs,
    is_app_config,
    runtimeconfig_facts,
    xml_config_facts,
)
from tlsaudit.inspectors.regfile import read_reg_file
from tlsaudit.inspectors.registry import RecordedRegistry, RegistryReader
from tlsaudit.models import Evidence, FactValue, RuntimeFacts

KIND = "dotnet"
NETFX4 = r"HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319"
RELEASE = r"HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full"

__all__ = ["app_config_runtime", "dotnet_inputs", "is_app_config"]


def dotnet_inputs(
    registry_file: str | None, configs: Sequence[str]
) -> tuple[RecordedRegistry | None, tuple[Path, ...]]:
    """The registry export read (RegFileError names the bad line) and the config files to inspect."""
    registry = read_reg_file(registry_file) if registry_file else None
    files = tuple(Path(p).resolve() for p in find_configs(configs))
    return registry, files


def _both_views(reader: RegistryReader, name: str) -> tuple[bool | None, dict[str, FactValue]]:
    """True when the value is 1 in both views (bitness unknown), False when 0 in either, else None."""
    values = {view: reader.value(NETFX4, name, view=view) for view in ("64", "32")}
    ints = [v for v in values.values() if isinstance(v, int)]
    shown: dict[str, FactValue] = {
        f"{_SNAKE[name]}_{view}": v for view, v in values.items() if isinstance(v, int)
    }
    if any(v == 0 for v in ints):
        return False, shown
    if len(ints) == 2 and all(v == 1 for v in ints):
        return True, shown
    return None, shown


_SNAKE = {
    "SchUseStrongCrypto": "sch_use_strong_crypto",
    "SystemDefaultTlsVersions": "system_default_tls_versions",
}


def app_config_runtime(path: Path, registry: RegistryReader | None) -> RuntimeFacts:
    """One application configuration as a dotnet runtime entry (`dotnet PATH`)."""
    if path.name.lower().endswith(".runtimeconfig.json"):
        details = runtimeconfig_facts(path)
    else:
        details = xml_config_facts(path)
    note = f"read {path}"
    if "config_error" in details:
        reason = str(details["config_error"])
        return RuntimeFacts(
            kind=KIND,
            path=str(path),
            version=None,
            details={"inspect_error": reason, "config_file": str(path)},
            errors=(reason,),
        )
    details["config_file"] = str(path)
    if details.get("product") == "framework-app":
        strong = system = None
        if registry is not None:
            strong, shown_strong = _both_views(registry, "SchUseStrongCrypto")
            system, shown_system = _both_views(registry, "SystemDefaultTlsVersions")
            details.update(shown_strong)
            details.update(shown_system)
            release = registry.value(RELEASE, "Release")
            if isinstance(release, int):
                details["framework_release"] = release
            note += " and the registry export"
        details.update(effective_framework_defaults(details, strong, system))
    version = details.get("target_framework") or details.get("framework_version")
    shown = "\n".join(f"{k} = {v}" for k, v in sorted(details.items()) if v is not None)
    return RuntimeFacts(
        kind=KIND,
        path=str(path),
        version=str(version) if version else None,
        details={k: v for k, v in details.items() if v is not None},
        evidence=(Evidence(argv=(), exit_code=None, stdout=shown, note=note),),
    )
