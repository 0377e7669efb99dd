"""Who runs which runtime with which pins: systemd services, service configuration files, /etc/environment
and running processes, as `Run`s."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from tlsaudit.inspectors.redact import redact_argv
from tlsaudit.models import ProcessInfo
from tlsaudit.pins import readers
from tlsaudit.pins.envfile import Assignment, Word
from tlsaudit.pins.procs import ProcessView, processes
from tlsaudit.pins.rootfs import RootFS
from tlsaudit.pins.settings import (
    TLS_VARIABLES,
    FoundPin,
    command_pins,
    environment_pins,
    process_environment,
)
from tlsaudit.pins.systemd import UnitReader

SYSTEM_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
_KINDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"java(\.exe)?"), "java"),
    (re.compile(r"(node|nodejs)(\d+)?"), "node"),
    (re.compile(r"php(-fpm|-cgi)?(\d+(\.\d+)?)?(-fpm)?"), "php"),
    (re.compile(r"python(\d+(\.\d+)?)?[dmu]?"), "python"),
    (re.compile(r"curl"), "curl"),
    (re.compile(r"mono(-sgen)?(\d+)?"), "mono"),
    (re.compile(r"dotnet"), "dotnet"),
    (re.compile(r"openssl"), "openssl"),
)
_SHELLS = ("sh", "bash", "dash", "ksh", "zsh")


def kind_of(program: str) -> str | None:
    name = PurePosixPath(program).name
    return next((kind for pattern, kind in _KINDS if pattern.fullmatch(name)), None)


@dataclass(slots=True, kw_only=True)
class Run:
    """A service, a configuration place or a process: the runtime it runs and the pins it sets."""

    label: str  # "service tomcat10.service", "pid 1234", "/etc/environment (login sessions)"
    kind: str | None
    program: str | None  # the runtime binary, a path inside the root
    pins: list[FoundPin] = field(default_factory=list)
    env: dict[str, Assignment] = field(default_factory=dict)
    process: ProcessInfo | None = None
    everywhere: bool = False  # applies to every runtime of the kinds its pins affect
    errors: list[str] = field(default_factory=list)

    def where(self, pin: FoundPin) -> str:
        """How a finding names the place of a pin: file and line and service, or pid and command line."""
        if self.process is not None:
            p = self.process
            extra = ", ".join(
                x for x in (f"unit {p.unit}" if p.unit else "", f"user {p.user}" if p.user else "") if x
            )
            return f"pid {p.pid} `{shlex.join(p.cmdline)[:300]}`" + (f" ({extra})" if extra else "")
        return f"{pin.source} ({self.label})"


def find_program(fs: RootFS, name: str, env: Mapping[str, Assignment] | None = None) -> str | None:
    if name.startswith("/"):
        return name if fs.is_file(name) else None
    given = env.get("PATH") if env else None
    path = given.value.split(":") if given is not None else list(SYSTEM_PATH)
    for folder in path:
        if folder.startswith("/") and fs.is_file(f"{folder.rstrip('/')}/{name}"):
            return f"{folder.rstrip('/')}/{name}"
    return None


def php_cli(fs: RootFS, program: str) -> str | None:
    """php-fpm and php-cgi cannot run `php -r`: the CLI of the same version stands for them."""
    name = PurePosixPath(program).name
    if not re.search(r"fpm|cgi", name):
        return None
    version = re.search(r"(\d+\.\d+)", name)
    return (find_program(fs, f"php{version.group(1)}") if version else None) or find_program(fs, "php")


def _strip_wrappers(words: Sequence[Word]) -> list[Word]:
    """`/usr/bin/env [-i] [VAR=x] prog ...` -> `prog ...`."""
    out = list(words)
    while out and PurePosixPath(out[0].text).name == "env":
        out = out[1:]
        while out and (out[0].text.startswith("-") or re.fullmatch(r"[A-Za-z_]\w*=.*", out[0].text)):
            out = out[1:]
    return out


def java_program(fs: RootFS, env: Mapping[str, Assignment]) -> str | None:
    for variable in ("JAVA_HOME", "JRE_HOME"):
        home = env.get(variable)
        if home and home.value.startswith("/"):
            for candidate in (f"{home.value.rstrip('/')}/bin/java", f"{home.value.rstrip('/')}/jre/bin/java"):
                if fs.is_file(candidate):
                    return candidate
    return find_program(fs, "java", env)


def _default_program(fs: RootFS, kind: str, env: Mapping[str, Assignment]) -> str | None:
    return java_program(fs, env) if kind == "java" else find_program(fs, kind, env)


def _implied_kind(pins: Sequence[FoundPin], env: Mapping[str, Assignment]) -> str | None:
    if any(v in env for v in ("JAVA_HOME", "JRE_HOME", "CATALINA_HOME", "CATALINA_BASE")):
        return "java"
    kinds = {k for p in pins for k in (p.kinds or ()) if p.kinds and len(p.kinds) == 1}
    return kinds.pop() if len(kinds) == 1 else None


def service_runs(fs: RootFS) -> tuple[list[Run], set[str]]:
    """Runs of every systemd service, and the env files the units read."""
    runs: list[Run] = []
    referenced: set[str] = set()
    for service in UnitReader(fs).services():
        referenced.update(
            f for a in service.environment.values() if (f := a.source.rsplit(":", 1)[0]) not in service.files
        )
        run = Run(label=f"service {service.name}", kind=None, program=None, env=dict(service.environment))
        run.errors.extend(service.errors)
        for command in service.exec_start:
            words = _strip_wrappers(command)
            if not words:
                continue
            name = words[0].text
            kind = kind_of(name)
            if PurePosixPath(name).name in _SHELLS or kind is None:
                continue
            program = find_program(fs, name, service.environment)
            if kind == "php":
                program = php_cli(fs, name) or program
            run.kind, run.program = kind, program or name
            run.pins.extend(command_pins(kind, words))
        if run.program is None and service.exec_start:
            run.program = (
                _strip_wrappers(service.exec_start[-1])[0].text
                if _strip_wrappers(service.exec_start[-1])
                else None
            )
        run.pins[:0] = environment_pins(service.environment)
        if run.kind is None:  # a wrapper script: the variables say which runtime it starts
            implied = _implied_kind(run.pins, run.env)
            if implied is not None:
                run.kind, run.program = implied, _default_program(fs, implied, run.env)
        runs.append(run)
    return runs, referenced


def _owner(found: readers.Found, runs: Sequence[Run]) -> Run | None:
    for run in runs:
        values = [a.value for a in run.env.values()]
        for anchor in found.anchors:
            if "/" not in anchor:
                if run.label == f"service {anchor}.service":
                    return run
            elif any(
                v.rstrip("/") == anchor.rstrip("/") or v.startswith(anchor.rstrip("/") + "/") for v in values
            ):
                return run
    return None


def config_runs(fs: RootFS, services: list[Run], referenced: set[str]) -> list[Run]:
    """Service configuration files: merged into the service that reads them, else runs of their own."""
    own: list[Run] = []
    places = [
        *readers.tomcat(fs),
        *readers.wildfly(fs),
        *readers.jvm_options(fs),
        *readers.php_fpm(fs),
        *readers.apache(fs),
        *readers.defaults(fs, referenced),
    ]
    for found in places:
        pins = [*environment_pins(found.env), *found.pins]
        owner = _owner(found, services)
        if owner is not None:
            owner.pins.extend(pins)
            owner.errors.extend(found.errors)
            for name, value in found.env.items():
                owner.env.setdefault(name, value)
            if owner.kind is None or owner.kind not in ("java", "node", "php", "python"):
                owner.kind = found.kind or owner.kind or _implied_kind(pins, found.env)
                if owner.kind:
                    owner.program = found.program or _default_program(fs, owner.kind, owner.env)
            continue
        if not pins:
            continue
        kind = found.kind or _implied_kind(pins, found.env)
        program = found.program or (_default_program(fs, kind, found.env) if kind else None)
        own.append(
            Run(label=found.label, kind=kind, program=program, pins=pins, env=found.env, errors=found.errors)
        )
    return own


def process_runs(proc_views: Sequence[ProcessView] | None = None) -> list[Run]:
    """Every running process of a runtime kind, with its pins (environment values are not kept apart from
    the TLS variables)."""
    out: list[Run] = []
    for view in processes() if proc_views is None else proc_views:
        program = view.exe or (view.argv[0] if view.argv and view.argv[0].startswith("/") else None)
        kind = kind_of(program or view.argv[0])
        if kind is None:
            continue
        if kind == "php" and program is not None:
            program = php_cli(RootFS("/"), program) or program
        source = f"process {view.pid}"
        tls_env = {k: v for k, v in view.environ.items() if k in TLS_VARIABLES}
        env = process_environment(tls_env, source)
        words = [Word(a, source) for a in view.argv]
        info = ProcessInfo(pid=view.pid, unit=view.unit, user=view.user, cmdline=redact_argv(view.argv))
        run = Run(label=f"pid {view.pid}", kind=kind, program=program, env=env, process=info)
        run.pins = [*environment_pins(env), *command_pins(kind, words)]
        if not view.environ_readable:
            run.errors.append(f"pid {view.pid}: environment not readable (not root?)")
        out.append(run)
    return out


def collect_runs(fs: RootFS, *, with_processes: bool) -> list[Run]:
    """Every run with something to say: services and configuration with pins, every runtime process."""
    services, referenced = service_runs(fs)
    runs = [*services, *config_runs(fs, services, referenced)]
    login = readers.etc_environment(fs)
    if login is not None:
        pins = environment_pins(login.env)
        if pins:
            runs.append(
                Run(
                    label=login.label,
                    kind=None,
                    program=None,
                    pins=pins,
                    env=login.env,
                    everywhere=True,
                    errors=login.errors,
                )
            )
    runs = [r for r in runs if r.pins]
    if with_processes:
        runs.extend(process_runs())
    for run in runs:
        if run.kind is None and run.program is not None:
            run.kind = "openssl" if any(p.setting == "OPENSSL_CONF" for p in run.pins) else None
        if run.kind is not None and run.program is None and not run.everywhere and run.process is None:
            run.program = _default_program(fs, run.kind, run.env)
    return runs


def host_program(fs: RootFS, program: str) -> str:
    """The real path of a runtime binary, for matching against inspected runtimes."""
    resolved = fs.resolve(program)
    return (
        str(fs.host_path(resolved)) if resolved is not None else os.path.normpath(str(fs.host_path(program)))
    )
