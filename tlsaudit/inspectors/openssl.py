"""OpenSSL: library and CLI versions, and the system_default settings of the active openssl.cnf."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tlsaudit.inspectors.base import (
    Context,
    absolute,
    clean_details,
    dedupe,
    failed,
    failure_reason,
    on_path,
)
from tlsaudit.inspectors.host import LOCAL, Host
from tlsaudit.inspectors.tlslib import openssl_banner
from tlsaudit.models import Evidence, FactValue, RuntimeFacts
from tlsaudit.versions import normalise

KIND = "openssl"
_OPENSSL_NAME = re.compile(r"openssl(\.exe)?")
_MAX_INCLUDE_DEPTH = 8
_PROTOCOL_NAMES = {
    "tlsv1": "TLSv1.0",
    "tlsv1.0": "TLSv1.0",
    "tlsv1.1": "TLSv1.1",
    "tlsv1.2": "TLSv1.2",
    "tlsv1.3": "TLSv1.3",
    "sslv3": "SSLv3",
    "none": "none",
}


def protocol_name(value: str | None) -> str | None:
    """OpenSSL's `TLSv1` is TLS 1.0; names are given in tlsaudit's spelling."""
    if value is None:
        return None
    return _PROTOCOL_NAMES.get(value.strip().lower(), value.strip())


def parse_version_a(text: str) -> dict[str, FactValue]:
    """`openssl version -a`: CLI and library version, OPENSSLDIR, compiled-in security level."""
    details: dict[str, FactValue] = {}
    first = text.strip().splitlines()[0] if text.strip() else ""
    name, version = openssl_banner(first)
    details["openssl_cli_version"] = version
    library = re.search(r"\(Library:\s*([^)]*)\)", first)
    lib_name, lib_version = openssl_banner(library.group(1)) if library else (name, version)
    details["tls_library"] = lib_name
    details["tls_library_version"] = lib_version
    openssldir = re.search(r'^OPENSSLDIR:\s*"([^"]*)"', text, re.MULTILINE)
    details["openssldir"] = openssldir.group(1) if openssldir else None
    level = re.search(r"-DOPENSSL_TLS_SECURITY_LEVEL=(\d+)", text)
    details["compiled_security_level"] = int(level.group(1)) if level else None
    return clean_details(details)


@dataclass(slots=True)
class OpensslConfig:
    """The parts of an openssl.cnf that decide TLS defaults, with the files read."""

    sections: dict[str, dict[str, str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def read_config(
    path: Path, config: OpensslConfig | None = None, depth: int = 0, host: Host = LOCAL
) -> OpensslConfig:
    """Read an openssl.cnf and its `.include`s (files or directories of *.cnf)."""
    config = config if config is not None else OpensslConfig()
    try:
        text = host.read_text(path)
    except OSError as exc:
        config.errors.append(f"cannot read {path}: {exc.strerror or exc}")
        return config
    config.files.append(str(path))
    section = "default"
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        include = re.match(r"^\.include\s*=?\s*(.+)$", line)
        if include:
            if depth >= _MAX_INCLUDE_DEPTH:
                config.errors.append(f"{path}: .include nested too deep")
                continue
            target = Path(include.group(1).strip().strip('"'))
            if not target.is_absolute():
                target = path.parent / target
            targets = (
                host.glob(target, "*.cnf") + host.glob(target, "*.conf") if host.is_dir(target) else [target]
            )
            for item in targets:
                read_config(item, config, depth + 1, host)
            continue
        header = re.match(r"^\[\s*([^\]]+?)\s*\]$", line)
        if header:
            section = header.group(1)
            config.sections.setdefault(section, {})
            continue
        key, sep, value = line.partition("=")
        if sep:
            config.sections.setdefault(section, {})[key.strip()] = value.strip().strip('"')
    return config


def system_default(config: OpensslConfig) -> tuple[dict[str, str] | None, str]:
    """The `system_default` section the library applies to every SSL_CTX, and how it was reached."""
    init = config.sections.get("default", {}).get("openssl_conf")
    if not init:
        return None, "no openssl_conf in the default section"
    ssl_section = config.sections.get(init, {}).get("ssl_conf")
    if not ssl_section:
        return None, f"no ssl_conf in [{init}]"
    sd_name = config.sections.get(ssl_section, {}).get("system_default")
    if not sd_name:
        return None, f"no system_default in [{ssl_section}]"
    if sd_name not in config.sections:
        return None, f"section [{sd_name}] missing"
    return config.sections[sd_name], f"[{init}] -> [{ssl_section}] -> [{sd_name}]"


def config_facts(
    config: OpensslConfig, library_version: str | None, compiled_level: int | None
) -> dict[str, FactValue]:
    details: dict[str, FactValue] = {}
    section, chain = system_default(config)
    details["config_system_default"] = chain
    cipher = None
    if section is not None:
        lowered = {k.lower(): v for k, v in section.items()}
        details["min_version"] = protocol_name(lowered.get("minprotocol"))
        details["max_version"] = protocol_name(lowered.get("maxprotocol"))
        cipher = lowered.get("cipherstring")
        details["cipher_string"] = cipher
    level_in_string = re.search(r"@SECLEVEL=(\d+)", cipher or "")
    if level_in_string:
        details["security_level"] = int(level_in_string.group(1))
        details["security_level_source"] = "CipherString"
    elif compiled_level is not None:
        details["security_level"] = compiled_level
        details["security_level_source"] = "compiled default"
    else:
        parsed = normalise(library_version or "", "openssl")
        if parsed is not None and parsed.release[:2] >= (1, 1):
            details["security_level"] = 2 if parsed.release[:2] >= (3, 2) else 1
            details["security_level_source"] = "library default"
    return clean_details(details)


def config_path(env: Mapping[str, str], openssldir: str | None) -> tuple[Path | None, str]:
    if env.get("OPENSSL_CONF"):
        return Path(env["OPENSSL_CONF"]), "OPENSSL_CONF"
    if openssldir:
        return Path(openssldir) / "openssl.cnf", "OPENSSLDIR"
    return None, "unknown"


class OpensslInspector:
    kind = KIND

    def discover(self, ctx: Context, extra: Sequence[str | Path]) -> list[Path]:
        found = absolute(extra)
        if ctx.search_system:
            found += on_path(ctx.env, _OPENSSL_NAME)
        return dedupe(found)

    def inspect(self, target: Path, ctx: Context) -> list[RuntimeFacts]:
        result = ctx.run([str(target), "version", "-a"])
        if not result.ok:
            return [failed(KIND, target, failure_reason(result, "openssl version -a"), [result.evidence])]
        details = parse_version_a(result.stdout)
        version = details.get("openssl_cli_version")
        if not isinstance(version, str):
            return [failed(KIND, target, "openssl version -a: unrecognised output", [result.evidence])]
        evidence = [result.evidence]
        openssldir = details.get("openssldir")
        path, source = config_path(ctx.env, openssldir if isinstance(openssldir, str) else None)
        details["config_source"] = source
        if path is not None:
            details["config_path"] = str(path)
            exists = ctx.host.is_file(path)
            details["config_exists"] = exists
            missing = OpensslConfig(errors=[f"{path} does not exist"])
            config = read_config(path, host=ctx.host) if exists else missing
            lib_version = details.get("tls_library_version")
            level = details.get("compiled_security_level")
            details.update(
                config_facts(
                    config,
                    lib_version if isinstance(lib_version, str) else None,
                    level if isinstance(level, int) else None,
                )
            )
            shown = {
                k: details[k]
                for k in (
                    "config_system_default",
                    "min_version",
                    "max_version",
                    "cipher_string",
                    "security_level",
                )
                if k in details
            }
            evidence.append(
                Evidence(
                    argv=(),
                    exit_code=None,
                    stdout="\n".join(f"{k} = {v}" for k, v in shown.items()),
                    note="; ".join([f"read {', '.join(config.files) or path}", *config.errors]),
                )
            )
        return [
            RuntimeFacts(
                kind=KIND,
                path=str(target),
                version=version,
                details=clean_details(details),
                evidence=tuple(evidence),
            )
        ]
