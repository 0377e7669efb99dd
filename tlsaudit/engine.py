"""The rules engine: load rule tables and a policy (strictly), then turn facts into findings. No I/O
beyond reading the rule files at load time; evaluation is pure."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from tlsaudit import runtime_kinds, versions
from tlsaudit.data import rules_dir
from tlsaudit.errors import RuleFileError
from tlsaudit.facts import (
    FactSpec,
    capture_facts,
    endpoint_facts,
    known_facts,
    runtime_facts,
)
from tlsaudit.models import (
    LEGACY_VERSIONS,
    MODERN_VERSIONS,
    READINESS_ORDER,
    CaptureFacts,
    EndpointFacts,
    FactValue,
    Finding,
    FindingStatus,
    ProtocolStatus,
    Readiness,
    RuntimeFacts,
    Severity,
    SubjectKind,
)

DEFAULT_POLICY = "sage-intacct-2018"
DEFAULT_PARAMS: dict[str, int | float | str] = {
    "cert_expiry_warn_days": 30,
    "cert_max_lifetime_days": 398,  # Mozilla lifespan; the Mozilla policies set their own
    "hsts_min_max_age": 31536000,  # one year
}
APPLIES_TO = ("endpoint", "certificate", "cipher-suites", "runtime", "capture")
RUNTIME_KINDS = runtime_kinds.NAMES  # one descriptor per kind: tlsaudit/runtime_kinds.py
RULE_KEYS = frozenset(
    {
        "id",
        "title",
        "applies_to",
        "status",
        "severity",
        "message",
        "remediation",
        "references",
        "when",
        "runtime_kind",
        "readiness",
        "only_if",
        "on_unknown",
        "corrects",
        "pass_message",
        "opt_in",
    }
)
REQUIRED_RULE_KEYS = ("id", "title", "applies_to", "status", "severity", "message", "when")
POLICY_KEYS = frozenset(
    {"id", "title", "description", "references", "include", "exclude", "params", "overrides"}
    | {"facts", "citations", "alias_of"}
)
OVERRIDE_KEYS = frozenset({"severity", "status", "on_unknown"})
TESTS = (
    "equals",
    "not_equals",
    "in",
    "not_in",
    "lt",
    "le",
    "gt",
    "ge",
    "version",
    "contains",
    "contains_any",
    "matches",
    "exists",
)
RULE_ID = re.compile(r"^[a-z0-9]+(\.[a-z0-9][a-z0-9_-]*)+$")
# `{fact}`, `{fact|fallback}`; `{{` and `}}` are literal braces.
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
SCHEMES = ("java", "openssl", "ibm", "dotnet-release", "plain")

Tri = bool | None


# ------------------------------------------------------------------------------------------ conditions
@dataclass(frozen=True, slots=True, kw_only=True)
class FactTest:
    fact: str
    op: str
    value: Any
    scheme: str = "plain"
    type: str = ""  # the fact's declared type (tlsaudit.facts); a value of another type is unknown


@dataclass(frozen=True, slots=True, kw_only=True)
class AllOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AnyOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Not:
    part: Condition


Condition = FactTest | AllOf | AnyOf | Not


def condition_tests(cond: Condition) -> list[FactTest]:
    if isinstance(cond, FactTest):
        return [cond]
    if isinstance(cond, Not):
        return condition_tests(cond.part)
    return [test for part in cond.parts for test in condition_tests(part)]


def condition_facts(cond: Condition) -> list[str]:
    return [test.fact for test in condition_tests(cond)]


def _param(value: Any, params: Mapping[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        return params[value[1:]]
    return value


# Which tests fit which declared fact type: anything else is a rule-file error at load time.
OPS_FOR_TYPE: dict[str, frozenset[str]] = {
    "str": frozenset({"equals", "not_equals", "in", "not_in", "matches", "exists"}),
    "int": frozenset({"equals", "not_equals", "in", "not_in", "lt", "le", "gt", "ge", "exists"}),
    "bool": frozenset({"equals", "not_equals", "exists"}),
    "list": frozenset({"contains", "contains_any", "matches", "equals", "not_equals", "exists"}),
    "version": frozenset({"version", "equals", "not_equals", "in", "not_in", "matches", "exists"}),
}


def fits_type(value: object, declared: str) -> bool:
    """Whether a collected value has its fact's declared type (None, unknown, always fits)."""
    if value is None or not declared:
        return True
    match declared:
        case "str":
            return isinstance(value, str)
        case "version":  # a version string, or a number some schemes read (a .NET Release DWORD)
            return isinstance(value, str | int) and not isinstance(value, bool)
        case "int":
            return isinstance(value, int | float) and not isinstance(value, bool)
        case "bool":
            return isinstance(value, bool)
        case "list":
            return isinstance(value, tuple | list) and all(isinstance(v, str) for v in value)
    return False


