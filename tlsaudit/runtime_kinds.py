"""One descriptor per runtime kind: everything the rest of tlsaudit needs to know about a kind, in one place.

Discovery and inspection (inspectors/discover.py), the rule loader (engine.RUNTIME_KINDS), the `--kind` and
`--KIND PATH` options (cli.py), the probe clients of `runtimes --probe` (capture/probe.py), the profile names
(capture/profile_capture.py) and the fact registry (facts.RUNTIME_DETAIL_FACTS) all read this table. Adding
a kind is one descriptor here, one inspector module, one rules file and, when it has an HTTPS client to
probe, one runner function.

This module is data only and imports nothing of tlsaudit: the rule engine and the CLI read it without paying
for the inspectors. Code is named by `module:attribute` and loaded on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class PathOption:
    """A `--KIND PATH` option: also inspect this program (or folder) of the kind."""

    flag: str  # "--php"
    dest: str  # "php_paths"
    help: str
    dir_okay: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DetailFact:
    """A `details.NAME` fact a kind reports: its type, its meaning and its version scheme."""

    type: str
    doc: str
    scheme: str = "plain"


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeKind:
    """name: the `kind` in facts, rules (`runtime_kind`) and JSON. display: how people call it.
    family: the platform it belongs to (Mono is a .NET runtime). discovery: what the inspector looks for
    (program names, folders), for the documentation and `rules facts`. inspector: `module:Class` of the
    Inspector. probe: `module:function(rt, credentials, prep) -> list[ClientRun]`, the default HTTPS clients
    `runtimes --probe` runs ('' when the kind has none). rules_file: its table, relative to the rules
    folder (tlsaudit.data.rules_dir).
    details: the detail facts only this kind reports (the older kinds still list theirs in facts.py)."""

    name: str
    display: str
    family: str
    discovery: tuple[str, ...]
    inspector: str
    rules_file: str
    probe: str = ""
    path_option: PathOption | None = None
    details: Mapping[str, DetailFact] = field(default_factory=dict)

    def load_inspector(self) -> Any:
        return _load(self.inspector)()

    def load_probe(self) -> Any:
        return _load(self.probe) if self.probe else None


def _load(target: str) -> Any:
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


_RUNNERS = "tlsaudit.capture.runners"

KINDS: tuple[RuntimeKind, ...] = (
    RuntimeKind(
        name="php",
        display="PHP",
        family="PHP",
        discovery=("php, php8.2, php-cgi... on PATH", "/usr/bin", "/usr/local/bin", "/opt/*/bin"),
        inspector="tlsaudit.inspectors.php:PhpInspector",
        rules_file="runtime/php.toml",
        probe=f"{_RUNNERS}:probe_php",
        path_option=PathOption(
            flag="--php", dest="php_paths", help="Also inspect this php binary (repeatable)."
        ),
    ),
    RuntimeKind(
        name="java",
        display="Java",
        family="Java",
        discovery=("java on PATH", "JAVA_HOME", "/usr/lib/jvm/*", "/opt/*jdk*"),
        inspector="tlsaudit.inspectors.java:JavaInspector",
        rules_file="runtime/java.toml",
        probe=f"{_RUNNERS}:probe_java",
        path_option=PathOption(
            flag="--java-home",
            dest="java_homes",
            help="Also inspect this JDK/JRE (a JAVA_HOME folder or a java binary; repeatable).",
            dir_okay=True,
        ),
    ),
    RuntimeKind(
        name="dotnet",
        display=".NET",
        family=".NET",
        discovery=(
            "dotnet on PATH",
            "DOTNET_ROOT",
            "/usr/share/dotnet",
            "registry (Windows or --registry FILE.reg)",
        ),
        inspector="tlsaudit.inspectors.dotnet:DotnetInspector",
        rules_file="runtime/dotnet.toml",
        probe=f"{_RUNNERS}:probe_dotnet",
        # the facts of application configs (--dotnet-config, rules/runtime/dotnet-apps.toml); the registry
        # and `dotnet --list-runtimes` facts are listed in facts.py
        details={
            "config_file": DetailFact(type="str", doc=".NET: the application config file read"),
            "target_framework": DetailFact(
                type="version",
                doc=".NET: the framework an application targets (httpRuntime, supportedRuntime, tfm)",
            ),
            "target_framework_source": DetailFact(type="str", doc=".NET: where target_framework was read"),
            "dont_enable_sch_use_strong_crypto": DetailFact(
                type="bool", doc="AppContext Switch.System.Net.DontEnableSchUseStrongCrypto, when set"
            ),
            "dont_enable_system_default_tls_versions": DetailFact(
                type="bool", doc="AppContext Switch.System.Net.DontEnableSystemDefaultTlsVersions, when set"
            ),
            "app_context_switches": DetailFact(
                type="list", doc="AppContextSwitchOverrides as NAME=true|false"
            ),
            "runtime_frameworks": DetailFact(type="list", doc="runtimeconfig.json: frameworks and versions"),
            "framework_version": DetailFact(
                type="version", doc="runtimeconfig.json: Microsoft.NETCore.App version"
            ),
            "app_system_default_tls": DetailFact(
                type="bool", doc="the application lets the OS choose TLS versions (SystemDefault)"
            ),
            "app_strong_crypto": DetailFact(
                type="bool",
                doc="strong crypto (TLS 1.0-1.2 instead of SSL 3/TLS 1.0) is on for the application",
            ),
            "app_tls12_by_default": DetailFact(
                type="bool", doc="the application offers TLS 1.2 without code (target, switches, registry)"
            ),
        },
    ),
    RuntimeKind(
        name="python",
        display="Python",
        family="Python",
        discovery=("python, python3, python3.N on PATH", "pyenv and /opt installs"),
        inspector="tlsaudit.inspectors.python:PythonInspector",
        rules_file="runtime/python.toml",
        probe=f"{_RUNNERS}:probe_python",
        path_option=PathOption(
            flag="--python", dest="python_paths", help="Also inspect this Python interpreter (repeatable)."
        ),
    ),
    RuntimeKind(
        name="curl",
        display="curl",
        family="curl",
        discovery=("curl on PATH",),
        inspector="tlsaudit.inspectors.curl:CurlInspector",
        rules_file="runtime/curl.toml",
        probe=f"{_RUNNERS}:probe_curl",
    ),
    RuntimeKind(
        name="openssl",
        display="OpenSSL",
        family="OpenSSL",
        discovery=("openssl on PATH",),
        inspector="tlsaudit.inspectors.openssl:OpensslInspector",
        rules_file="runtime/openssl.toml",
        probe=f"{_RUNNERS}:probe_openssl",
    ),
    RuntimeKind(
        name="node",
        display="Node.js",
        family="Node.js",
        discovery=("node, nodejs on PATH",),
        inspector="tlsaudit.inspectors.node:NodeInspector",
        rules_file="runtime/node.toml",
        probe=f"{_RUNNERS}:probe_node",
        path_option=PathOption(
            flag="--node", dest="node_paths", help="Also inspect this node binary (repeatable)."
        ),
    ),
    RuntimeKind(
        name="browser",
        display="Browser",
        family="Browser",
        discovery=("chromium, google-chrome, microsoft-edge, firefox, firefox-esr on PATH",),
        inspector="tlsaudit.inspectors.browser:BrowserInspector",
        rules_file="runtime/browser.toml",
    ),
    RuntimeKind(
        name="mono",
        display="Mono",
        family=".NET",
        discovery=("mono on PATH", "/usr/bin/mono", "/opt/mono/bin", "/Library/Frameworks/Mono.framework"),
        inspector="tlsaudit.inspectors.mono:MonoInspector",
        rules_file="runtime/mono.toml",
        probe=f"{_RUNNERS}:probe_mono",
        path_option=PathOption(
            flag="--mono", dest="mono_paths", help="Also inspect this mono binary (repeatable)."
        ),
        details={
            "mono_tls_provider": DetailFact(
                type="str", doc="Mono: TLS provider in use (btls, apple, legacy), as the runtime reports it"
            ),
            "mono_tls_provider_env": DetailFact(type="str", doc="Mono: MONO_TLS_PROVIDER in the environment"),
            "mono_tls_provider_source": DetailFact(
                type="str", doc="Mono: where MONO_TLS_PROVIDER was set (FILE:LINE (service), pid N)"
            ),
            "mono_tls_provider_error": DetailFact(
                type="str",
                doc="Mono: why no TLS provider could be loaded (an unknown MONO_TLS_PROVIDER, ...)",
            ),
            "security_protocol_default": DetailFact(
                type="list",
                doc="Mono/.NET Framework: ServicePointManager.SecurityProtocol at start (SystemDefault...)",
            ),
            "security_protocol_source": DetailFact(
                type="str", doc="where security_protocol_default was read (the runtime, or its version)"
            ),
        },
    ),
)

BY_NAME: dict[str, RuntimeKind] = {kind.name: kind for kind in KINDS}
NAMES: tuple[str, ...] = tuple(BY_NAME)


def display_name(kind: str) -> str:
    """How people call a kind (`Node.js`, `.NET`); unknown kinds (chromium, firefox profiles) as given."""
    descriptor = BY_NAME.get(kind)
    return descriptor.display if descriptor else kind
