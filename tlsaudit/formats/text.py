"""The terminal view, drawn with rich: an endpoint x version table, a runtime table, the local services an
audit looked at, then one section per endpoint and runtime with its certificate, its cipher suites and its
findings (with their fixes), and the verdict line.

Lines never exceed the console width (COLUMNS, else the terminal's, else 80). Colour only when asked
(`RenderOptions.color`); without it there is no escape sequence at all. Every colour is doubled by a word,
and untrusted text has its control characters replaced so that it cannot drive the terminal.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from tlsaudit.counts import tally
from tlsaudit.formats.base import (
    INTERRUPTED_NOTE,
    LEGACY_NAMES,
    VERSION_NAMES,
    RenderOptions,
    display_title,
    local_service_words,
    one_line,
    plain_verdict_line,
    pq_hybrid_label,
    several_sources,
    subject_label,
    tls_library_label,
)
from tlsaudit.formats.fleet_rows import fleet_headline, host_rows, rule_count_lines
from tlsaudit.formats.key_exchange_rows import key_exchange_rows
from tlsaudit.formats.session_facts import session_row
from tlsaudit.report_types import Report

VERDICT_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "error": "red", "skipped": "dim"}
READINESS_STYLE = {"ready": "green", "ready-with-config": "yellow", "needs-upgrade": "red", "unknown": "red"}
STATUS_STYLE = {"fail": "bold red", "error": "red", "warn": "yellow", "pass": "green", "skipped": "dim"}
SERVICE_STYLE = {"tls": "green", "not-tls": "dim", "unknown": "yellow"}
MIN_WIDTH = 40
# Column headings underlined with ASCII dashes, no other lines: plain text in any terminal or file.
ASCII_HEAD = box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)


def protocol_style(version: str, status: str) -> str:
    if status == "unknown":
        return "yellow"
    if status == "accepted":
        return "red" if version in LEGACY_NAMES else "green"
    return "green" if version in LEGACY_NAMES else "dim"


def make_console(color: bool, *, file: io.StringIO | None = None, stderr: bool = False) -> Console:
    """A console whose width is COLUMNS, else the terminal's, else 80; no escape codes unless `color`."""
    console = Console(
        file=file,
        stderr=stderr,
        force_terminal=color or None if file is None else color,
        color_system="standard" if color else None,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
    )
    console.width = max(console.width, MIN_WIDTH)
    return console


def render(report: Report, options: RenderOptions) -> str:
    buffer = io.StringIO()
    console = make_console(options.color, file=buffer)
    for part in _parts(report, options):
        console.print(part)
    # rich pads every line to the full width: drop the padding (also inside colour codes), keep the breaks.
    return "\n".join(_rstrip(line) for line in buffer.getvalue().split("\n"))


_TRAILING = re.compile(r"(?: |\x1b\[[0-9;]*m)+$")
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def _rstrip(line: str) -> str:
    match = _TRAILING.search(line)
    if match is None:
        return line
    return line[: match.start()] + "".join(_SGR.findall(match.group()))


def _t(text: object, style: str | None = None) -> Text:
    """Untrusted text on one line, never interpreted as markup."""
    return Text(one_line(str(text)), style=style or "")


def _parts(report: Report, options: RenderOptions) -> Iterable[RenderableType]:
    with_source = several_sources(report)
    policy = report["policy"]
    yield _t(display_title(report, options), "bold")
    yield _t(
        f"Policy: {policy['title'] or policy['id']} ({policy['id']}). Generated {report['generated_at']}."
    )
    yield Text()
    if report["endpoints"]:
        yield _t("Endpoints", "bold")
        yield _endpoint_table(report["endpoints"], with_source)
        yield _t("Versions listed under neither heading were rejected.", "dim")
        yield from _disagreements(report)
        yield Text()
        yield from _key_exchange_section(report, with_source)
    if report.get("hosts"):
        yield from _fleet(report)
    if report["runtimes"]:
        yield _t("Runtimes", "bold")
        yield _runtime_table(report["runtimes"], with_source)
        yield Text()
    services = report.get("local_services", [])
    if services:
        yield _t("Local services looked at", "bold")
        yield _services_table(services)
        yield Text()
    yield from _sections(report, with_source)
    if report.get("interrupted"):
        yield _t(INTERRUPTED_NOTE, "yellow")
    yield _verdict_line(report)


def endpoint_label(endpoint: Mapping[str, Any], with_source: bool) -> str:
    label = subject_label(endpoint, with_source)
    if endpoint.get("starttls"):
        label += f" [STARTTLS {endpoint['starttls']}]"
    return label


def _table() -> Table:
    return Table(box=ASCII_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0), header_style="bold")