def type_name(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "int"
    if isinstance(value, tuple | list):
        return "list"
    return "str" if isinstance(value, str) else type(value).__name__


def evaluate_condition(cond: Condition, facts: Mapping[str, FactValue], params: Mapping[str, Any]) -> Tri:
    """Three-valued: None when a fact the answer depends on is unknown."""
    if isinstance(cond, AllOf):
        results = [evaluate_condition(p, facts, params) for p in cond.parts]
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True
    if isinstance(cond, AnyOf):
        results = [evaluate_condition(p, facts, params) for p in cond.parts]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False
    if isinstance(cond, Not):
        inner = evaluate_condition(cond.part, facts, params)
        return None if inner is None else not inner
    value = facts.get(cond.fact)
    if not fits_type(value, cond.type):
        return None  # a value of the wrong type is never judged (judge() says why)
    if cond.op == "exists":
        return (value is not None) == bool(cond.value)
    if value is None:
        return None
    expected = _param(cond.value, params)
    match cond.op:
        case "equals":
            return value == (tuple(expected) if isinstance(expected, list) else expected)
        case "not_equals":
            return value != (tuple(expected) if isinstance(expected, list) else expected)
        case "in":
            return value in expected
        case "not_in":
            return value not in expected
        case "lt" | "le" | "gt" | "ge":
            if not isinstance(value, int | float) or isinstance(value, bool):
                return None
            number = float(expected)
            return {"lt": value < number, "le": value <= number, "gt": value > number, "ge": value >= number}[
                cond.op
            ]
        case "version":
            return versions.satisfies(str(value), str(expected), cond.scheme)
        case "contains":
            return isinstance(value, tuple) and expected in value
        case "contains_any":
            return isinstance(value, tuple) and any(item in value for item in expected)
        case "matches":
            items = value if isinstance(value, tuple) else (value,)
            return any(re.search(str(expected), str(item)) is not None for item in items)
    raise AssertionError(f"unhandled test {cond.op}")


# ------------------------------------------------------------------------------------------ rules
@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str
    title: str
    applies_to: str
    status: FindingStatus
    severity: Severity
    message: str
    when: Condition
    remediation: str = ""
    references: tuple[str, ...] = ()
    runtime_kind: str | None = None
    readiness: Readiness | None = None
    only_if: Condition | None = None
    on_unknown: FindingStatus = FindingStatus.ERROR
    corrects: str = ""
    opt_in: bool = False  # selected only by a policy that names its exact id (profile-specific rules)
    extra: bool = False  # loaded from a --rules folder
    pass_message: str = ""
    source: str = ""
    line: int = 0

    @property
    def subject_kind(self) -> SubjectKind:
        if self.applies_to == "runtime":
            return SubjectKind.RUNTIME
        if self.applies_to == "capture":
            return SubjectKind.CAPTURE
        return SubjectKind.ENDPOINT


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    id: str
    title: str
    description: str = ""
    references: tuple[str, ...] = ()
    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    source: str = ""
    # Fact-name globs the policy judges (tests check that they cover every fact its rules name).
    facts: tuple[str, ...] = ()
    # Rule id -> the clause of the standard behind it, shown by `tlsaudit rules show`.
    citations: Mapping[str, str] = field(default_factory=dict)
    alias_of: str = ""  # an alias file: the id of the policy that replaces it
    alias: str = ""  # the id this policy was asked for under, when that id is an alias of this one


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSet:
    policy: Policy
    rules: tuple[Rule, ...]
    params: Mapping[str, Any]
    all_rules: tuple[Rule, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    findings: tuple[Finding, ...]
    readiness: dict[str, Readiness]


def _line_of(text: str, needle: str, start: int = 0) -> int | None:
    lines = text.splitlines()
    for number in range(start, len(lines)):
        if needle in lines[number]:
            return number + 1
    return None


class _RuleFile:
    """One TOML file being loaded, for error messages that name the file, the rule and the line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        try:
            self.text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RuleFileError(self.name, f"cannot read: {exc}") from exc
        try:
            self.data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            found = re.search(r"line (\d+)", str(exc))
            raise RuleFileError(
                self.name, f"invalid TOML: {exc}", line=int(found.group(1)) if found else None
            ) from exc

    def error(self, message: str, *, rule_id: str | None = None, key: str | None = None) -> RuleFileError:
        line = None
        if rule_id:
            line = _line_of(self.text, f'"{rule_id}"')
            if key and line is not None:
                line = _line_of(self.text, key, line - 1) or line
        elif key:
            line = _line_of(self.text, key)
        return RuleFileError(self.name, message, line=line, rule_id=rule_id)


def _parse_condition(
    raw: Any, spec: Mapping[str, FactSpec], rf: _RuleFile, rule_id: str, key: str, params: Mapping[str, Any]
) -> Condition:
    if not isinstance(raw, dict):
        raise rf.error(f"`{key}` must be a table (a condition)", rule_id=rule_id, key=key)
    combos = [k for k in ("all", "any", "not") if k in raw]
    if combos:
        if len(raw) != 1:
            raise rf.error(f"`{combos[0]}` must stand alone in its condition", rule_id=rule_id, key=key)
        inner = raw[combos[0]]
        if combos[0] == "not":
            return Not(part=_parse_condition(inner, spec, rf, rule_id, key, params))
        if not isinstance(inner, list) or not inner:
            raise rf.error(f"`{combos[0]}` needs a non-empty list of conditions", rule_id=rule_id, key=key)
        parts = tuple(_parse_condition(p, spec, rf, rule_id, key, params) for p in inner)
        return AllOf(parts=parts) if combos[0] == "all" else AnyOf(parts=parts)
    fact = raw.get("fact")
    if not isinstance(fact, str):
        raise rf.error("a condition needs `fact` (or all/any/not)", rule_id=rule_id, key=key)
    if fact not in spec:
        raise rf.error(f"unknown fact {fact!r}", rule_id=rule_id, key=fact)
    unknown = set(raw) - {"fact", "scheme", *TESTS}
    if unknown:
        raise rf.error(f"unknown key(s) in condition: {', '.join(sorted(unknown))}", rule_id=rule_id, key=key)
    ops = [k for k in TESTS if k in raw]
    if len(ops) != 1:
        raise rf.error(
            f"a condition on {fact!r} needs exactly one test of {', '.join(TESTS)}", rule_id=rule_id, key=fact
        )
    op = ops[0]
    value = raw[op]
    scheme = raw.get("scheme", spec[fact].scheme)
    if scheme not in SCHEMES:
        raise rf.error(f"unknown version scheme {scheme!r}", rule_id=rule_id, key="scheme")
    if isinstance(value, str) and value.startswith("$") and value[1:] not in params:
        raise rf.error(f"unknown parameter {value!r}", rule_id=rule_id, key=value)
    if op in ("in", "not_in", "contains_any") and not isinstance(value, list):
        raise rf.error(f"`{op}` takes a list", rule_id=rule_id, key=op)
    if op in ("lt", "le", "gt", "ge") and not (
        isinstance(value, int | float) or (isinstance(value, str) and value.startswith("$"))
    ):
        raise rf.error(f"`{op}` takes a number or a $parameter", rule_id=rule_id, key=op)
    if op == "version":
        if not isinstance(value, str):
            raise rf.error("`version` takes a specifier string such as '<1.0.1'", rule_id=rule_id, key=op)
        try:
            versions.satisfies("1.0", value, scheme)
        except ValueError as exc:
            raise rf.error(f"bad version specifier {value!r}: {exc}", rule_id=rule_id, key=op) from exc
    if op == "matches":
        try:
            re.compile(str(value))
        except re.error as exc:
            raise rf.error(f"bad regular expression {value!r}: {exc}", rule_id=rule_id, key=op) from exc
    if op == "exists" and not isinstance(value, bool):
        raise rf.error("`exists` takes true or false", rule_id=rule_id, key=op)
    declared = spec[fact].type
    _check_test_type(fact, declared, op, _param(value, params), rf, rule_id)
    return FactTest(fact=fact, op=op, value=value, scheme=scheme, type=declared)


def _check_test_type(fact: str, declared: str, op: str, value: Any, rf: _RuleFile, rule_id: str) -> None:
    """The test must fit the fact's declared type, and so must the value it compares with."""
    if op not in OPS_FOR_TYPE.get(declared, frozenset()):
        fitting = ", ".join(t for t in TESTS if t in OPS_FOR_TYPE.get(declared, frozenset()))
        raise rf.error(
            f"`{op}` does not fit {fact!r}, a {declared} fact (tests for a {declared}: {fitting})",
            rule_id=rule_id,
            key=fact,
        )
    if op in ("exists", "version", "matches", "lt", "le", "gt", "ge"):
        return
    element = "str" if declared in ("list", "version") else declared
    if op in ("equals", "not_equals") and declared == "list":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    elif op in ("in", "not_in", "contains_any"):
        ok = all(fits_type(v, element) for v in value)
    else:
        ok = not isinstance(value, list) and fits_type(value, element)
    if not ok:
        raise rf.error(
            f"`{op}` compares {fact!r}, a {declared} fact, with {value!r} ({type_name(value)})",
            rule_id=rule_id,
            key=fact,
        )


def _enum(cls: type[Any], value: Any, rf: _RuleFile, rule_id: str, key: str, allowed: Iterable[str]) -> Any:
    allowed = tuple(allowed)
    if value not in allowed:
        raise rf.error(
            f"`{key}` must be one of {', '.join(allowed)}, not {value!r}", rule_id=rule_id, key=key
        )
    return cls(value)


def _str_list(value: Any, rf: _RuleFile, rule_id: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise rf.error(f"`{key}` must be a list of strings", rule_id=rule_id, key=key)
    return tuple(value)


def _check_template(
    template: str, spec: Mapping[str, FactSpec], rf: _RuleFile, rule_id: str, key: str
) -> None:
    """Every `{name}` or `{name|fallback}` must name a fact of the rule's subject (or `subject`), and
    braces must pair up: nothing raw may reach a reader. A title names the rule, not one subject: no
    placeholders."""
    if key == "title" and ("{" in template or "}" in template):
        raise rf.error(
            "`title` is shown once per rule: it may not hold placeholders", rule_id=rule_id, key=key
        )
    for match in PLACEHOLDER.finditer(template):
        if match.group(1) is None:
            continue  # a literal brace
        fact = match.group(1).split("|", 1)[0].strip()
        if fact != "subject" and fact not in spec:
            raise rf.error(f"`{key}` names unknown fact {{{fact}}}", rule_id=rule_id, key=key)
    leftover = PLACEHOLDER.sub("", template)
    if "{" in leftover or "}" in leftover:
        raise rf.error(f"`{key}` has an unpaired or nested brace", rule_id=rule_id, key=key)


def _flag(raw: Mapping[str, Any], key: str, rf: _RuleFile, rule_id: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise rf.error(f"`{key}` must be true or false", rule_id=rule_id, key=key)
    return value


def _parse_rule(raw: Any, rf: _RuleFile, params: Mapping[str, Any]) -> Rule:
    if not isinstance(raw, dict):
        raise rf.error("each [[rule]] must be a table")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
        raise rf.error(
            f"rule id {rule_id!r} must be a namespaced lower-case id like 'endpoint.tls10-accepted'", key="id"
        )
    unknown = set(raw) - RULE_KEYS
    if unknown:
        first = sorted(unknown)[0]
        raise rf.error(f"unknown key(s): {', '.join(sorted(unknown))}", rule_id=rule_id, key=first)
    missing = [k for k in REQUIRED_RULE_KEYS if k not in raw]
    if missing:
        raise rf.error(f"missing key(s): {', '.join(missing)}", rule_id=rule_id)
    for key in ("title", "message", "remediation", "corrects", "pass_message"):
        if key in raw and not isinstance(raw[key], str):
            raise rf.error(f"`{key}` must be a string", rule_id=rule_id, key=key)
    applies_to = raw["applies_to"]
    if applies_to not in APPLIES_TO:
        raise rf.error(
            f"`applies_to` must be one of {', '.join(APPLIES_TO)}", rule_id=rule_id, key="applies_to"
        )
    spec = known_facts(applies_to)
    runtime_kind = raw.get("runtime_kind")
    if runtime_kind is not None and (applies_to != "runtime" or runtime_kind not in RUNTIME_KINDS):
        raise rf.error(
            f"`runtime_kind` must be one of {', '.join(RUNTIME_KINDS)} on a runtime rule",
            rule_id=rule_id,
            key="runtime_kind",
        )
    status = _enum(FindingStatus, raw["status"], rf, rule_id, "status", ("fail", "warn", "error", "pass"))
    severity = _enum(Severity, raw["severity"], rf, rule_id, "severity", (s.value for s in Severity))
    readiness = None
    if "readiness" in raw:
        if applies_to not in ("runtime", "capture"):
            raise rf.error(
                "`readiness` belongs on runtime and capture rules", rule_id=rule_id, key="readiness"
            )
        readiness = _enum(Readiness, raw["readiness"], rf, rule_id, "readiness", (r.value for r in Readiness))
    on_unknown = _enum(
        FindingStatus,
        raw.get("on_unknown", "error"),
        rf,
        rule_id,
        "on_unknown",
        ("error", "skipped", "warn", "pass"),
    )
    when = _parse_condition(raw["when"], spec, rf, rule_id, "when", params)
    only_if = (
        _parse_condition(raw["only_if"], spec, rf, rule_id, "only_if", params) if "only_if" in raw else None
    )
    for key in ("title", "message", "pass_message", "remediation"):
        _check_template(raw.get(key, ""), spec, rf, rule_id, key)
    return Rule(
        id=rule_id,
        title=raw["title"],
        applies_to=applies_to,
        status=status,
        severity=severity,
        message=raw["message"],
        remediation=raw.get("remediation", ""),
        references=_str_list(raw.get("references", []), rf, rule_id, "references"),
        when=when,
        runtime_kind=runtime_kind,
        readiness=readiness,
        only_if=only_if,
        opt_in=_flag(raw, "opt_in", rf, rule_id),
        on_unknown=on_unknown,
        corrects=raw.get("corrects", ""),
        pass_message=raw.get("pass_message", ""),
        source=rf.name,
        line=_line_of(rf.text, f'"{rule_id}"') or 0,
    )


def load_rule_file(path: Path, params: Mapping[str, Any] = DEFAULT_PARAMS) -> list[Rule]:
    rf = _RuleFile(path)
    unknown = set(rf.data) - {"rule"}
    if unknown:
        raise rf.error(
            f"unknown top-level key(s): {', '.join(sorted(unknown))} (expected [[rule]] tables)",
            key=sorted(unknown)[0],
        )
    raw_rules = rf.data.get("rule", [])
    if not isinstance(raw_rules, list):
        raise rf.error("`rule` must be an array of tables: write [[rule]]", key="rule")
    return [_parse_rule(raw, rf, params) for raw in raw_rules]


def load_policy_file(path: Path) -> Policy:
    rf = _RuleFile(path)
    raw = rf.data.get("policy")
    if set(rf.data) != {"policy"} or not isinstance(raw, dict):
        raise rf.error("a policy file holds one [policy] table and nothing else")
    unknown = set(raw) - POLICY_KEYS
    if unknown:
        first = sorted(unknown)[0]
        raise rf.error(f"unknown policy key(s): {', '.join(sorted(unknown))}", key=first)
    for key in ("id", "title"):
        if not isinstance(raw.get(key), str):
            raise rf.error(f"policy `{key}` must be a string", key=key)
    overrides = raw.get("overrides", {})
    if not isinstance(overrides, dict):
        raise rf.error("`overrides` must be a table of rule ids", key="overrides")
    for rule_id, override in overrides.items():
        if not isinstance(override, dict) or set(override) - OVERRIDE_KEYS:
            raise rf.error(
                f"override of {rule_id} may set only {', '.join(sorted(OVERRIDE_KEYS))}", rule_id=rule_id
            )
    if "alias_of" in raw:
        return _alias_policy(raw, rf)
    params = raw.get("params", {})
    if not isinstance(params, dict):
        raise rf.error("`params` must be a table", key="params")
    unknown_params = set(params) - set(DEFAULT_PARAMS)
    if unknown_params:
        raise rf.error(
            f"unknown parameter(s): {', '.join(sorted(unknown_params))}", key=sorted(unknown_params)[0]
        )
    return Policy(
        id=raw["id"],
        title=raw["title"],
        description=str(raw.get("description", "")),
        references=_str_list(raw.get("references", []), rf, raw["id"], "references"),
        include=_str_list(raw.get("include", ["*"]), rf, raw["id"], "include"),
        exclude=_str_list(raw.get("exclude", []), rf, raw["id"], "exclude"),
        params=params,
        overrides=overrides,
        source=rf.name,
        facts=_policy_fact_patterns(raw, rf),
        citations=_policy_citations(raw, rf),
    )


def _alias_policy(raw: Mapping[str, Any], rf: _RuleFile) -> Policy:
    """A retired id kept as an alias: `alias_of` names the policy that replaces it; nothing else but the
    id, title and description may be set (they say why)."""
    extra = set(raw) - {"id", "title", "description", "alias_of"}
    if extra:
        raise rf.error(
            f"an alias policy sets only id, title, description and alias_of, not {', '.join(sorted(extra))}"
        )
    if not isinstance(raw["alias_of"], str):
        raise rf.error("`alias_of` must be a policy id", key="alias_of")
    return Policy(
        id=raw["id"],
        title=raw["title"],
        description=str(raw.get("description", "")),
        source=rf.name,
        alias_of=raw["alias_of"],
    )


def _policy_fact_patterns(raw: Mapping[str, Any], rf: _RuleFile) -> tuple[str, ...]:
    patterns = _str_list(raw.get("facts", []), rf, raw["id"], "facts")
    known = [name for kind in ("endpoint", "runtime", "capture") for name in known_facts(kind)]
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(name, pattern) for name in known):
            raise rf.error(f"`facts` pattern {pattern!r} names no known fact", key=pattern)
    return patterns


def _policy_citations(raw: Mapping[str, Any], rf: _RuleFile) -> dict[str, str]:
    citations = raw.get("citations", {})
    if not isinstance(citations, dict) or not all(isinstance(v, str) for v in citations.values()):
        raise rf.error('`citations` must be a table of rule id = "clause"', key="citations")
    return dict(citations)


def _table_files(root: Path, kinds: Collection[str] | None = None) -> list[Path]:
    """The rule tables under `root`; with `kinds`, only those in the subject kinds' folders (the shipped
    layout: endpoint/, runtime/, capture/)."""
    found = []
    for path in root.rglob("*.toml"):
        parts = path.relative_to(root).parts
        if "policies" in parts or (kinds is not None and parts[0] not in kinds):
            continue
        found.append(path)
    return sorted(found)


def available_policies(extra_dirs: Sequence[Path] = ()) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for root in (rules_dir(), *extra_dirs):
        for path in sorted((root / "policies").glob("*.toml")):
            found[path.stem] = path
    return found


def load_all_rules(
    extra_dirs: Sequence[Path] = (),
    params: Mapping[str, Any] = DEFAULT_PARAMS,
    kinds: Collection[str] | None = None,
) -> list[Rule]:
    """Every rule table, shipped and in `extra_dirs`; `kinds` limits the shipped ones to those subject
    kinds (the folders of the other kinds are not read)."""
    rules: list[Rule] = []
    seen: dict[str, Rule] = {}
    for root in (rules_dir(), *extra_dirs):
        if not root.is_dir():
            raise RuleFileError(str(root), "rules folder not found")
        for path in _table_files(root, kinds if root == rules_dir() else None):
            for rule in load_rule_file(path, params):
                if rule.id in seen:
                    first = seen[rule.id]
                    raise RuleFileError(
                        rule.source,
                        f"duplicate rule id (first defined in {first.source}:{first.line})",
                        line=rule.line,
                        rule_id=rule.id,
                    )
                if root != rules_dir():
                    rule = replace(rule, extra=True)
                seen[rule.id] = rule
                rules.append(rule)
    return rules


def _pattern_selects(pattern: str, rule: Rule, *, exact_opt_in: bool = True) -> bool:
    if rule.opt_in and exact_opt_in:
        return rule.id == pattern
    return fnmatch.fnmatchcase(rule.id, pattern)


def _selects(policy: Policy, rule: Rule) -> bool:
    """A glob selects ordinary rules; an opt-in (profile-specific) rule only by its exact id. A rule from a
    --rules folder is judged on top of any policy, unless the policy excludes it."""
    if any(fnmatch.fnmatchcase(rule.id, p) for p in policy.exclude):
        return False
    if rule.extra:
        return True
    return any(_pattern_selects(p, rule) for p in policy.include)


def resolve_policy(policy: str | Path, extra_dirs: Sequence[Path] = ()) -> Policy:
    text = str(policy)
    known = available_policies(extra_dirs)
    if text.endswith(".toml") or "/" in text or Path(text).is_file():
        path = Path(text)
        if not path.is_file():
            raise RuleFileError(text, "policy file not found")
        return _follow_alias(load_policy_file(path), known)
    if text not in known:
        raise RuleFileError(text, f"unknown policy (known: {', '.join(sorted(known))})")
    return _follow_alias(load_policy_file(known[text]), known)


def policy_citations(rule_id: str, extra_dirs: Sequence[Path] = ()) -> list[str]:
    """`cited by POLICY: clause` for every policy (shipped or in --rules folders) that cites the rule."""
    lines: list[str] = []
    for name, path in sorted(available_policies(extra_dirs).items()):
        policy = load_policy_file(path)
        if rule_id in policy.citations:
            lines.append(f"cited by {name}: {policy.citations[rule_id]}")
    return lines


def _follow_alias(policy: Policy, known: Mapping[str, Path]) -> Policy:
    """An alias (a retired id) is the policy that replaced it, titled so that the report says so."""
    if not policy.alias_of:
        return policy
    if policy.alias_of not in known:
        raise RuleFileError(policy.source, f"alias of an unknown policy {policy.alias_of!r}")
    target = load_policy_file(known[policy.alias_of])
    if target.alias_of:
        raise RuleFileError(policy.source, f"alias of an alias ({policy.alias_of!r})")
    return replace(target, title=f"{target.title} [{policy.id}: {policy.title}]", alias=policy.id)


class _PartialLoad(Exception):
    """A policy check failed against the rules of some subject kinds only: load them all and check again."""


def load_ruleset(
    policy: str | Path = DEFAULT_POLICY,
    extra_dirs: Sequence[Path] = (),
    params: Mapping[str, Any] | None = None,
    kinds: Collection[str] | None = None,
) -> RuleSet:
    """Load every rule table, select by the policy, apply its overrides; strict, raises RuleFileError.

    `kinds`: the subject kinds the run judges (`scan`: endpoint). Only their shipped tables are read,
    which saves parsing the others, and the policy's patterns and rule ids that name another kind
    (`runtime.*`) are left to the runs that load it; with --rules folders, or when any other policy check
    fails on that part, every table is loaded and checked, as without `kinds`."""
    if kinds is not None and not extra_dirs:
        try:
            return _load_ruleset(policy, extra_dirs, params, kinds)
        except _PartialLoad:
            pass
    return _load_ruleset(policy, extra_dirs, params, None)


def _other_kind(pattern: str, kinds: Collection[str]) -> bool:
    """A rule id or pattern that names, literally, a subject kind whose rules were not loaded
    (`runtime.*` while only endpoint rules are)."""
    first, dot, _ = pattern.partition(".")
    return bool(dot) and first in _SUBJECT_KINDS and first not in kinds and not any(c in first for c in "*?[")


_SUBJECT_KINDS = frozenset(kind.value for kind in SubjectKind)


def _load_ruleset(
    policy: str | Path,
    extra_dirs: Sequence[Path],
    params: Mapping[str, Any] | None,
    kinds: Collection[str] | None,
) -> RuleSet:
    pol = resolve_policy(policy, extra_dirs)
    merged = {**DEFAULT_PARAMS, **pol.params, **(params or {})}
    rules = load_all_rules(extra_dirs, merged, kinds)
    ids = {r.id for r in rules}
    policy_text = Path(pol.source).read_text(encoding="utf-8")
    for pattern in (*pol.include, *pol.exclude):
        if kinds is not None and _other_kind(pattern, kinds):
            continue  # checked whenever that kind's rules are loaded
        if not any(_pattern_selects(pattern, r, exact_opt_in=pattern in pol.include) for r in rules):
            if kinds is not None:
                raise _PartialLoad
            hint = ""
            if any(r.opt_in and fnmatch.fnmatchcase(r.id, pattern) for r in rules):
                hint = " (profile-specific rules, marked opt_in, are selected by their exact id only)"
            raise RuleFileError(
                pol.source,
                f"pattern {pattern!r} selects no rule{hint}",
                line=_line_of(policy_text, f'"{pattern}"'),
            )
    for what, rule_ids in (("override", pol.overrides), ("citation", pol.citations)):
        for rule_id in rule_ids:
            if rule_id not in ids:
                if kinds is not None and _other_kind(rule_id, kinds):
                    continue
                if kinds is not None:
                    raise _PartialLoad
                raise RuleFileError(pol.source, f"{what} of an unknown rule", rule_id=rule_id)
    selected: list[Rule] = []
    for rule in rules:
        if not _selects(pol, rule):
            continue
        override = pol.overrides.get(rule.id, {})
        if override:
            changes: dict[str, Any] = {}
            if "severity" in override:
                changes["severity"] = Severity(override["severity"])
            if "status" in override:
                changes["status"] = FindingStatus(override["status"])
            if "on_unknown" in override:
                changes["on_unknown"] = FindingStatus(override["on_unknown"])
            rule = replace(rule, **changes)
        selected.append(rule)
    added = [r for r in selected if r.extra]
    if added:
        folders = ", ".join(str(d) for d in extra_dirs)
        pol = replace(pol, title=f"{pol.title} + {len(added)} rule(s) from {folders}")
    return RuleSet(policy=pol, rules=tuple(selected), params=merged, all_rules=tuple(rules))


# ------------------------------------------------------------------------------------------ evaluation
def render_template(template: str, subject: str, facts: Mapping[str, FactValue]) -> str:
    """Fill `{fact}` (an unknown fact reads "unknown") and `{fact|fallback}` (the fallback text)."""

    def sub(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)[0]  # `{{` or `}}`
        name, _, fallback = match.group(1).partition("|")
        name = name.strip()
        if name == "subject":
            return subject
        value = facts.get(name)
        if value is None or value == ():
            return fallback.strip() if fallback else ("unknown" if value is None else "none")
        if isinstance(value, tuple):
            return ", ".join(str(v) for v in value) or "none"
        return str(value)

    return PLACEHOLDER.sub(sub, template)


def _finding(
    rule: Rule,
    status: FindingStatus,
    subject: str,
    message: str,
    facts: Mapping[str, FactValue] | None = None,
    *,
    matched: bool = False,
) -> Finding:
    """`matched`: the rule's condition held (its fix and readiness apply even to an `error` rule)."""
    acted_on = status in (FindingStatus.FAIL, FindingStatus.WARN) or (
        matched and status == FindingStatus.ERROR
    )
    return Finding(
        rule_id=rule.id,
        status=status,
        severity=rule.severity,
        subject=subject,
        subject_kind=rule.subject_kind,
        title=rule.title,
        message=message,
        remediation=render_template(rule.remediation, subject, facts or {}) if acted_on else "",
        references=rule.references,
        readiness=rule.readiness if acted_on else None,
    )


def judge(
    rule: Rule,
    subject: str,
    facts: Mapping[str, FactValue],
    params: Mapping[str, Any],
    reasons: Mapping[str, str] | None = None,
) -> Finding:
    """One rule against one subject's facts."""
    if rule.only_if is not None and evaluate_condition(rule.only_if, facts, params) is not True:
        return _finding(rule, FindingStatus.SKIPPED, subject, f"{rule.title}: not applicable")
    outcome = evaluate_condition(rule.when, facts, params)
    if outcome is True:
        message = render_template(rule.message, subject, facts)
        return _finding(rule, rule.status, subject, message, facts, matched=True)
    if outcome is False:
        text = rule.pass_message or f"{rule.title}: no"
        return _finding(rule, FindingStatus.PASS, subject, render_template(text, subject, facts), facts)
    details = []
    for test in {t.fact: t for t in condition_tests(rule.when)}.values():
        value = facts.get(test.fact)
        if value is None:
            why = (reasons or {}).get(test.fact)
            details.append(f"{test.fact} unknown" + (f" ({why})" if why else ""))
        elif not fits_type(value, test.type):
            details.append(
                f"{test.fact} is {value!r} ({type_name(value)}), but the fact is declared {test.type}"
            )
    return _finding(
        rule, rule.on_unknown, subject, f"{rule.title}: could not be assessed: {'; '.join(details)}", facts
    )


class _JudgeMemo:
    """`judge` for many endpoints of one evaluation: a rule's finding depends only on the facts its
    conditions and templates name (and why those are unknown), so endpoints that agree on them share
    one judgement, made with a stand-in subject that is then replaced by each endpoint's own."""

    _SUBJECT = "\x00subject\x00"  # never in a fact value that is memoised (see `_key`)

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params
        self._inputs: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self._seen: dict[tuple[Any, ...], Finding] = {}
        self._unions: dict[int, tuple[Sequence[Rule], tuple[str, ...], tuple[str, ...]]] = {}
        # endpoint_key -> the findings of every rule, judged with the stand-in subject
        self.endpoints: dict[Any, list[Finding]] = {}

    def _rule_inputs(self, rule: Rule) -> tuple[tuple[str, ...], tuple[str, ...]]:
        found = self._inputs.get(rule.id)
        if found is None:
            tested = [*condition_facts(rule.when), *(condition_facts(rule.only_if) if rule.only_if else [])]
            named = [
                match.group(1).partition("|")[0].strip()
                for template in (rule.message, rule.pass_message, rule.remediation)
                for match in PLACEHOLDER.finditer(template)
                if match.group(1) is not None
            ]
            found = self._inputs[rule.id] = (
                tuple(dict.fromkeys([*tested, *named])),
                tuple(dict.fromkeys(tested)),
            )
        return found

    def _key(self, rule: Rule, facts: Mapping[str, FactValue], reasons: Mapping[str, str]) -> Any:
        names, tested = self._rule_inputs(rule)
        key = _fact_values([rule.id], names, facts)
        if key is None:
            return None
        key.extend(reasons.get(name) for name in tested)
        return tuple(key)

    def endpoint_key(
        self,
        rules: Sequence[Rule],
        facts: Mapping[str, FactValue],
        reasons: Mapping[str, str],
        extra: tuple[Any, ...],
    ) -> Any:
        """What every finding of `rules` about one endpoint depends on: the facts and reasons any of the
        rules reads (a superset of each rule's `_key`), plus `extra` (what decides a rule is not assessed).
        None when a fact value cannot be memoised."""
        union = self._unions.get(id(rules))
        if union is None or union[0] is not rules:
            names: dict[str, None] = {}
            tested: dict[str, None] = {}
            for rule in rules:
                rule_names, rule_tested = self._rule_inputs(rule)
                names.update(dict.fromkeys(rule_names))
                tested.update(dict.fromkeys(rule_tested))
            union = self._unions[id(rules)] = (rules, tuple(names), tuple(tested))
        key = _fact_values([extra], union[1], facts)
        if key is None:
            return None
        key.extend(reasons.get(name) for name in union[2])
        return tuple(key)

    def restamp(self, held: Finding, subject: str) -> Finding:
        """A finding judged with the stand-in subject, about `subject`."""
        return Finding(
            rule_id=held.rule_id,
            status=held.status,
            severity=held.severity,
            subject=subject,
            subject_kind=held.subject_kind,
            title=held.title,
            message=held.message.replace(self._SUBJECT, subject),
            remediation=held.remediation.replace(self._SUBJECT, subject),
            references=held.references,
            readiness=held.readiness,
        )

    def judge(
        self, rule: Rule, subject: str, facts: Mapping[str, FactValue], reasons: Mapping[str, str]
    ) -> Finding:
        key = self._key(rule, facts, reasons)
        if key is None:
            return judge(rule, subject, facts, self.params, reasons)
        held = self._seen.get(key)
        if held is None:
            held = self._seen[key] = judge(rule, self._SUBJECT, facts, self.params, reasons)
        return self.restamp(held, subject)


def _fact_values(key: list[Any], names: Sequence[str], facts: Mapping[str, FactValue]) -> list[Any] | None:
    """`key` extended by the value of each fact in `names`, in a form that tells apart values that render
    differently; None when a string value holds the memo's stand-in marker."""
    for name in names:
        value = facts.get(name)
        if value is None or type(value) is str:
            if value is not None and "\x00" in value:
                return None
            key.append(value)
        elif isinstance(value, tuple):
            if any(isinstance(v, str) and "\x00" in v for v in value):
                return None
            key.append((tuple, repr(value)))
        else:  # True and 1, 1 and 1.0 render differently
            key.append((type(value), value))
    return key


def _endpoint_reasons(ep: EndpointFacts) -> dict[str, str]:
    reasons = {
        f"protocol.{v.value}": r.reason for v, r in ep.protocols.items() if r.status == ProtocolStatus.UNKNOWN
    }
    for derived, group in (("modern_accepted", MODERN_VERSIONS), ("legacy_accepted", LEGACY_VERSIONS)):
        why = sorted({reasons[f"protocol.{v.value}"] for v in group if f"protocol.{v.value}" in reasons})
        if why:
            reasons[derived] = "; ".join(why)
    if ep.errors:
        reasons.setdefault("reachable", "; ".join(ep.errors))
    return reasons


class Unreachable(StrEnum):
    """What an endpoint that could not be reached counts as (`--unreachable`)."""

    ERROR = "error"  # not assessed: exit code 3
    FAIL = "fail"  # a failure of its rule's severity
    IGNORE = "ignore"  # recorded as skipped; changes neither the verdict nor the exit code


UNREACHABLE_RULE = "endpoint.unreachable"
NOT_INSPECTED_RULE = "runtime.not-assessed"
# Why a suite or certificate rule did not run, when the collector was not asked to collect its facts.
NOT_COLLECTED = {
    "certificate": "not assessed: the certificate was not collected (--no-certificates)",
    "cipher-suites": "not assessed: cipher suites were not enumerated (--no-ciphers)",
}
NOT_RECEIVED = {
    "certificate": "not assessed: no certificate was received",
    "cipher-suites": "not assessed: the cipher-suite enumeration gave no result",
}


def _gate_rule(ruleset: RuleSet, rule_id: str) -> Rule | None:
    """A rule that replaces all others for a subject that could not be assessed; taken from every loaded
    rule when the policy did not select it (the subject is still not assessed)."""
    for rule in (*ruleset.rules, *ruleset.all_rules):
        if rule.id == rule_id:
            return rule
    return None


def _unreachable_finding(
    rule: Rule, ep: EndpointFacts, facts: Mapping[str, FactValue], mode: Unreachable
) -> Finding:
    status = {
        Unreachable.ERROR: FindingStatus.ERROR,
        Unreachable.FAIL: FindingStatus.FAIL,
        Unreachable.IGNORE: FindingStatus.SKIPPED,
    }[mode]
    message = render_template(rule.message, ep.subject, facts)
    if mode == Unreachable.IGNORE:
        message += " Ignored (--unreachable ignore)."
    return _finding(rule, status, ep.subject, message, facts, matched=mode != Unreachable.IGNORE)


def _endpoint_findings(
    ruleset: RuleSet,
    rules: Sequence[Rule],
    ep: EndpointFacts,
    unreachable: Unreachable,
    collected: frozenset[str],
    memo: _JudgeMemo | None = None,
) -> list[Finding]:
    facts = endpoint_facts(ep)
    gate = _gate_rule(ruleset, UNREACHABLE_RULE)
    if facts.get("reachable") is False and gate is not None:
        return [_unreachable_finding(gate, ep, facts, unreachable)]
    reasons = _endpoint_reasons(ep)
    if memo is not None:
        # Endpoints that agree on everything the rules read (most of a fleet) share their findings.
        extra = (
            ep.certificate is None,
            bool(ep.cipher_suites),
            bool(facts.get("accepted_versions")),
            ep.certificate_error,
            collected,
        )
        key = memo.endpoint_key(rules, facts, reasons, extra)
        if key is not None:
            held = memo.endpoints.get(key)
            if held is None:
                held = memo.endpoints[key] = _rule_findings(
                    ruleset, rules, ep, facts, reasons, collected, memo._SUBJECT, memo
                )
            subject = ep.subject
            return [memo.restamp(f, subject) for f in held]
    return _rule_findings(ruleset, rules, ep, facts, reasons, collected, ep.subject, memo)


def _rule_findings(
    ruleset: RuleSet,
    rules: Sequence[Rule],
    ep: EndpointFacts,
    facts: Mapping[str, FactValue],
    reasons: Mapping[str, str],
    collected: frozenset[str],
    subject: str,
    memo: _JudgeMemo | None,
) -> list[Finding]:
    """Every rule about a reachable endpoint, said about `subject`."""
    out: list[Finding] = []
    for rule in rules:
        if rule.id == UNREACHABLE_RULE:
            continue  # only ever said about an endpoint that could not be reached
        missing = (rule.applies_to == "certificate" and ep.certificate is None) or (
            rule.applies_to == "cipher-suites" and not ep.cipher_suites
        )
        if missing and not facts.get("accepted_versions"):
            out.append(
                _finding(rule, FindingStatus.SKIPPED, subject, f"{rule.title}: no protocol version accepted")
            )
        elif missing:
            why = (
                NOT_COLLECTED[rule.applies_to]
                if rule.applies_to not in collected
                else NOT_RECEIVED[rule.applies_to]
            )
            if rule.applies_to == "certificate" and ep.certificate_error:
                why = f"could not be assessed: certificate not collected ({ep.certificate_error})"
            out.append(_finding(rule, FindingStatus.ERROR, subject, f"{rule.title}: {why}"))
        else:
            out.append(
                memo.judge(rule, subject, facts, reasons)
                if memo is not None
                else judge(rule, subject, facts, params=ruleset.params, reasons=reasons)
            )
    return out


def _runtime_findings(ruleset: RuleSet, rules: Sequence[Rule], rt: RuntimeFacts) -> list[Finding]:
    facts = runtime_facts(rt)
    gate = _gate_rule(ruleset, NOT_INSPECTED_RULE)
    if facts.get("details.inspect_error") is not None and gate is not None:
        return [judge(gate, rt.subject, facts, ruleset.params)]  # the other rules have nothing to judge
    return [
        judge(rule, rt.subject, facts, ruleset.params)
        for rule in rules
        if rule.runtime_kind in (None, rt.kind)
    ]


def evaluate(
    ruleset: RuleSet,
    *,
    endpoints: Sequence[EndpointFacts] = (),
    runtimes: Sequence[RuntimeFacts] = (),
    captures: Sequence[CaptureFacts] = (),
    unreachable: Unreachable = Unreachable.ERROR,
    collected: Iterable[str] = ("certificate", "cipher-suites"),
) -> Evaluation:
    """Findings for every subject. `collected`: which endpoint depths were asked for ("certificate",
    "cipher-suites"); a rule over a depth that was not collected is `error` (not assessed), never skipped."""
    findings: list[Finding] = []
    params = ruleset.params
    depths = frozenset(collected)
    endpoint_rules = [r for r in ruleset.rules if r.subject_kind == SubjectKind.ENDPOINT]
    memo = _JudgeMemo(params)
    for ep in endpoints:
        findings.extend(_endpoint_findings(ruleset, endpoint_rules, ep, unreachable, depths, memo))
    readiness: dict[str, Readiness] = {}
    runtime_rules = [r for r in ruleset.rules if r.subject_kind == SubjectKind.RUNTIME]
    for rt in runtimes:
        mine = _runtime_findings(ruleset, runtime_rules, rt)
        findings.extend(mine)
        readiness[rt.subject] = runtime_readiness(rt, mine)
    capture_rules = [r for r in ruleset.rules if r.subject_kind == SubjectKind.CAPTURE]
    for cap in captures:
        facts = capture_facts(cap, readiness.get(cap.runtime) if cap.runtime else None)
        findings.extend(judge(rule, cap.subject, facts, params) for rule in capture_rules)
    return Evaluation(findings=tuple(findings), readiness=readiness)


def runtime_readiness(rt: RuntimeFacts, findings: Sequence[Finding]) -> Readiness:
    """The worst readiness any matching rule implies; unknown when nothing could be judged."""
    implied = [f.readiness for f in findings if f.readiness is not None]
    if implied:
        return max(implied, key=lambda r: READINESS_ORDER[r])
    if rt.version is None or any(f.status == FindingStatus.ERROR for f in findings):
        return Readiness.UNKNOWN
    return Readiness.READY


# ------------------------------------------------------------------------------------------ checking
def check_file(path: Path, extra_dirs: Sequence[Path] = ()) -> str:
    """Validate one rule table or policy file, told apart by its structure (a [policy] table or [[rule]]
    tables); a policy is loaded against the shipped rules plus `extra_dirs`. Returns a one-line summary."""
    rf = _RuleFile(path)
    if "policy" in rf.data:
        ruleset = load_ruleset(path, extra_dirs)
        return f"{path}: policy {ruleset.policy.id!r} OK, selects {len(ruleset.rules)} rule(s)"
    if "rule" in rf.data:
        return f"{path}: {len(load_rule_file(path))} rule(s) OK"
    raise rf.error("neither a rule table ([[rule]] tables) nor a policy (one [policy] table)")


def check_folder(root: Path) -> list[str]:
    """Validate a --rules folder: every rule table in it (ids unique with the shipped ones) and every
    policy in its policies/ subfolder."""
    rules = load_all_rules([root])
    lines = [f"{root}: {sum(1 for r in rules if r.extra)} rule(s) OK"]
    for _name, path in sorted(available_policies([root]).items()):
        if path.parent.parent == root:
            lines.append(check_file(path, [root]))
    return lines
