"""Pins into runtime facts: each run's pins join the runtime it runs (matched by real path), and their
effect is written into the details the existing rule tables judge (pinned_client_protocols, https_protocols,
max_version, ...), with the place named in the `*_source` details the rule messages quote."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from tlsaudit.inspectors.java import parse_protocol_list, parse_security_property, split_algorithms
from tlsaudit.inspectors.openssl import OpensslConfig, protocol_name, read_config, system_default
from tlsaudit.inspectors.redact import redact_text
from tlsaudit.models import Evidence, FactValue, Pin, RuntimeFacts
from tlsaudit.pins.rootfs import RootFS
from tlsaudit.pins.runs import Run, host_program
from tlsaudit.pins.settings import FoundPin

MODERN = ("TLSv1.2", "TLSv1.3")
_VERSION_ORDER = ("SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
# Node 20's TLS version options; any other --tls-max/min-v* is "bad option" (command line) or
# "not allowed in NODE_OPTIONS"
NODE_VERSION_FLAGS = {
    "--tls-max-v1.2": ("max", "TLSv1.2"),
    "--tls-max-v1.3": ("max", "TLSv1.3"),
    "--tls-min-v1.0": ("min", "TLSv1.0"),
    "--tls-min-v1.1": ("min", "TLSv1.1"),
    "--tls-min-v1.2": ("min", "TLSv1.2"),
    "--tls-min-v1.3": ("min", "TLSv1.3"),
}
OPENSSL_CONSUMERS = (
    "python",
    "openssl",
)  # follow openssl.cnf MinProtocol/MaxProtocol (curl, PHP, Node do not)


@dataclass(slots=True)
class _Placed:
    run: Run
    pin: FoundPin

    @property
    def where(self) -> str:
        return self.run.where(self.pin)


@dataclass(slots=True)
class _Target:
    pins: list[_Placed] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)


class Attacher:
    """Holds the runs; `attach` is called for each runtime as it is inspected, `leftovers` at the end."""

    def __init__(self, runs: Sequence[Run], fs: RootFS) -> None:
        self.runs = list(runs)
        self.fs = fs
        self._used: set[int] = set()

    def programs(self) -> dict[str, list[str]]:
        """Runtime binaries the runs name, per kind (inspected like --java-home/--node paths)."""
        out: dict[str, list[str]] = {}
        for run in self.runs:
            if (
                run.kind
                and run.program
                and not run.everywhere
                and self.fs.is_host
                and os.access(run.program, os.X_OK)
            ):
                out.setdefault(run.kind, []).append(run.program)
        return out

    def _matches(self, run: Run, rt: RuntimeFacts) -> bool:
        if run.everywhere:
            return any(p.kinds is None or rt.kind in p.kinds for p in run.pins)
        if run.kind != rt.kind or run.program is None:
            return False
        wanted = host_program(self.fs, run.program)
        candidates = {os.path.realpath(rt.path)}
        home = rt.details.get("java_home")
        if isinstance(home, str):
            candidates.add(os.path.realpath(os.path.join(home, "bin", "java")))
        return wanted in candidates

    def attach(self, rt: RuntimeFacts) -> RuntimeFacts:
        target = _Target()
        for i, run in enumerate(self.runs):
            if self._matches(run, rt):
                if not run.everywhere:
                    self._used.add(i)
                target.runs.append(run)
                target.pins.extend(
                    _Placed(run, p) for p in _unique(run.pins) if p.kinds is None or rt.kind in p.kinds
                )
        if not target.runs or (rt.details.get("inspect_error") is not None and not target.pins):
            return rt
        return merge(rt, target.runs, target.pins, self.fs)

    def leftovers(self) -> list[RuntimeFacts]:
        """Runtime objects for runs whose runtime was not inspected (an image under --root, a program
        tlsaudit cannot run): named by the path, version unknown, pins judged all the same."""
        out: dict[tuple[str, str], list[Run]] = {}
        for i, run in enumerate(self.runs):
            if i in self._used or run.everywhere or run.kind is None or not run.pins:
                continue
            resolved = self.fs.resolve(run.program) if run.program else None
            shown = self.fs.show(resolved or run.program) if run.program else f"({run.label})"
            out.setdefault((run.kind, shown), []).append(run)
        facts: list[RuntimeFacts] = []
        for (kind, path), own in sorted(out.items()):
            login = [
                r
                for r in self.runs
                if r.everywhere and any(p.kinds is None or kind in p.kinds for p in r.pins)
            ]
            runs = [*own, *login]
            rt = RuntimeFacts(
                kind=kind,
                path=path,
                version=None,
                details={"not_run": "found in service configuration; not run by tlsaudit"},
            )
            placed = [
                _Placed(r, p) for r in runs for p in _unique(r.pins) if p.kinds is None or kind in p.kinds
            ]
            facts.append(merge(rt, runs, placed, self.fs))
        return facts


def _unique(pins: Sequence[FoundPin]) -> list[FoundPin]:
    return list(dict.fromkeys(pins))


def merge(rt: RuntimeFacts, runs: Sequence[Run], placed: Sequence[_Placed], fs: RootFS) -> RuntimeFacts:
    details: dict[str, FactValue] = dict(rt.details)
    effect = _EFFECTS.get(rt.kind)
    if effect is not None:
        effect(details, placed, fs)
    if placed:
        details["pin_summary"] = "; ".join(
            f"{p.pin.setting}={redact_text(p.pin.value)} at {p.where}" for p in placed
        )
    labels = sorted(
        {r.label if r.process is None else f"pid {r.process.pid}" for r in runs},
        key=lambda label: (label.startswith("pid "), int(label[4:]) if label[4:].isdigit() else 0, label),
    )
    details["run_by"] = tuple(labels)
    pins = tuple(
        dict.fromkeys(
            Pin(setting=p.pin.setting, value=redact_text(p.pin.value), source=p.pin.source) for p in placed
        )
    )
    processes = [r.process for r in runs if r.process is not None]
    with_pins = [r.process for r in runs if r.process is not None and r.pins]
    process = (with_pins or processes)[0] if processes else rt.process
    errors = tuple(dict.fromkeys([*rt.errors, *(e for r in runs for e in r.errors)]))
    read = Evidence(
        argv=(),
        exit_code=None,
        stdout="\n".join(f"{p.pin.setting}={redact_text(p.pin.value)} ({p.where})" for p in placed),
        note=f"TLS settings where this runtime is run: {', '.join(labels)}",
    )
    return replace(
        rt,
        evidence=(read, *rt.evidence) if placed else rt.evidence,
        details=details,
        pins=(*rt.pins, *pins),
        process=process,
        errors=errors or rt.errors,
    )


def _pick(values: Sequence[tuple[str, str]], bad: Callable[[str], bool]) -> tuple[str, str]:
    """(value, where) to judge: the first value that breaks TLS 1.2 and every place that sets such a value,
    else the last one."""
    broken = [v for v in values if bad(v[0])]
    if not broken:
        return values[-1]
    return broken[0][0], "; ".join(dict.fromkeys(where for _, where in broken))


def _lacks_modern(value: str) -> bool:
    protocols = parse_protocol_list(value) or ()
    return not any(p in MODERN for p in protocols)


def _java(details: dict[str, FactValue], placed: Sequence[_Placed], fs: RootFS) -> None:
    by: dict[str, list[tuple[str, str]]] = {}
    for p in placed:
        by.setdefault(p.pin.setting, []).append((p.pin.value, p.where))
    for prop, key, source_key in (
        ("-Djdk.tls.client.protocols", "pinned_client_protocols", "pin_source"),
        ("-Dhttps.protocols", "https_protocols", "https_protocols_source"),
    ):
        values = by.get(prop, [])
        existing = details.get(key)
        if isinstance(existing, tuple) and not any(p in MODERN for p in existing):
            continue  # the environment tlsaudit runs in already pins it
        if values:
            value, where = _pick(values, _lacks_modern)
            details[key] = parse_protocol_list(value)
            details[source_key] = where
    for value, where in by.get("-Djava.security.properties", []):
        details["security_properties_override"] = value
        replaces = value.startswith("=")
        path = value.lstrip("=")
        text = fs.read_text(path) if path.startswith("/") else None
        if text is None:
            continue
        disabled = parse_security_property(text, "jdk.tls.disabledAlgorithms")
        if disabled is None and not replaces:
            continue
        algorithms = split_algorithms(disabled) or ()
        if "TLSv1.2" in algorithms or replaces:
            details["disabled_algorithms"] = algorithms
            details["java_security_path"] = f"{fs.show(path)}, the -Djava.security.properties file of {where}"
    for prop, key in (
        ("-Dcom.ibm.jsse2.overrideDefaultTLS", "ibm_override_default_tls"),
        ("-Dcom.ibm.jsse2.overrideDefaultProtocol", "ibm_override_default_protocol"),
    ):
        if by.get(prop):
            value = by[prop][-1][0]
            details[key] = value.strip().lower() == "true" if key.endswith("tls") else value


def _node(details: dict[str, FactValue], placed: Sequence[_Placed], fs: RootFS) -> None:
    limits: dict[str, tuple[str, str]] = {}
    for p in placed:
        flags: list[tuple[str, bool]]
        if p.pin.setting == "NODE_OPTIONS":
            flags = [(w, True) for w in p.pin.value.split()]
        else:
            flags = [(p.pin.setting, False)]
        for flag, in_env in flags:
            if not flag.startswith("--tls-m"):
                continue
            known = NODE_VERSION_FLAGS.get(flag)
            if known is None:
                how = f"{flag} is not allowed in NODE_OPTIONS" if in_env else f"bad option: {flag}"
                details["node_options_error"] = f"node: {how}"
                details["node_options_source"] = ("NODE_OPTIONS " if in_env else "command line ") + p.where
                if in_env:
                    details["node_options"] = p.pin.value
                continue
            which, version = known
            current = limits.get(which)
            worse = current is None or (
                _VERSION_ORDER.index(version) < _VERSION_ORDER.index(current[0])
                if which == "max"
                else _VERSION_ORDER.index(version) > _VERSION_ORDER.index(current[0])
            )
            if worse:
                limits[which] = (version, ("NODE_OPTIONS at " if in_env else "") + p.where)
    for which, (version, where) in limits.items():
        details[f"{which}_version"] = version
        details["tls_limits_source"] = where


def _openssl_config(
    details: dict[str, FactValue], placed: Sequence[_Placed], fs: RootFS, kind_is_openssl: bool
) -> None:
    for p in placed:
        if p.pin.setting != "OPENSSL_CONF" or not p.pin.value.startswith("/"):
            continue
        resolved = fs.resolve(p.pin.value)
        config = read_config(fs.host_path(resolved)) if resolved is not None else OpensslConfig()
        section, _chain = system_default(config)
        lowered = {k.lower(): v for k, v in (section or {}).items()}
        low, high = protocol_name(lowered.get("minprotocol")), protocol_name(lowered.get("maxprotocol"))
        if kind_is_openssl:
            details["config_path"] = fs.show(p.pin.value)
            details["config_source"] = f"OPENSSL_CONF at {p.where}"
            details["config_exists"] = resolved is not None and fs.is_file(p.pin.value)
        if high is not None and high in _VERSION_ORDER[:3]:
            details["max_version"] = high
            details["tls_limits_source"] = f"{fs.show(p.pin.value)} (OPENSSL_CONF at {p.where})"
        if low == "TLSv1.3":
            details["min_version"] = low
            details["tls_limits_source"] = f"{fs.show(p.pin.value)} (OPENSSL_CONF at {p.where})"


def _curl(details: dict[str, FactValue], placed: Sequence[_Placed], fs: RootFS) -> None:
    """`--tls-max 1.1` caps curl (its own bound: openssl.cnf does not)."""
    for p in placed:
        if p.pin.setting == "--tls-max" and p.pin.value in ("1.0", "1.1", "1.2", "1.3"):
            version = f"TLSv{p.pin.value}"
            current = details.get("max_version")
            if (
                not isinstance(current, str)
                or current not in _VERSION_ORDER
                or (_VERSION_ORDER.index(version) < _VERSION_ORDER.index(current))
            ):
                details["max_version"] = version
                details["tls_limits_source"] = p.where


def _mono(details: dict[str, FactValue], placed: Sequence[_Placed], fs: RootFS) -> None:
    """MONO_TLS_PROVIDER where Mono runs decides its provider: the one measured in tlsaudit's own
    environment no longer counts (rules/runtime/mono.toml judges the value by Mono's version)."""
    for p in placed:
        if p.pin.setting == "MONO_TLS_PROVIDER":
            details["mono_tls_provider_env"] = p.pin.value.strip()
            details["mono_tls_provider_source"] = p.where
            details.pop("mono_tls_provider", None)
            details.pop("mono_tls_provider_error", None)


_EFFECTS: Mapping[str, Callable[[dict[str, FactValue], Sequence[_Placed], RootFS], None]] = {
    "java": _java,
    "mono": _mono,
    "node": _node,
    "curl": _curl,
    "python": lambda d, p, fs: _openssl_config(d, p, fs, False),
    "openssl": lambda d, p, fs: _openssl_config(d, p, fs, True),
}
