""".NET application configuration files: what decides an application's TLS defaults, read without Windows.

- web.config / *.exe.config / app.config (XML, through defusedxml): `<httpRuntime targetFramework="4.7.2"/>`,
  `<supportedRuntime sku=".NETFramework,Version=v4.8"/>`, and `<AppContextSwitchOverrides value="..."/>`
  with `Switch.System.Net.DontEnableSchUseStrongCrypto` /
  `Switch.System.Net.DontEnableSystemDefaultTlsVersions`.
- *.runtimeconfig.json (.NET Core / 5+): `runtimeOptions.tfm` and the framework it runs on; TLS there is
  the OS library's (OpenSSL on Linux, Schannel on Windows).

Names and meanings: learn.microsoft.com/dotnet/framework/network-programming/tls ("Transport Layer Security
(TLS) best practices with .NET Framework": the AppContext switches, the registry values and which target
framework turns which default on) and the runtimeconfig.json reference
(learn.microsoft.com/dotnet/core/runtime-config/).

The effective default follows runtime-facts.md §4.1: an application targeting 4.7+ uses the OS default
(SystemDefault); 4.6+ enables strong crypto (TLS 1.0-1.2); older targets offer SSL 3 / TLS 1.0 unless an
AppContext switch (set to false) or the machine's registry (SchUseStrongCrypto / SystemDefaultTlsVersions = 1,
in the view of the application's bitness) opts in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from tlsaudit.models import FactValue

CONFIG_NAMES = re.compile(
    r"(?i)(web\.config|app\.config|.+\.exe\.config|.+\.dll\.config|.+\.runtimeconfig\.json)"
)
SWITCH_STRONG = "Switch.System.Net.DontEnableSchUseStrongCrypto"
SWITCH_SYSTEM_DEFAULT = "Switch.System.Net.DontEnableSystemDefaultTlsVersions"
_SKIP_DIRS = {".git", "node_modules", ".svn", ".hg", "__pycache__", ".venv"}
MAX_FILES = 2000


def is_app_config(path: Path) -> bool:
    return path.is_file() and CONFIG_NAMES.fullmatch(path.name) is not None


def find_configs(paths: Sequence[str | Path]) -> list[Path]:
    """Config files named, and those under folders named (not into .git, node_modules, ...)."""
    found: list[Path] = []
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            found.extend(_walk(path))
        else:
            found.append(path)
        if len(found) >= MAX_FILES:
            break
    return found[:MAX_FILES]


def _walk(root: Path) -> Iterator[Path]:
    for child in sorted(root.iterdir()):
        if child.is_dir() and not child.is_symlink():
            if child.name not in _SKIP_DIRS:
                yield from _walk(child)
        elif CONFIG_NAMES.fullmatch(child.name) and child.is_file():
            yield child


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _framework_version(text: str | None) -> str | None:
    """`4.7.2`, `v4.8`, `.NETFramework,Version=v4.6.1` -> `4.7.2`, `4.8`, `4.6.1`."""
    m = re.search(r"v?(\d+(?:\.\d+)+)", text or "")
    return m.group(1) if m else None


def parse_switches(value: str) -> dict[str, bool]:
    """`Switch.A=true;Switch.B=false` -> {name: bool}; malformed entries are left out."""
    out: dict[str, bool] = {}
    for part in value.split(";"):
        name, sep, setting = part.partition("=")
        if sep and setting.strip().lower() in ("true", "false"):
            out[name.strip()] = setting.strip().lower() == "true"
    return out


def xml_config_facts(path: Path) -> dict[str, FactValue]:
    """Facts of one web.config / app.config; `config_error` when it is not readable XML."""
    try:
        root = SafeET.parse(path).getroot()
    except (SafeET.ParseError, DefusedXmlException, OSError) as exc:
        return {"config_error": f"{path}: {exc}"}
    if root is None:
        return {"config_error": f"{path}: no root element"}
    target: str | None = None
    target_source: str | None = None
    switches: dict[str, bool] = {}
    for element in root.iter():
        name = _local(element.tag) if isinstance(element.tag, str) else ""
        if name == "httpRuntime" and element.get("targetFramework"):
            target, target_source = (
                _framework_version(element.get("targetFramework")),
                "httpRuntime targetFramework",
            )
        elif name == "supportedRuntime" and element.get("sku") and target is None:
            target, target_source = _framework_version(element.get("sku")), "supportedRuntime sku"
        elif name == "AppContextSwitchOverrides":
            switches.update(parse_switches(element.get("value") or ""))
    return _framework_details(root, target, target_source, switches)


def _framework_details(
    root: Element, target: str | None, source: str | None, switches: dict[str, bool]
) -> dict[str, FactValue]:
    details: dict[str, FactValue] = {
        "product": "framework-app",
        "target_framework": target,
        "target_framework_source": source,
        "dont_enable_sch_use_strong_crypto": switches.get(SWITCH_STRONG),
        "dont_enable_system_default_tls_versions": switches.get(SWITCH_SYSTEM_DEFAULT),
        "app_context_switches": tuple(f"{k}={str(v).lower()}" for k, v in switches.items()) or None,
    }
    return details


def runtimeconfig_facts(path: Path) -> dict[str, FactValue]:
    """Facts of one *.runtimeconfig.json (.NET Core / 5+)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        return {"config_error": f"{path}: {exc}"}
    options = document.get("runtimeOptions") if isinstance(document, dict) else None
    if not isinstance(options, dict):
        return {"config_error": f"{path}: no runtimeOptions object"}
    frameworks = [options["framework"]] if isinstance(options.get("framework"), dict) else []
    frameworks += [f for f in options.get("frameworks", []) or [] if isinstance(f, dict)]
    names = tuple(f"{f.get('name')} {f.get('version')}" for f in frameworks if f.get("name"))
    netcore = next((f for f in frameworks if f.get("name") == "Microsoft.NETCore.App"), None)
    tfm = options.get("tfm") if isinstance(options.get("tfm"), str) else None
    return {
        "product": "core-app",
        "target_framework": _framework_version(tfm) if tfm else None,
        "target_framework_source": "runtimeconfig.json tfm" if tfm else None,
        "runtime_frameworks": names or None,
        "runtime_name": "Microsoft.NETCore.App" if netcore else None,
        "framework_version": str(netcore.get("version")) if netcore and netcore.get("version") else None,
    }