def _endpoint_table(endpoints: Sequence[Mapping[str, Any]], with_source: bool) -> Table:
    """Endpoint, the versions it accepted, those that could not be told, verdict: narrow enough for 80
    columns with the words of the JSON (every version not listed was rejected)."""
    table = _table()
    table.add_column("Endpoint", overflow="fold", ratio=3)
    table.add_column("Accepted", overflow="fold", ratio=2)
    table.add_column("Unknown", overflow="fold", ratio=1)
    table.add_column("Verdict", no_wrap=True)
    for ep in endpoints:
        accepted = Text()
        unknown = []
        for version in VERSION_NAMES:
            status = ep["protocols"][version]["status"]
            if status == "accepted":
                if accepted:
                    accepted.append(" ")
                accepted.append(version, style=protocol_style(version, status))
            elif status == "unknown":
                unknown.append(version)
        table.add_row(
            _t(endpoint_label(ep, with_source)),
            accepted if accepted else _t("none", "yellow"),
            _t(_versions_words(unknown), "yellow" if unknown else "dim"),
            _t(ep["verdict"].upper(), VERDICT_STYLE[ep["verdict"]]),
        )
    return table


def _versions_words(versions: list[str]) -> str:
    if not versions:
        return "-"
    return "all" if len(versions) == len(VERSION_NAMES) else " ".join(versions)


def _disagreements(report: Report) -> Iterable[RenderableType]:
    for host in report["summary"].get("hosts", []):
        if host.get("disagreements"):
            yield _t(
                f"Note: the addresses of {host['name']}:{host['port']} disagree on "
                f"{', '.join(host['disagreements'])} ({', '.join(host['addresses'])})"
            )


def _fleet(report: Report) -> Iterable[RenderableType]:
    yield _t("Hosts", "bold")
    yield _t(fleet_headline(report))
    table = _table()
    table.add_column("Host", overflow="fold", ratio=1)
    table.add_column("OS", overflow="fold", ratio=1)
    table.add_column("Runtimes", overflow="fold", ratio=2)
    table.add_column("Worst finding", overflow="fold", ratio=2)
    table.add_column("Verdict", no_wrap=True)
    for row in host_rows(report):
        table.add_row(
            _t(row["host"]),
            _t(row["os"]),
            _t(row["runtimes"]),
            _t(row["worst"]),
            _t(row["verdict"].upper(), VERDICT_STYLE[row["verdict"]]),
        )
    yield table
    for line in rule_count_lines(report):
        yield _t(f"  {line}")
    yield Text()


def _runtime_table(runtimes: Sequence[Mapping[str, Any]], with_source: bool) -> Table:
    table = _table()
    table.add_column("Runtime", overflow="fold", ratio=2)
    table.add_column("Version", overflow="fold", ratio=1)
    table.add_column("TLS library", overflow="fold", ratio=1)
    table.add_column("PQ hybrid", no_wrap=True)
    table.add_column("Readiness", no_wrap=True)
    table.add_column("Verdict", no_wrap=True)
    for rt in runtimes:
        table.add_row(
            _t(subject_label(rt, with_source)),
            _t(rt.get("version", "unknown")),
            _t(tls_library_label(rt) or "-"),
            _t(pq_hybrid_label(rt)),
            _t(rt["readiness"], READINESS_STYLE[rt["readiness"]]),
            _t(rt["verdict"].upper(), VERDICT_STYLE[rt["verdict"]]),
        )
    return table


def _services_table(services: Sequence[Mapping[str, Any]]) -> Table:
    table = _table()
    table.add_column("Address", overflow="fold", ratio=1)
    table.add_column("Process", overflow="fold", ratio=1)
    table.add_column("Result", overflow="fold", ratio=2)
    for service in services:
        table.add_row(
            _t(service["address"]),
            _t(service.get("process") or "-"),
            _t(local_service_words(service), SERVICE_STYLE.get(service["status"])),
        )
    return table


def _key(item: Mapping[str, Any]) -> tuple[str, str]:
    return (str(item.get("id", item.get("subject", ""))), str(item.get("source_host", "")))


def _sections(report: Report, with_source: bool) -> Iterable[RenderableType]:
    """One section per endpoint, runtime and capture: what was collected, then its findings."""
    by_subject: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for finding in tally(report).problem_findings:
        by_subject.setdefault(_key(finding), []).append(finding)
    shown: set[tuple[str, str]] = set()
    for ep in report["endpoints"]:
        details = list(_endpoint_details(ep))
        findings = by_subject.get(_key(ep), [])
        if details or findings:
            yield from _section(endpoint_label(ep, with_source), ep["verdict"], details, findings)
        shown.add(_key(ep))
    for subject in (*report["runtimes"], *report.get("captures", [])):
        findings = by_subject.get(_key(subject), [])
        if findings:
            yield from _section(subject_label(subject, with_source), subject.get("verdict"), [], findings)
        shown.add(_key(subject))
    for key, findings in by_subject.items():
        if key not in shown:
            yield from _section(subject_label(findings[0], with_source), None, [], findings)


def _section(
    title: str, verdict: str | None, details: list[RenderableType], findings: list[Mapping[str, Any]]
) -> Iterable[RenderableType]:
    head = _t(title, "bold")
    if verdict:
        head.append("  ")
        head.append(verdict.upper(), style=VERDICT_STYLE.get(verdict, ""))
    yield head
    if details:
        yield Padding(Group(*details), (0, 0, 0, 2))
    for finding in findings:
        yield Padding(_finding(finding), (0, 0, 0, 2))
    yield Text()


