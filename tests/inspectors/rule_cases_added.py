"""Firing and quiet cases for the Mono, .NET application and post-quantum rules (joined to test_rules.CASES).

Mono facts are what `probe.exe --info` printed on Debian 12 (Mono 6.8.0.105), with the version changed
where a rule turns on it; application facts come from real config files written to the test's folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tlsaudit.inspectors.dotnet_apps import app_config_runtime
from tlsaudit.inspectors.mono import parse_info
from tlsaudit.inspectors.pq import with_pq_hybrid
from tlsaudit.models import RuntimeFacts

INFO_6_8 = {
    "security_protocol": "SystemDefault",
    "provider": "btls",
    "provider_error": "",
    "clr": "4.0.30319.42000",
}


def mono(
    version: str, payload: dict[str, str] | None = None, env: dict[str, str] | None = None
) -> RuntimeFacts:
    details = parse_info(payload or INFO_6_8, env or {})
    return with_pq_hybrid(RuntimeFacts(kind="mono", path="/usr/bin/mono", version=version, details=details))


def app(text: str, name: str = "web.config") -> Callable[[Path], RuntimeFacts]:
    def make(tmp: Path) -> RuntimeFacts:
        path = tmp / name
        path.write_text(text, encoding="utf-8")
        return app_config_runtime(path, None)

    return make


def _config(target: str, switches: str = "") -> str:
    override = f'<runtime><AppContextSwitchOverrides value="{switches}"/></runtime>' if switches else ""
    web = f'<system.web><httpRuntime targetFramework="{target}"/></system.web>'
    return f"<configuration>{web}{override}</configuration>"


def openssl(version: str) -> RuntimeFacts:
    return with_pq_hybrid(
        RuntimeFacts(
            kind="openssl",
            path="/usr/bin/openssl",
            version=version,
            details={"tls_library": "OpenSSL", "tls_library_version": version},
        )
    )


LEGACY = {**INFO_6_8, "provider": "legacy"}
BROKEN = {
    **INFO_6_8,
    "provider": "",
    "provider_error": "NotSupportedException: No such TLS Provider: `bogus'.",
}
TLS_ONLY = {**INFO_6_8, "security_protocol": "Ssl3, Tls"}

# (rule, fires, label, make(tmp))
ADDED: list[tuple[str, bool, str, Callable[[Path], Any]]] = [
    (
        "runtime.mono.before-4.8-no-tls12",
        True,
        "Mono 4.6.2",
        lambda _t: mono("4.6.2", {**INFO_6_8, "provider": "legacy"}),
    ),
    ("runtime.mono.before-4.8-no-tls12", False, "Mono 6.8", lambda _t: mono("6.8.0.105")),
    ("runtime.mono.legacy-tls-provider", True, "5.20 provider legacy", lambda _t: mono("5.20.1", LEGACY)),
    (
        "runtime.mono.legacy-tls-provider",
        True,
        "5.4 MONO_TLS_PROVIDER=legacy, provider not reported",
        lambda _t: mono("5.4.1", {"security_protocol": "Tls, Tls11, Tls12"}, {"MONO_TLS_PROVIDER": "legacy"}),
    ),
    (
        "runtime.mono.legacy-tls-provider",
        False,
        "6.8 legacy is an alias of btls",
        lambda _t: mono("6.8.0.105", INFO_6_8, {"MONO_TLS_PROVIDER": "legacy"}),
    ),
    ("runtime.mono.no-tls-provider", True, "MONO_TLS_PROVIDER=bogus", lambda _t: mono("6.8.0.105", BROKEN)),
    ("runtime.mono.no-tls-provider", False, "btls", lambda _t: mono("6.8.0.105")),
    (
        "runtime.mono.security-protocol-without-tls12",
        True,
        "Ssl3, Tls",
        lambda _t: mono("6.8.0.105", TLS_ONLY),
    ),
    ("runtime.mono.security-protocol-without-tls12", False, "SystemDefault", lambda _t: mono("6.8.0.105")),
    ("runtime.dotnet.app-tls12-off", True, "targets 4.5.2", app(_config("4.5.2"))),
    ("runtime.dotnet.app-tls12-off", False, "targets 4.7.2", app(_config("4.7.2"))),
    (
        "runtime.dotnet.app-switch-turns-tls-defaults-off",
        True,
        "DontEnableSystemDefaultTlsVersions=true",
        app(_config("4.8", "Switch.System.Net.DontEnableSystemDefaultTlsVersions=true")),
    ),
    (
        "runtime.dotnet.app-switch-turns-tls-defaults-off",
        False,
        "DontEnableSchUseStrongCrypto=false",
        app(_config("4.5", "Switch.System.Net.DontEnableSchUseStrongCrypto=false")),
    ),
    ("runtime.pq-hybrid-not-default", True, "OpenSSL 3.0.22", lambda _t: openssl("3.0.22")),
    ("runtime.pq-hybrid-not-default", False, "OpenSSL 3.5.4", lambda _t: openssl("3.5.4")),
]
