"""What every output format shares: the render options, the format record, and text hygiene helpers."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from tlsaudit.models import ALL_VERSIONS
from tlsaudit.report_types import Report

VERSION_NAMES: tuple[str, ...] = tuple(v.value for v in ALL_VERSIONS)
LEGACY_NAMES: frozenset[str] = frozenset(("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1"))
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
PROBLEM_STATUSES: tuple[str, ...] = ("fail", "error", "warn")


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderOptions:
    """Presentation choices; they never change a verdict. Unset values fall back to the report's `scope`."""

    title: str | None = None
    client: str | None = None
    assessor: str | None = None
    logo: Path | None = None
    color: bool = False
    # Which findings make the exit code 1 (the CLI passes its --fail-on test): JUnit marks exactly these
    # as failures. By default a `fail` finding does.
    fails: Callable[[Mapping[str, Any]], bool] | None = None
    # Targets files the endpoints were read from: SARIF points an endpoint's result at its line.
    targets_files: tuple[str, ...] = ()


def finding_fails(finding: Mapping[str, Any], options: RenderOptions) -> bool:
    """Whether this finding is one that makes the run's exit code 1 under the options' --fail-on."""
    if options.fails is not None:
        return options.fails(finding)
    return bool(finding["status"] == "fail")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportFormat:
    name: str
    extensions: tuple[str, ...]
    description: str
    render: Callable[[Report, RenderOptions], str]
    # The same text in pieces, for formats whose output can be large: written piece by piece.
    render_chunks: Callable[[Report, RenderOptions], list[str]] | None = None


def _scope_text(report: Report, key: str) -> str:
    value = report.get("scope", {}).get(key, "")
    return value if isinstance(value, str) else ""


def display_title(report: Report, options: RenderOptions) -> str:
    return options.title or _scope_text(report, "title") or "TLS readiness assessment"


def display_client(report: Report, options: RenderOptions) -> str:
    return options.client or _scope_text(report, "client")


def display_assessor(report: Report, options: RenderOptions) -> str:
    return options.assessor or _scope_text(report, "assessor")


# C0 and C1 controls except tab and newline: they could drive a terminal, or make XML invalid.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_AND_NEWLINES = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """Untrusted text with control characters (escape sequences, NUL, ...) replaced; newlines kept."""
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", text)


def one_line(text: str) -> str:
    """Untrusted text on a single line: controls replaced and every line break or tab turned into a space."""
    return _CONTROL_AND_NEWLINES.sub(
        lambda m: " " if m.group() in "\t\n\r" else "\N{REPLACEMENT CHARACTER}", text
    )


INTERRUPTED_NOTE = (
    "The run was interrupted before every subject finished; unfinished ones are reported as unknown."
)


def several_sources(report: Report) -> bool:
    """True when the report merges data from more than one machine, so subjects need their machine named."""
    return len(report.get("scope", {}).get("hosts", [])) > 1


def subject_label(item: Mapping[str, Any], with_source: bool) -> str:
    """A subject's id (a subject or a finding), followed by the machine it was seen from when asked."""
    name: str = item["id"] if "id" in item else item["subject"]
    source = item.get("source_host")
    return f"{name} [from {source}]" if with_source and source else name


def tls_library_label(runtime: Mapping[str, Any]) -> str:
    """The TLS stack a runtime's clients use, as the inspectors reported it ('' when unknown)."""
    details = runtime.get("details", {})
    if runtime.get("kind") == "java":
        vendor = details.get("vendor")
        return f"JSSE ({vendor})" if vendor else "JSSE"
    library = details.get("tls_library") or details.get("curl_ssl_backend")
    version = details.get("tls_library_version") or details.get("curl_ssl_version")
    if not library:
        return ""
    return f"{library} {version}" if version and str(version) not in str(library) else str(library)


def pq_hybrid_label(runtime: Mapping[str, Any]) -> str:
    """`yes` / `no` / `-`: whether the runtime's TLS stack offers a hybrid post-quantum group by default."""
    value = runtime.get("details", {}).get("pq_hybrid_default")
    return "-" if value is None else ("yes" if value else "no")


def local_service_words(service: Mapping[str, Any]) -> str:
    """What a local service looked at by `audit` turned out to be, in words."""
    status = service["status"]
    if status == "tls":
        return "TLS"
    if status == "not-tls":
        spoke = service.get("spoke")
        return f"not TLS (spoke {spoke})" if spoke else "not TLS"
    return f"unknown: {service.get('reason') or 'no answer'}"


LOCAL_SERVICE_RULE = "audit.local-service"
LOCAL_SERVICE_KIND = "local-service"
# What each status of a local service means for the run, in the words of the finding statuses the
# machine-readable formats use: a TLS service is judged as an endpoint (its own findings), another
# protocol is not judged (skipped), an unknown one was not assessed and makes the run exit 3.
LOCAL_SERVICE_OUTCOME = {"tls": "pass", "not-tls": "skipped", "unknown": "error"}


def local_service_message(service: Mapping[str, Any]) -> str:
    """One line for a local service in the machine-readable formats (CSV, JUnit, SARIF)."""
    process = f" ({service['process']})" if service.get("process") else ""
    consequence = {
        "tls": "judged as a TLS endpoint (see its findings)",
        "not-tls": "not judged as a TLS endpoint",
        "unknown": "not assessed: the run exits 3",
    }[service["status"]]
    return f"{service['address']}{process}: {local_service_words(service)}; {consequence}"


STATUS_WORDS = ("fail", "error", "warn", "pass", "skipped")


def plain_verdict_line(report: Mapping[str, Any]) -> str:
    """`Verdict: FAIL  (3 fail, 0 error, ...)` without colour (and without loading the terminal library).

    Every caller holds a normalized report, whose summary counts are `tally`'s: they are read from there
    rather than counted again over every finding."""
    counts = report.get("summary", {}).get("counts")
    if not isinstance(counts, Mapping) or not all(k in counts for k in STATUS_WORDS):
        from tlsaudit.counts import tally

        counts = tally(cast(Any, report)).checks
    verdict = str(report["summary"]["verdict"])
    detail = ", ".join(f"{counts[k]} {k}" for k in STATUS_WORDS)
    return f"Verdict: {verdict.upper()}  ({detail})"