def _version_tuple(text: object) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", str(text or ""))[:3])


def effective_framework_defaults(
    details: dict[str, FactValue], strong_registry: bool | None, system_registry: bool | None
) -> dict[str, FactValue]:
    """What an application's ServicePointManager.SecurityProtocol starts as, from its target framework,
    AppContext switches and the machine's registry opt-ins (None: not known, e.g. no --registry)."""
    target = _version_tuple(details.get("target_framework"))
    no_strong = details.get("dont_enable_sch_use_strong_crypto")
    no_system = details.get("dont_enable_system_default_tls_versions")
    system_default: bool | None
    if no_system is False or system_registry is True:
        system_default = True
    elif no_system is True or system_registry is False:
        system_default = False
    elif target:
        system_default = target >= (4, 7)
    else:
        system_default = None
    strong: bool | None
    if no_strong is False or strong_registry is True:
        strong = True
    elif no_strong is True or strong_registry is False:
        strong = False
    elif target:
        strong = target >= (4, 6)
    else:
        strong = None
    if system_default is True:
        tls12: bool | None = True
        protocols: tuple[str, ...] | None = ("SystemDefault",)
    elif strong is True:
        tls12, protocols = True, ("Tls", "Tls11", "Tls12")
    elif system_default is False and strong is False:
        tls12, protocols = False, ("Ssl3", "Tls")
    else:
        # unknown target and no switch: only the registry could tell; say so rather than guess
        tls12, protocols = (False, ("Ssl3", "Tls")) if target else (None, None)
    return {
        "app_system_default_tls": system_default,
        "app_strong_crypto": strong,
        "app_tls12_by_default": tls12,
        "security_protocol_default": protocols,
        "security_protocol_source": "target framework, AppContext switches and registry"
        if protocols
        else None,
    }