def _labelled(label: str, value: str, style: str | None = None) -> Table:
    """`Label    value` with the value wrapped under itself."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, min_width=12)
    grid.add_column(overflow="fold", ratio=1)
    grid.add_row(_t(label, "bold"), _t(value, style))
    return grid


def _endpoint_details(ep: Mapping[str, Any]) -> Iterable[RenderableType]:
    cert = ep.get("certificate")
    if cert:
        yield _labelled("Certificate", certificate_summary(cert))
    session = session_row(ep)
    if session is not None:
        for label, key in (
            ("HSTS", "hsts"),
            ("OCSP", "ocsp"),
            ("Lifetime", "lifetime"),
            ("Revocation", "revocation"),
        ):
            yield _labelled(label, session[key])
    if ep.get("client_certificate"):
        yield _labelled("Client cert", f"the server asks for one ({ep['client_certificate']})")
    if ep.get("certificate_error"):
        yield _labelled("Certificate", f"not collected: {ep['certificate_error']}", "yellow")
    for client in ep.get("clients", []):
        result = client["result"]
        detail = (
            f"connects, {client.get('protocol', '')} {client.get('cipher_suite', '')}".strip()
            if result == "connects"
            else f"{result}: {client.get('reason', '')}"
        )
        style = {"connects": "green", "fails": "red"}.get(result, "yellow")
        yield _labelled(
            f"Client {client['name']} {client['version']}", f"{detail} [{client['client']}]", style
        )
    for suites in ep.get("cipher_suites", []):
        order = " (server order)" if suites.get("server_preference") else ""
        accepted = ", ".join(suites.get("accepted", [])) or "none accepted"
        yield _labelled(f"{suites['version']}", f"suites{order}: {accepted}")
    for error in ep.get("errors", []):
        yield _labelled("Note", error, "yellow")


def certificate_summary(cert: Mapping[str, Any]) -> str:
    parts = [f"{cert['subject']}, issued by {cert['issuer']}"]
    days = cert.get("days_left")
    if cert.get("expired") or (cert.get("expired") is None and isinstance(days, int) and days < 0):
        ago = -days if isinstance(days, int) else None
        when = "less than a day" if ago == 0 else f"{ago} day{'s' if ago != 1 else ''}"
        parts.append(
            f"expired {cert.get('not_after', '')[:10]}" + (f" ({when} ago)" if ago is not None else "")
        )
    elif cert.get("not_yet_valid"):
        parts.append(f"not valid before {cert.get('not_before', '')[:10]}")
    elif cert.get("not_after"):
        parts.append(
            f"valid until {cert['not_after'][:10]}"
            + (f" ({days} day{'s' if days != 1 else ''} left)" if days is not None else "")
        )
    if cert.get("key_type"):
        parts.append(f"{cert['key_type']} {cert.get('key_bits') or ''}".strip())
    if cert.get("signature_hash"):
        parts.append(f"signed with {cert['signature_hash']}")
    trusted = cert.get("trusted")
    parts.append({True: "trusted", False: "not trusted", None: "trust unknown"}[trusted])
    match = cert.get("hostname_match")
    if match is not None:
        parts.append("name matches" if match else "name does not match")
    return "; ".join(parts)


def _finding(finding: Mapping[str, Any]) -> Group:
    status = finding["status"]
    head = Text()
    head.append(f"{status.upper():5}", style=STATUS_STYLE[status])
    head.append(f" {finding['severity']}  ")
    head.append(one_line(finding["rule_id"]))
    lines: list[RenderableType] = [head, Padding(_t(finding["message"]), (0, 0, 0, 4))]
    if finding.get("remediation"):
        lines.append(Padding(_t("Fix: " + finding["remediation"]), (0, 0, 0, 4)))
    if finding.get("references"):
        lines.append(Padding(_t("See: " + ", ".join(finding["references"])), (0, 0, 0, 4)))
    return Group(*lines)


def verdict_line(report: Report, color: bool = False) -> str:
    """The one-line verdict (also printed on stderr when the report goes to files)."""
    if not color:
        return plain_verdict_line(report)
    buffer = io.StringIO()
    console = make_console(color, file=buffer)
    console.print(_verdict_line(report))
    return _rstrip(buffer.getvalue().rstrip("\n"))


def _verdict_line(report: Report) -> Text:
    verdict = report["summary"]["verdict"]
    line = Text()
    line.append(f"Verdict: {verdict.upper()}", style=VERDICT_STYLE[verdict])
    line.append(plain_verdict_line(report).split(verdict.upper(), 1)[1])
    return line


def _key_exchange_section(report: Report, with_source: bool) -> Iterator[Text]:
    """Key exchange, handshake features and known flaws, one block per endpoint that has them."""
    rows = key_exchange_rows(report, with_source)
    if not rows:
        return
    yield _t("Key exchange, handshake and known flaws", "bold")
    for row in rows:
        yield Text(f"  {one_line(row['label'])}")
        for group in row["groups"]:
            yield Text(f"    groups {one_line(group)}")
        yield Text("    " + "; ".join(row["facts"]))
    yield Text()
