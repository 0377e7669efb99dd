""".NET: `dotnet --list-runtimes` (judged by the OS TLS library) and, on Windows, .NET Framework and Schannel
from the registry (read through an injectable RegistryReader)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from tlsaudit.inspectors.base import (
    Context,
    absolute,
    clean_details,
    dedupe,
    failed,
    failure_reason,
    is_shim,
    path_dirs,
)
from tlsaudit.inspectors.host import LOCAL, Host
from tlsaudit.inspectors.registry import RegistryReader
from tlsaudit.models import Evidence, FactValue, RuntimeFacts
from tlsaudit.versions import dotnet_release_version

KIND = "dotnet"
FRAMEWORK_TARGET = Path("HKLM/SOFTWARE/Microsoft/NET Framework Setup/NDP")
NDP = r"HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP"
NETFX = {
    "4": r"HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319",
    "2": r"HKLM\SOFTWARE\Microsoft\.NETFramework\v2.0.50727",
}
SCHANNEL = r"HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols"
WINDOWS_NT = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
_RUNTIME_LINE = re.compile(r"^(?P<name>\S+)\s+(?P<version>\S+)\s+\[(?P<path>.+)\]\s*$")
_DOTNET_NAME = "dotnet.exe" if os.name == "nt" else "dotnet"


def parse_list_runtimes(text: str) -> list[tuple[str, str, str]]:
    """`Microsoft.NETCore.App 6.0.8 [/usr/share/dotnet/shared/…]` -> (name, version, dir)"""
    out: list[tuple[str, str, str]] = []
    for line in text.splitlines():
        m = _RUNTIME_LINE.match(line.strip())
        if m:
            out.append((m.group("name"), m.group("version"), m.group("path")))
    return out


def windows_version(reader: RegistryReader) -> str | None:
    """`10.0.22631` on Windows 10/11 (CurrentMajorVersionNumber), `6.1.7601` before."""
    major = reader.value(WINDOWS_NT, "CurrentMajorVersionNumber")
    minor = reader.value(WINDOWS_NT, "CurrentMinorVersionNumber")
    build = reader.value(WINDOWS_NT, "CurrentBuildNumber")
    if isinstance(major, int) and isinstance(minor, int):
        base = f"{major}.{minor}"
    else:
        current = reader.value(WINDOWS_NT, "CurrentVersion")
        if not isinstance(current, str):
            return None
        base = current
    return f"{base}.{build}" if build is not None else base


def _dword(value: object) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*(0x[0-9a-fA-F]+|\d+)\s*", value):
        return int(value.strip(), 0)
    return None


def schannel_facts(reader: RegistryReader, win_version: str | None) -> dict[str, FactValue]:
    """Explicit SCHANNEL protocol keys for clients, and whether TLS 1.2 client is on by default."""
    details: dict[str, FactValue] = {}
    for label, key in (
        ("tls10", "TLS 1.0"),
        ("tls11", "TLS 1.1"),
        ("tls12", "TLS 1.2"),
        ("tls13", "TLS 1.3"),
    ):
        path = f"{SCHANNEL}\\{key}\\Client"
        details[f"schannel_{label}_client_enabled_value"] = _dword(reader.value(path, "Enabled"))
        details[f"schannel_{label}_client_disabled_by_default_value"] = _dword(
            reader.value(path, "DisabledByDefault")
        )
    enabled = details["schannel_tls12_client_enabled_value"]
    disabled_default = details["schannel_tls12_client_disabled_by_default_value"]
    major_minor = _major_minor(win_version)
    on: bool | None
    if enabled == 0 or disabled_default == 1:
        on = False
    elif major_minor is None:
        on = None
    elif major_minor >= (6, 2):
        on = True  # Windows 8 / Server 2012 and later: TLS 1.2 client on unless switched off
    elif major_minor >= (6, 0):
        # Windows 7 / 2008 R2 (and 2008 SP2 with KB4019276): TLS 1.2 client only when switched on explicitly
        on = enabled is not None and enabled != 0 and disabled_default == 0
    else:
        on = False
    details["schannel_tls12_client_enabled"] = on
    details["schannel_tls12_client_explicitly_disabled"] = enabled == 0 or disabled_default == 1
    return clean_details(details)


def _major_minor(version: str | None) -> tuple[int, int] | None:
    m = re.match(r"(\d+)\.(\d+)", version or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def _netfx_facts(reader: RegistryReader, generation: str) -> dict[str, FactValue]:
    details: dict[str, FactValue] = {}
    opt_in = True
    for view, suffix in (("64", "64"), ("32", "32")):
        strong = _dword(reader.value(NETFX[generation], "SchUseStrongCrypto", view=view))
        system = _dword(reader.value(NETFX[generation], "SystemDefaultTlsVersions", view=view))
        details[f"sch_use_strong_crypto_{suffix}"] = strong
        details[f"system_default_tls_versions_{suffix}"] = system
        opt_in = opt_in and (strong == 1 or system == 1)
    details["registry_tls_opt_in"] = opt_in
    return details


def framework_facts(reader: RegistryReader) -> list[RuntimeFacts]:
    """.NET Framework 4.x and 3.5 as installed, with the registry values that decide their TLS defaults."""
    win = windows_version(reader)
    common: dict[str, FactValue] = {"windows_version": win, "tls_library": "Schannel"}
    common.update(schannel_facts(reader, win))
    out: list[RuntimeFacts] = []
    full = f"{NDP}\\v4\\Full"
    if reader.key_exists(full):
        release = _dword(reader.value(full, "Release"))
        version = dotnet_release_version(release) if release is not None else "4.0"
        details: dict[str, FactValue] = {**common, "product": "framework", "framework_release": release}
        details.update(_netfx_facts(reader, "4"))
        out.append(
            RuntimeFacts(
                kind=KIND,
                path=full.replace("\\", "/"),
                version=version or "4.0",
                details=clean_details(details),
                evidence=(_registry_evidence(full, details),),
            )
        )
    v35 = f"{NDP}\\v3.5"
    if _dword(reader.value(v35, "Install")) == 1:
        details = {**common, "product": "framework"}
        details.update(_netfx_facts(reader, "2"))
        sp = reader.value(v35, "Version")
        out.append(
            RuntimeFacts(
                kind=KIND,
                path=v35.replace("\\", "/"),
                version=str(sp) if isinstance(sp, str) else "3.5",
                details=clean_details(details),
                evidence=(_registry_evidence(v35, details),),
            )
        )
    return out


def _registry_evidence(key: str, details: dict[str, FactValue]) -> Evidence:
    shown = "\n".join(f"{k} = {v}" for k, v in sorted(details.items()) if v is not None)
    return Evidence(
        argv=(), exit_code=None, stdout=shown, note=f"read registry {key} and SCHANNEL\\Protocols"
    )


LIBSSL_GLOBS: tuple[str, ...] = ("/usr/lib*/**/libssl.so.*", "/lib*/**/libssl.so.*")


def linux_libssl_version(
    search: Sequence[str] = LIBSSL_GLOBS,
    host: Host = LOCAL,
) -> str | None:
    """Highest libssl soname here (what .NET on Linux loads); None when ambiguous (`1.0.0`, `10`)."""
    best: tuple[int, ...] | None = None
    for path in host.glob_all(list(search)):
        m = re.fullmatch(r"libssl\.so\.(\d+(?:\.\d+)*[a-z]*)", path.name)
        if not m:
            continue
        numbers = tuple(int(x) for x in re.findall(r"\d+", m.group(1)))
        if best is None or numbers > best:
            best = numbers
    if best is None or best in ((1, 0, 0), (10,)):
        return None
    return ".".join(str(n) for n in best)


class DotnetInspector:
    kind = KIND

    def discover(self, ctx: Context, extra: Sequence[str | Path]) -> list[Path]:
        found = absolute(extra)
        if ctx.search_system:
            system = [d / _DOTNET_NAME for d in path_dirs(ctx.env)]
            system += [
                Path(p)
                for p in (
                    "/usr/share/dotnet/dotnet",
                    "/usr/lib/dotnet/dotnet",
                    "/usr/local/share/dotnet/dotnet",
                    "/opt/dotnet/dotnet",
                )
            ]
            if ctx.env.get("DOTNET_ROOT", "").startswith("/"):
                system.append(Path(ctx.env["DOTNET_ROOT"]) / _DOTNET_NAME)
            found += [p for p in system if p.is_file() and not is_shim(p)]
        found = dedupe(found)
        if ctx.registry is not None:
            found.append(FRAMEWORK_TARGET)
        return found

    def inspect(self, target: Path, ctx: Context) -> list[RuntimeFacts]:
        if target == FRAMEWORK_TARGET:
            return framework_facts(ctx.registry) if ctx.registry is not None else []
        if target.suffix.lower() in (".config", ".json"):  # --dotnet-config: web.config, *.runtimeconfig.json
            from tlsaudit.inspectors.dotnet_apps import app_config_runtime, is_app_config

            if is_app_config(target):
                return [app_config_runtime(target, ctx.registry)]
        result = ctx.run([str(target), "--list-runtimes"])
        if not result.ok:
            return [failed(KIND, target, failure_reason(result, "dotnet --list-runtimes"), [result.evidence])]
        runtimes = parse_list_runtimes(result.stdout)
        if not runtimes:
            return [failed(KIND, target, "dotnet --list-runtimes: no runtime listed", [result.evidence])]
        os_facts = self._os_tls(ctx)
        return [
            RuntimeFacts(
                kind=KIND,
                path=f"{directory}/{version}",
                version=version,
                details=clean_details({**os_facts, "product": "core", "runtime_name": name}),
                evidence=(result.evidence,),
            )
            for name, version, directory in runtimes
        ]

    def _os_tls(self, ctx: Context) -> dict[str, FactValue]:
        if ctx.platform == "win32" and ctx.registry is not None:
            win = windows_version(ctx.registry)
            return {"tls_library": "Schannel", "windows_version": win, **schannel_facts(ctx.registry, win)}
        if ctx.platform == "darwin":
            return {"tls_library": "Apple Security"}
        return {
            "tls_library": "OpenSSL",
            "tls_library_version": linux_libssl_version(host=ctx.host),
            "tls_library_version_source": "libssl soname",
        }
