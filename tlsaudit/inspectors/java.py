"""Java: every JVM found, its vendor and version, java.security, option pins, effective client protocols."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from tlsaudit.inspectors.base import (
    Context,
    absolute,
    clean_details,
    dedupe,
    failed,
    failure_reason,
    glob_all,
    is_shim,
    path_dirs,
)
from tlsaudit.inspectors.host import FILES_DIR
from tlsaudit.inspectors.java_probe import CLASS_NAME, probe_class_bytes
from tlsaudit.inspectors.process import find_program
from tlsaudit.inspectors.redact import redact_env
from tlsaudit.models import Evidence, FactValue, RuntimeFacts
from tlsaudit.versions import normalise

KIND = "java"
OPTION_VARIABLES: tuple[str, ...] = ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS")  # low -> high

# ---------------------------------------------------------------- parsers (pure)

_VERSION_LINE = re.compile(r'^\s*(?:java|openjdk) version "(?P<version>[^"]+)"', re.MULTILINE)
_VERSION_LINE_9 = re.compile(r"^\s*(?:java|openjdk) (?P<version>\d+(?:\.\d+)*)\b", re.MULTILINE)
_IBM_SR_FP = re.compile(r"\((SR\d+(?:\s+FP\d+)?)\)|\b(SR\d+(?:\s+FP\d+)?)\b")
_IBM_BUILD = re.compile(r"\bsr(\d+)(?:fp(\d+))?", re.IGNORECASE)
_VENDOR_MARKERS: tuple[tuple[str, str], ...] = (
    ("IBM J9", "IBM"),
    ("IBM Corporation", "IBM"),
    ("Semeru", "IBM Semeru"),
    ("Zulu", "Azul Zulu"),
    ("Corretto", "Amazon Corretto"),
    ("Temurin", "Eclipse Temurin"),
    ("AdoptOpenJDK", "AdoptOpenJDK"),
    ("GraalVM", "GraalVM"),
    ("SapMachine", "SapMachine"),
    ("Microsoft", "Microsoft"),
    ("BellSoft", "BellSoft Liberica"),
    ("Liberica", "BellSoft Liberica"),
    ("Red Hat", "Red Hat"),
    ("Debian", "Debian"),
    ("Ubuntu", "Ubuntu"),
    ("Java(TM)", "Oracle"),
    ("HotSpot(TM)", "Oracle"),
    ("Oracle Corporation", "Oracle"),
    ("OpenJDK", "OpenJDK"),
)


def parse_banner(text: str) -> dict[str, FactValue]:
    """`java -version` output (any vendor, any era): version, vendor, IBM SR/FP, build line."""
    m = _VERSION_LINE.search(text) or _VERSION_LINE_9.search(text)
    if m is None:
        return {}
    version = m.group("version")
    tail = text[m.end() :]
    facts: dict[str, FactValue] = {"java_version": version, "vendor": detect_vendor(tail) or "unknown"}
    major = java_major(version)
    if major is not None:
        facts["java_major"] = major
    if facts["vendor"] == "IBM":
        sr = _IBM_SR_FP.search(tail)
        if sr:
            facts["ibm_sr_fp"] = sr.group(1) or sr.group(2)
        else:
            build = _IBM_BUILD.search(tail)
            if build:
                facts["ibm_sr_fp"] = f"SR{build.group(1)}" + (
                    f" FP{build.group(2)}" if build.group(2) else ""
                )
    build_line = re.search(r"\(build ([^)]+)\)", tail)
    if build_line:
        facts["java_build"] = build_line.group(1).strip()
    return facts


def detect_vendor(text: str) -> str | None:
    for marker, vendor in _VENDOR_MARKERS:
        if marker in text:
            return vendor
    return None


def java_major(version: str) -> int | None:
    parsed = normalise(version, "java")
    return parsed.release[0] if parsed is not None else None


def parse_probe(text: str) -> dict[str, str | None]:
    """Lines `key=value` printed by the probe class; `null` means unset. Empty if the probe never finished."""
    values: dict[str, str | None] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and re.fullmatch(r"[\w.]+", key):
            values[key] = None if value == "null" else value
    return (
        values if values.get("probe.end") == "ok" else {k: v for k, v in values.items() if k != "probe.end"}
    )


def parse_protocol_list(text: str | None) -> tuple[str, ...] | None:
    """`[TLSv1.3, TLSv1.2]` or `TLSv1.3,TLSv1.2` -> ("TLSv1.3", "TLSv1.2")."""
    if text is None:
        return None
    inner = text.strip().removeprefix("[").removesuffix("]")
    return tuple(p.strip() for p in inner.split(",") if p.strip())


def parse_showsettings_tls(text: str) -> tuple[str, ...] | None:
    """Enabled protocols from `-XshowSettings:security:tls`; None when the JVM printed no such block
    (older JDKs silently print the VM settings instead: that is not "no protocols")."""
    if "Security TLS configuration" not in text:
        return None
    m = re.search(r"Enabled Protocols:\s*\n((?:[ \t]+\S+[ \t]*\n)*)", text + "\n")
    if m is None:
        return None
    return tuple(line.strip() for line in m.group(1).splitlines() if line.strip())


def parse_security_property(text: str, name: str) -> str | None:
    """A property from a java.security file, continuation lines (`\\` at end of line) joined."""
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith(("#", "!"))):
            continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            current += line[:-1].strip() + " "
            continue
        logical.append(current + line)
        current = ""
    if current:
        logical.append(current)
    value: str | None = None
    for line in logical:
        m = re.match(r"([^=:\s]+)\s*[=:]\s*(.*)$", line)
        if m and m.group(1) == name:
            value = m.group(2).strip()  # the last definition wins, as in java.util.Properties
    return value


def split_algorithms(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(re.sub(r"\s+", " ", part).strip() for part in value.split(",") if part.strip())


def option_pins(env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """System properties set through the JVM option variables: {property: (value, winning variable)}."""
    pins: dict[str, tuple[str, str]] = {}
    for variable in OPTION_VARIABLES:
        raw = env.get(variable)
        if not raw:
            continue
        try:
            words = shlex.split(raw)
        except ValueError:
            words = raw.split()
        for word in words:
            if word.startswith("-D") and "=" in word:
                prop, _, value = word[2:].partition("=")
                pins[prop] = (value, variable)
    return pins


def java_security_paths(home: Path) -> list[Path]:
    """Where java.security lives: 9+ conf/security, <= 8 JDK jre/lib/security, <= 8 JRE lib/security."""
    return [
        home / "conf" / "security" / "java.security",
        home / "jre" / "lib" / "security" / "java.security",
        home / "lib" / "security" / "java.security",
    ]


def protocols_facts(
    banner: Mapping[str, FactValue],
    probe: Mapping[str, str | None],
    showsettings: tuple[str, ...] | None,
    security_file_value: str | None,
    env: Mapping[str, str],
) -> dict[str, FactValue]:
    """The details of one JVM from what each source gave (any of them may be missing)."""
    details: dict[str, FactValue] = dict(banner)
    vendor_text = " ".join(v for k, v in probe.items() if k.startswith("prop.java.v") and v)
    if details.get("vendor") in (None, "unknown", "OpenJDK") and vendor_text:
        details["vendor"] = detect_vendor(vendor_text) or details.get("vendor")
    details["vendor_version"] = probe.get("prop.java.vendor.version")
    details["runtime_version"] = probe.get("prop.java.runtime.version")
    default = parse_protocol_list(probe.get("default.protocols"))
    supported = parse_protocol_list(probe.get("supported.protocols"))
    if default is not None:
        details["default_client_protocols"] = default
        details["default_protocols_source"] = "probe"
    elif showsettings is not None:
        details["default_client_protocols"] = showsettings
        details["default_protocols_source"] = "-XshowSettings:security:tls"
    if showsettings is not None:
        details["showsettings_protocols"] = showsettings
    details["supported_protocols"] = supported
    effective = probe.get("security.jdk.tls.disabledAlgorithms")
    disabled = effective if "security.jdk.tls.disabledAlgorithms" in probe else security_file_value
    details["disabled_algorithms"] = split_algorithms(disabled)
    details["disabled_algorithms_file"] = split_algorithms(security_file_value)
    major = details.get("java_major")
    if isinstance(major, int) and major < 9:  # only the 9+ launcher reads JDK_JAVA_OPTIONS
        env = {k: v for k, v in env.items() if k != "JDK_JAVA_OPTIONS"}
    pins = option_pins(env)
    client = probe.get("prop.jdk.tls.client.protocols")
    if client is None and "jdk.tls.client.protocols" in pins and not probe:
        client = pins["jdk.tls.client.protocols"][0]
    if client is not None:
        details["pinned_client_protocols"] = parse_protocol_list(client)
        details["pin_source"] = pins.get("jdk.tls.client.protocols", ("", "java command line or code"))[1]
    https = probe.get("prop.https.protocols")
    if https is None and "https.protocols" in pins and not probe:
        https = pins["https.protocols"][0]
    if https is not None:
        details["https_protocols"] = parse_protocol_list(https)
        details["https_protocols_source"] = pins.get("https.protocols", ("", "java command line or code"))[1]
    security_override = (
        probe.get("prop.java.security.properties") or pins.get("java.security.properties", (None,))[0]
    )
    details["security_properties_override"] = security_override
    ibm_tls = (
        probe.get("prop.com.ibm.jsse2.overrideDefaultTLS")
        or pins.get("com.ibm.jsse2.overrideDefaultTLS", (None,))[0]
    )
    if ibm_tls is not None:
        details["ibm_override_default_tls"] = ibm_tls.strip().lower() == "true"
    ibm_proto = (
        probe.get("prop.com.ibm.jsse2.overrideDefaultProtocol")
        or pins.get("com.ibm.jsse2.overrideDefaultProtocol", (None,))[0]
    )
    details["ibm_override_default_protocol"] = ibm_proto
    variables = sorted(v for v in OPTION_VARIABLES if env.get(v))
    details["option_variables"] = tuple(variables) if variables else None
    return clean_details(details)


# ---------------------------------------------------------------- discovery

_JAVA_EXE = "java.exe" if os.name == "nt" else "java"


def _from_home(home: Path) -> Path | None:
    for candidate in (home / "bin" / _JAVA_EXE, home / "jre" / "bin" / _JAVA_EXE):
        if candidate.is_file():
            return candidate
    return None


def _as_java(path: Path) -> Path | None:
    return _from_home(path) if path.is_dir() else path


class JavaInspector:
    kind = KIND

    def discover(self, ctx: Context, extra: Sequence[str | Path]) -> list[Path]:
        found: list[Path] = [j for p in absolute(extra) if (j := _as_java(p)) is not None]
        if not ctx.search_system:
            return dedupe(found)
        env = ctx.env
        on_path = find_program(_JAVA_EXE, {"PATH": os.pathsep.join(str(d) for d in path_dirs(env))})
        if on_path is not None and not is_shim(on_path):
            found.append(on_path)
        if env.get("JAVA_HOME") and os.path.isabs(env["JAVA_HOME"]):
            home_java = _from_home(Path(env["JAVA_HOME"]))
            if home_java:
                found.append(home_java)
        homes = glob_all(
            [
                "/usr/lib/jvm/*",
                "/usr/java/*",
                "/opt/*",
                "/opt/ibm/java*",
                "/opt/*/jdk*",
                "/opt/*/java*",
                "/Library/Java/JavaVirtualMachines/*/Contents/Home",
                "/System/Library/Java/JavaVirtualMachines/*/Contents/Home",
            ]
        )
        found.extend(j for h in homes if h.is_dir() and (j := _from_home(h)) is not None)
        found.extend(self._alternatives(ctx))
        found.extend(self._macos_java_home(ctx))
        found.extend(self._windows_registry(ctx))
        return dedupe([p for p in found if p.is_file()])

    def _alternatives(self, ctx: Context) -> list[Path]:
        tool = next(
            (
                p
                for p in (Path("/usr/bin/update-alternatives"), Path("/usr/sbin/alternatives"))
                if p.is_file()
            ),
            None,
        )
        if tool is None:
            return []
        result = ctx.run([str(tool), "--list", "java"])
        return [Path(line.strip()) for line in result.stdout.splitlines() if line.strip().startswith("/")]

    def _macos_java_home(self, ctx: Context) -> list[Path]:
        tool = Path("/usr/libexec/java_home")
        if ctx.platform != "darwin" or not tool.is_file():
            return []
        result = ctx.run([str(tool), "-V"])
        homes = re.findall(r"\s(/\S.*?/Contents/Home)\s*$", result.output, re.MULTILINE)
        return [j for h in homes if (j := _from_home(Path(h))) is not None]

    def _windows_registry(self, ctx: Context) -> list[Path]:
        if ctx.registry is None:
            return []
        out: list[Path] = []
        for base in (
            r"HKLM\SOFTWARE\JavaSoft\Java Runtime Environment",
            r"HKLM\SOFTWARE\JavaSoft\Java Development Kit",
            r"HKLM\SOFTWARE\JavaSoft\JRE",
            r"HKLM\SOFTWARE\JavaSoft\JDK",
        ):
            for view in ("64", "32"):
                current = ctx.registry.value(base, "CurrentVersion", view=view)
                if isinstance(current, str):
                    home = ctx.registry.value(f"{base}\\{current}", "JavaHome", view=view)
                    if isinstance(home, str) and (j := _from_home(Path(home))) is not None:
                        out.append(j)
        return out

    # ------------------------------------------------------------ inspection

    def inspect(self, target: Path, ctx: Context) -> list[RuntimeFacts]:
        evidence: list[Evidence] = []
        first = ctx.run([str(target), "-XshowSettings:security:tls", "-version"])
        evidence.append(first.evidence)
        banner = parse_banner(first.output) if first.ok else {}
        showsettings = parse_showsettings_tls(first.output) if first.ok else None
        if not banner:
            plain = ctx.run([str(target), "-version"])
            evidence.append(plain.evidence)
            if not plain.ok:
                return [failed(KIND, target, failure_reason(plain, "java -version"), evidence)]
            banner = parse_banner(plain.output)
            if not banner:
                return [failed(KIND, target, "java -version: unrecognised output", evidence)]
        probe, probe_error = self._probe(target, ctx, evidence)
        home_text = probe.get("prop.java.home")
        home = Path(home_text) if home_text else target.parent.parent
        security_value: str | None = None
        security_path: Path | None = None
        for candidate in java_security_paths(home) + java_security_paths(target.parent.parent):
            if ctx.host.is_file(candidate):
                security_path = candidate
                try:
                    content = ctx.host.read_text(candidate)
                except OSError as exc:
                    evidence.append(Evidence(argv=(), exit_code=None, note=f"cannot read {candidate}: {exc}"))
                    break
                security_value = parse_security_property(content, "jdk.tls.disabledAlgorithms")
                evidence.append(
                    Evidence(
                        argv=(),
                        exit_code=None,
                        stdout=f"jdk.tls.disabledAlgorithms={security_value}",
                        note=f"read {candidate}",
                    )
                )
                break
        details = protocols_facts(banner, probe, showsettings, security_value, ctx.env)
        options = {v: ctx.env[v] for v in OPTION_VARIABLES if ctx.env.get(v)}
        if options:
            shown = redact_env(options)
            evidence.append(
                Evidence(
                    argv=(),
                    exit_code=None,
                    stdout="\n".join(f"{k}={v}" for k, v in shown.items()),
                    note="JVM option variables in the environment the runtime was inspected with",
                )
            )
        if security_path is not None:
            details["java_security_path"] = str(security_path)
        details["java_home"] = str(home)
        if probe_error:
            details["probe_error"] = probe_error
        version = str(banner["java_version"])
        return [
            RuntimeFacts(
                kind=KIND,
                path=str(target),
                version=version,
                details=details,
                evidence=tuple(evidence),
                errors=(probe_error,) if probe_error else (),
            )
        ]

    def _probe(
        self, target: Path, ctx: Context, evidence: list[Evidence]
    ) -> tuple[dict[str, str | None], str | None]:
        result = ctx.run(
            [str(target), "-cp", FILES_DIR, CLASS_NAME],
            note="TLS client probe (prints the default SSLContext's protocols)",
            files={f"{CLASS_NAME}.class": probe_class_bytes()},
        )
        evidence.append(result.evidence)
        probe = parse_probe(result.stdout)
        if result.ok and probe.get("probe.end") == "ok":
            return probe, None
        return probe, failure_reason(result, "TLS probe")
