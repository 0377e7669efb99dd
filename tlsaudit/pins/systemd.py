"""systemd service units as systemd reads them (systemd.syntax, systemd.unit, systemd.exec, systemd.service):
unit folders in precedence order, drop-ins, `Environment=`, `EnvironmentFile=` (a `-` prefix: the file may
be missing), `ExecStart=` with its prefixes, quoting and `$VAR` / `${VAR}` substitution."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from tlsaudit.pins.envfile import Assignment, QuoteError, Word, logical_lines, parse, split_words
from tlsaudit.pins.rootfs import RootFS

UNIT_DIRS: tuple[str, ...] = (
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/run/systemd/generator.early",
    "/etc/systemd/system",
    "/etc/systemd/system.attached",
    "/run/systemd/system",
    "/run/systemd/system.attached",
    "/run/systemd/generator",
    "/usr/local/lib/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/run/systemd/generator.late",
)
_EXEC_PREFIX = re.compile(r"^[@\-:+!]*")
_SECTION = re.compile(r"^\[([^\]]+)\]\s*$")


@dataclass(frozen=True, slots=True)
class Directive:
    section: str
    key: str
    value: str
    source: str  # FILE:LINE


@dataclass(slots=True)
class UnitFile:
    directives: list[Directive] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_unit(text: str, path: str) -> UnitFile:
    """Directives of one unit file or drop-in, in order; malformed lines as `PATH:LINE: why`."""
    unit = UnitFile()
    section = ""
    for number, line in logical_lines(text, comments="#;"):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        source = f"{path}:{number}"
        header = _SECTION.match(stripped)
        if header:
            section = header.group(1).strip()
            continue
        key, sep, value = stripped.partition("=")
        if not sep or not key.strip() or not re.fullmatch(r"[A-Za-z0-9_\-.]+", key.strip()):
            unit.errors.append(f"{source}: not a Key=Value line: {stripped[:80]}")
            continue
        if not section:
            unit.errors.append(f"{source}: assignment outside of a section")
            continue
        unit.directives.append(Directive(section, key.strip(), value.strip(), source))
    return unit


@dataclass(slots=True)
class Service:
    """One service unit with its drop-ins applied."""

    name: str
    files: list[str] = field(default_factory=list)
    environment: dict[str, Assignment] = field(default_factory=dict)
    exec_start: list[list[Word]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def environment_assignments(value: str, source: str) -> tuple[list[Assignment], list[str]]:
    """`Environment="A=b c" D=e`: the assignments of one directive."""
    try:
        words = split_words(value)
    except QuoteError as exc:
        return [], [f"{source}: Environment=: {exc}"]
    out: list[Assignment] = []
    errors: list[str] = []
    for word in words:
        name, sep, val = word.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            errors.append(f"{source}: Environment=: not a VARIABLE=VALUE assignment: {word[:80]}")
            continue
        out.append(
            Assignment(name=name, value=val, words=tuple(Word(w, source) for w in val.split()), source=source)
        )
    return out, errors


def exec_words(value: str, source: str, env: dict[str, Assignment]) -> tuple[list[Word], str | None]:
    """ExecStart= words after the prefixes, `${VAR}` as one word and `$VAR` split (systemd.service,
    "Command lines"); `%%` unescaped. Words that came from a variable keep that variable's source."""
    body = _EXEC_PREFIX.sub("", value.strip(), count=1)
    try:
        raw = split_words(body)
    except QuoteError as exc:
        return [], f"{source}: ExecStart=: {exc}"
    out: list[Word] = []
    for word in raw:
        whole = re.fullmatch(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if whole:
            ref = env.get(whole.group(1) or whole.group(2) or "")
            if ref is None:
                continue
            if whole.group(1):
                out.append(Word(ref.value, ref.source))
            else:
                out.extend(ref.words)
            continue
        text = re.sub(
            r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
            lambda m: env[m.group(1)].value if m.group(1) in env else "",
            word,
        ).replace("%%", "%")
        out.append(Word(text, source))
    return out, None


class UnitReader:
    """Finds and reads service units under a root."""

    def __init__(self, fs: RootFS) -> None:
        self.fs = fs

    def unit_paths(self) -> dict[str, PurePosixPath]:
        """The file that defines each `*.service` (the first folder in precedence order wins)."""
        found: dict[str, PurePosixPath] = {}
        for folder in UNIT_DIRS:
            for name in self.fs.listdir(folder):
                if name.endswith(".service") and name not in found:
                    found[name] = PurePosixPath(folder) / name
        return found

    def dropins(self, name: str) -> list[PurePosixPath]:
        """`NAME.d/*.conf` (and `service.d/*.conf`) over every folder; a file name in a folder of higher
        precedence hides the same name below it; applied in file-name order."""
        chosen: dict[str, PurePosixPath] = {}
        for folder in UNIT_DIRS:
            for dname in ("service.d", f"{name}.d"):
                base = PurePosixPath(folder) / dname
                for conf in self.fs.listdir(base):
                    if conf.endswith(".conf") and conf not in chosen:
                        chosen[conf] = base / conf
        return [chosen[k] for k in sorted(chosen)]

    def services(self) -> list[Service]:
        out: list[Service] = []
        for name, path in sorted(self.unit_paths().items()):
            service = self.read(name, path)
            if service is not None:
                out.append(service)
        return out

    def read(self, name: str, path: PurePosixPath) -> Service | None:
        if self.fs.is_devnull(path):
            return None  # masked
        service = Service(name=name)
        env_files: list[tuple[str, str]] = []
        for file in [path, *self.dropins(name)]:
            text = self.fs.read_text(file)
            if text is None:
                continue
            shown = self.fs.show(file)
            service.files.append(shown)
            unit = parse_unit(text, shown)
            service.errors.extend(unit.errors)
            for d in unit.directives:
                if d.section != "Service":
                    continue
                if d.key == "Environment":
                    if not d.value:
                        service.environment.clear()
                        continue
                    assignments, errors = environment_assignments(d.value, d.source)
                    service.errors.extend(errors)
                    service.environment.update({a.name: a for a in assignments})
                elif d.key == "EnvironmentFile":
                    if not d.value:
                        env_files.clear()
                    else:
                        env_files.append((d.value, d.source))
                elif d.key == "ExecStart":
                    if not d.value:
                        service.exec_start.clear()
                    else:
                        service.exec_start.append([Word(d.value, d.source)])  # split once env is known
        # EnvironmentFile= values override Environment= (systemd.exec)
        for spec, source in env_files:
            optional = spec.startswith("-")
            wanted = spec[1:] if optional else spec
            matches = self.fs.glob(wanted) if any(c in wanted for c in "*?[") else [PurePosixPath(wanted)]
            for match in matches:
                text = self.fs.read_text(match)
                if text is None:
                    if not optional:
                        service.errors.append(f"{source}: EnvironmentFile={wanted} cannot be read")
                    continue
                parsed = parse(text, self.fs.show(match), "systemd")
                service.errors.extend(parsed.errors)
                service.environment.update(parsed.env())
        commands: list[list[Word]] = []
        for (raw,) in service.exec_start:
            words, error = exec_words(raw.text, raw.source, service.environment)
            if error:
                service.errors.append(error)
            elif words:
                commands.append(words)
        service.exec_start = commands
        return service
