"""Command line: parse options, call the composing module, render, choose the exit code."""

from __future__ import annotations

import dataclasses
import functools
import gc
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tlsaudit import __version__
from tlsaudit.audit import (
    Collected,
    endpoint_record,
    inspect_local_runtimes,
    make_report,
    no_runtime_found,
    rejudge,
    retry_through_starttls,
    scan_endpoints,
    settle_local_services,
)
from tlsaudit.endpoint_lines import is_stream
from tlsaudit.engine import (
    DEFAULT_POLICY,
    RUNTIME_KINDS,
    RuleSet,
    Unreachable,
    available_policies,
    check_file,
    check_folder,
    load_ruleset,
    policy_citations,
)
from tlsaudit.errors import ReportInputError, RuleFileError, TlsAuditError, UsageError
from tlsaudit.facts import known_facts
from tlsaudit.formats import (
    FORMATS,
    STDOUT,
    RenderFailure,
    RenderOptions,
    planned_outputs,
    write_outputs,
)
from tlsaudit.formats.base import plain_verdict_line
from tlsaudit.gate import DEFAULT_FAIL_ON, FAIL_ON_CHOICES, ExitCode, exit_code, fails
from tlsaudit.models import EndpointFacts, Target
from tlsaudit.probe.depth import clients_enricher, depth_enrichers
from tlsaudit.probe.scanner import Enricher, ScanOptions
from tlsaudit.probe.shard import parse_shard
from tlsaudit.probe.starttls import starttls_for
from tlsaudit.probe.targets import parse_targets, parse_targets_file, unique_targets
from tlsaudit.report import load_report, merge_reports, normalized
from tlsaudit.report_types import Report
from tlsaudit.runtime_kinds import KINDS as RUNTIME_KIND_DESCRIPTORS
from tlsaudit.scan_batch import plan_batch
from tlsaudit.stdio import with_whole_writes
from tlsaudit.terminal import COLOR_CHOICES, Progress, color_wanted

if TYPE_CHECKING:
    from tlsaudit.client_profiles import ClientProfile
    from tlsaudit.fleet.ansible_run import FleetRun
    from tlsaudit.inspectors import InspectOptions
    from tlsaudit.probe.local_services import ListeningService

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USAGE = ExitCode.USAGE
EXIT_INTERNAL = ExitCode.INTERNAL
_DEBUG = {"on": False}


def _fail(message: str, code: int = EXIT_USAGE) -> None:
    for line in message.splitlines() or [""]:
        click.echo(f"tlsaudit: error: {line}", err=True)
    sys.exit(code)


def _load_ruleset(
    policy: str,
    rules_dirs: Sequence[str],
    params: Mapping[str, Any] | None = None,
    kinds: Sequence[str] | None = None,
) -> RuleSet:
    try:
        return load_ruleset(policy, [Path(d) for d in rules_dirs], params, kinds)
    except RuleFileError as exc:
        _fail(str(exc))
        raise AssertionError("unreachable") from exc


def _read_targets(
    args: Sequence[str], files: Sequence[str], sni: str | None, starttls: str | None
) -> list[Target]:
    targets: list[Target] = parse_targets(args)
    for name in files:
        if name == "-":
            targets.extend(parse_targets_file(sys.stdin.read().splitlines(), "<stdin>"))
            continue
        try:
            content = Path(name).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read targets file {name}: {exc}") from exc
        targets.extend(parse_targets_file(content.splitlines(), name))
    return unique_targets(with_service_settings(t, sni=sni, starttls=starttls) for t in targets)


def with_service_settings(target: Target, *, sni: str | None, starttls: str | None) -> Target:
    """--sni and --starttls apply to every target; else a URL scheme decides STARTTLS, else the port."""
    if starttls is not None:
        protocol = starttls_for(None, target.port, starttls)
    elif "://" in target.raw:
        protocol = target.starttls
    else:
        protocol = starttls_for(None, target.port, None)
    return dataclasses.replace(target, sni=sni or target.sni, starttls=protocol)


def _check_outputs(kw: Mapping[str, Any]) -> None:
    """Every -o path, its format and the logo, checked before any scan starts (exit 2, nothing written)."""
    try:
        planned_outputs(kw["outputs"], kw["fmt"])
        if kw.get("logo"):
            from tlsaudit.formats.html import logo_data_uri

            logo_data_uri(Path(kw["logo"]))
    except UsageError as exc:
        _fail(str(exc))


def _emit(
    report: Mapping[str, Any], out: OutputOptions, *, streamed: Sequence[str] = (), fresh: bool = False
) -> None:
    """Render the report into every output except those already `streamed` (scan's JSONL), then exit.
    `fresh`: the report is make_report's, untouched since (already normalized: verdicts and summary just
    computed), so it is not recomputed a second time."""
    options = RenderOptions(
        title=out.title,
        client=out.client,
        assessor=out.assessor,
        logo=Path(out.logo) if out.logo else None,
        color=color_wanted(out.color, sys.stdout) and not out.outputs,
        fails=functools.partial(fails, fail_on=out.fail_on),
        targets_files=out.targets_files,
    )
    if not fresh:
        report = normalized(report)  # the exit code and every format read the same recomputed summary
    code = exit_code(report, out.fail_on)
    remaining = [o for o in out.outputs or [STDOUT] if o not in streamed]
    try:
        if remaining:
            write_outputs(report, remaining, out.fmt, options, is_normalized=True)
    except OSError as exc:
        _fail(f"cannot write the report: {exc}")
    except RenderFailure as exc:
        _internal_error(exc, exc.failures[0][2])
    if STDOUT not in remaining:
        click.echo(plain_verdict_line(report), err=True)
    sys.exit(code)


def _internal_error(exc: BaseException, cause: BaseException | None = None) -> None:
    """A bug: one line on stderr (the traceback with --debug), exit code 4, never mistaken for findings."""
    if _DEBUG["on"]:
        import traceback

        traceback.print_exception(cause or exc, file=sys.stderr)
    message = str(exc) if isinstance(exc, TlsAuditError) else f"{type(exc).__name__}: {exc}"
    if not _DEBUG["on"] and not isinstance(exc, TlsAuditError):
        message += " (run again with --debug for the traceback)"
    click.echo(f"tlsaudit: internal error: {message}", err=True)
    sys.exit(EXIT_INTERNAL)


def _set_debug(_ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        _DEBUG["on"] = True
    return value


_debug_option = click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_set_debug,
    help="Show the Python traceback of an internal error (exit code 4).",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputOptions:
    fmt: str | None
    outputs: tuple[str, ...]
    fail_on: str
    color: str = "auto"
    title: str | None = None
    client: str | None = None
    assessor: str | None = None
    logo: str | None = None
    targets_files: tuple[str, ...] = ()


_render_output = [
    _debug_option,
    click.option(
        "--format",
        "fmt",
        type=click.Choice(sorted(FORMATS)),
        default=None,
        help="Output format (default: from each -o extension; text on the terminal).",
    ),
    click.option(
        "-o", "--output", "outputs", multiple=True, help="Write the report here (repeatable; '-' = stdout)."
    ),
    click.option(
        "--fail-on",
        type=click.Choice(FAIL_ON_CHOICES),
        default=DEFAULT_FAIL_ON,
        show_default=True,
        help="What makes the exit code 1: a status (fail; warn: fail or warn) or a severity (critical, high, "
        "medium, low, info: a fail of that severity or worse; also the least severity of a not-assessed "
        "check that makes it 3); never: always 0.",
    ),
    click.option(
        "--color",
        type=click.Choice(COLOR_CHOICES),
        default="auto",
        show_default=True,
        help="Colour on the terminal: auto = when it is a terminal and NO_COLOR is not set.",
    ),
    click.option("--title", default=None, help="Report title (HTML cover)."),
    click.option("--client", default=None, help="Client name for the report cover."),
    click.option("--assessor", default=None, help="Assessor name for the report cover."),
    click.option(
        "--logo",
        default=None,
        type=click.Path(dir_okay=False, exists=True),
        help="PNG, JPEG or SVG logo embedded in the HTML report.",
    ),
]

_common_output = [
    click.option(
        "--policy", default=DEFAULT_POLICY, show_default=True, help="Policy name or a policy TOML file."
    ),
    click.option(
        "--rules",
        "rules_dirs",
        multiple=True,
        type=click.Path(file_okay=False),
        help="Folder of your own rule tables (repeatable). Every rule in it is judged on top of the policy's "
        "(unless the policy excludes it by id), and the report's policy title says so; its policies/ "
        "subfolder adds policies to --policy.",
    ),
    click.option("-q", "--quiet", is_flag=True, help="No progress on stderr."),
    *_render_output,
]

_unreachable_option = click.option(
    "--unreachable",
    type=click.Choice([u.value for u in Unreachable]),
    default=Unreachable.ERROR.value,
    show_default=True,
    help="An endpoint nothing could be learnt from gets one finding: error (not assessed, exit code 3), "
    "fail (a high-severity failure, exit code 1) or ignore (recorded as skipped).",
)

_scan_options = [
    _unreachable_option,
    click.option(
        "-f", "--targets-file", "files", multiple=True, help="File of targets, one per line ('-' = stdin)."
    ),
    click.option("--sni", default=None, help="Server name to send instead of the target's host name."),
    click.option(
        "--timeout",
        type=click.FloatRange(0.1, 300),
        default=5.0,
        show_default=True,
        help="Seconds allowed for each probe connection.",
    ),
    click.option(
        "--retries",
        type=click.IntRange(0, 5),
        default=1,
        show_default=True,
        help="Retries of a probe that timed out or was reset, before 'unknown'.",
    ),
    click.option(
        "--concurrency",
        type=click.IntRange(1, 5000),
        default=400,
        show_default=True,
        help="Connections open at once, in total.",
    ),
    click.option(
        "--per-address",
        "--per-host",
        "per_address",
        type=click.IntRange(1, 100),
        default=32,
        show_default=True,
        help="Connections open at once to one address (all its ports).",
    ),
    click.option(
        "--per-endpoint",
        type=click.IntRange(1, 100),
        default=6,
        show_default=True,
        help="Connections open at once to one address and port (6: one per protocol version).",
    ),
    click.option(
        "--starttls",
        default=None,
        help="STARTTLS protocol for every target (smtp, imap, pop3, ftp, ldap, postgres, xmpp, none); "
        "default: by URL scheme, else by well-known port.",
    ),
    click.option(
        "--ca-file",
        default=None,
        type=click.Path(dir_okay=False, exists=True),
        help="Extra trusted CA certificates (PEM), e.g. an internal CA.",
    ),
    click.option(
        "--cert-expiry-days",
        type=click.IntRange(0, 3650),
        default=None,
        help="Warn when a certificate expires within this many days (policy default: 30).",
    ),
    click.option(
        "--certificates/--no-certificates",
        default=True,
        show_default=True,
        help="Analyse the certificate chain of each endpoint (and ask for a stapled OCSP response).",
    ),
    click.option(
        "--hsts/--no-hsts",
        default=True,
        show_default=True,
        help="Send one HTTP request after a handshake to read Strict-Transport-Security (not on STARTTLS).",
    ),
    click.option(
        "--key-exchange/--no-key-exchange",
        default=True,
        show_default=True,
        help="Named groups per version (post-quantum hybrids included), DH size, forward secrecy, "
        "large-hello tolerance.",
    ),
    click.option(
        "--handshake-checks/--no-handshake-checks",
        default=True,
        show_default=True,
        help="Secure and client renegotiation, fallback SCSV, compression, extended master secret, "
        "encrypt-then-MAC, session resumption.",
    ),
    click.option(
        "--flaw-checks/--no-flaw-checks",
        default=True,
        show_default=True,
        help="Heartbleed, CCS injection (CVE-2014-0224) and ROBOT, with at most 12 connections per endpoint.",
    ),
]


_runtime_options = [
    click.option(
        "--kind",
        "kinds",
        multiple=True,
        type=click.Choice(sorted(RUNTIME_KINDS)),
        help="Only these runtime kinds (repeatable; default: all).",
    ),
    # --php PATH, --java-home DIR, --python PATH, --node PATH, --mono PATH: from the runtime-kind descriptors
    *(
        click.option(
            kind.path_option.flag,
            kind.path_option.dest,
            multiple=True,
            type=click.Path(dir_okay=kind.path_option.dir_okay, exists=True),
            help=kind.path_option.help,
        )
        for kind in RUNTIME_KIND_DESCRIPTORS
        if kind.path_option is not None
    ),
    click.option(
        "--registry",
        "registry_file",
        type=click.Path(dir_okay=False, exists=True),
        default=None,
        help="A Windows registry export (`reg export`, .reg, UTF-16 or UTF-8) to judge .NET Framework and "
        "Schannel from, on any OS.",
    ),
    click.option(
        "--dotnet-config",
        "dotnet_configs",
        multiple=True,
        type=click.Path(exists=True),
        help="A .NET application's web.config / *.exe.config / app.config / *.runtimeconfig.json, or a "
        "folder to search for them (repeatable).",
    ),
    click.option(
        "--no-system-search",
        is_flag=True,
        help="Inspect only the runtimes named with --php/--java-home/--python/--node/--mono.",
    ),
    click.option(
        "--runtime-timeout",
        type=click.FloatRange(1, 600),
        default=20.0,
        show_default=True,
        help="Seconds one runtime command may take.",
    ),
    click.option(
        "--probe",
        is_flag=True,
        help="Also run each runtime's default HTTPS client against a loopback listener and record what "
        "it really offers.",
    ),
    click.option(
        "--root",
        default="/",
        show_default=True,
        type=click.Path(exists=True, file_okay=False),
        help="Read service configuration (systemd units, env files, Tomcat, WildFly, jvm.options, php-fpm, "
        "Apache envvars) under this folder: an image or a mounted disk. Symlinks never lead out of it; "
        "nothing of this machine is run or searched when it is not /.",
    ),
    click.option("--no-services", is_flag=True, help="Do not read service configuration files."),
    click.option("--no-processes", is_flag=True, help="Do not read running processes (/proc)."),
]


def _inspect_options(kw: dict[str, Any]) -> InspectOptions:
    from tlsaudit.inspectors import InspectOptions  # only commands that inspect runtimes pay for it

    extra = {
        kind.name: tuple(kw[kind.path_option.dest])
        for kind in RUNTIME_KIND_DESCRIPTORS
        if kind.path_option is not None and kw[kind.path_option.dest]
    }
    registry = None
    if kw["registry_file"] or kw["dotnet_configs"]:  # .NET configuration without Windows
        from tlsaudit.inspectors.dotnet_apps import dotnet_inputs

        try:
            registry, configs = dotnet_inputs(kw["registry_file"], kw["dotnet_configs"])
        except TlsAuditError as exc:
            _fail(str(exc))
            raise AssertionError("unreachable") from exc
        if configs:
            extra["dotnet"] = configs
    return InspectOptions(
        kinds=tuple(kw["kinds"]),
        extra_paths=extra,
        search_system=not kw["no_system_search"],
        timeout=kw["runtime_timeout"],
        root=kw["root"],
        services=not kw["no_services"],
        processes=not kw["no_processes"],
        registry=registry,
    )


def _pins_scope(kw: dict[str, Any]) -> dict[str, str]:
    from tlsaudit.pins.collect import scope_notes

    return scope_notes(kw["root"], services=not kw["no_services"], processes=not kw["no_processes"])


def _apply(options: list[Any]) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tlsaudit")
@_debug_option
def main() -> None:
    """TLS readiness: which endpoints still accept TLS 1.0/1.1, and which local runtimes can do TLS 1.2+."""


def _output(kw: dict[str, Any]) -> OutputOptions:
    return OutputOptions(
        fmt=kw["fmt"],
        outputs=kw["outputs"],
        fail_on=kw["fail_on"],
        color=kw["color"],
        title=kw["title"],
        client=kw["client"],
        assessor=kw["assessor"],
        logo=kw["logo"],
        targets_files=tuple(kw.get("files", ())),
    )


def _scan_settings(kw: dict[str, Any]) -> ScanOptions:
    return ScanOptions(
        timeout=kw["timeout"],
        retries=kw["retries"],
        concurrency=kw["concurrency"],
        per_address=kw["per_address"],
        per_endpoint=kw["per_endpoint"],
    )


def _targets_or_fail(kw: dict[str, Any]) -> list[Target]:
    try:
        return _read_targets(kw["targets"], kw["files"], kw["sni"], kw["starttls"])
    except UsageError as exc:
        _fail(str(exc))
        raise AssertionError("unreachable") from exc


def _params(kw: dict[str, Any]) -> dict[str, Any]:
    days = kw.get("cert_expiry_days")
    return {} if days is None else {"cert_expiry_warn_days": days}


def _enrichers(kw: dict[str, Any]) -> list[Enricher]:
    try:
        return depth_enrichers(
            timeout=kw["timeout"],
            certificates=kw["certificates"],
            ciphers=kw["ciphers"],
            ca_file=kw["ca_file"],
            clients=_selected_profiles(kw.get("clients")),
            hsts=kw["hsts"],
            key_exchange=kw["key_exchange"],
            handshake=kw["handshake_checks"],
            flaws=kw["flaw_checks"],
        )
    except UsageError as exc:
        _fail(str(exc))
        raise AssertionError("unreachable") from exc


def _selected_profiles(spec: str | None) -> Sequence[ClientProfile]:
    if not spec:
        return ()
    from tlsaudit.client_profiles import select_profiles  # loaded only when --clients is given

    return select_profiles(spec)


def _judging(kw: dict[str, Any]) -> dict[str, Any]:
    """How make_report judges what a scan did not or could not collect."""
    depths = [
        name for name, key in (("certificate", "certificates"), ("cipher-suites", "ciphers")) if kw[key]
    ]
    return {"unreachable": Unreachable(kw["unreachable"]), "depths": depths}


def _scope(kw: dict[str, Any], **extra: str) -> dict[str, str]:
    return {
        k: v
        for k, v in {
            "title": kw["title"],
            "client": kw["client"],
            "assessor": kw["assessor"],
            **extra,
        }.items()
        if v
    }


@main.command()
@click.argument("targets", nargs=-1)
@click.option(
    "--ciphers/--no-ciphers",
    default=True,
    show_default=True,
    help="Enumerate the accepted cipher suites of every accepted version (--no-ciphers: the suite rules "
    "are reported as not assessed).",
)
@click.option(
    "--clients",
    "clients",
    default=None,
    metavar="all|ID,...|FILE",
    help="Replay these client profiles' hellos at every endpoint: which clients connect, which fail "
    "(`tlsaudit clients list`).",
)
@click.option(
    "--shard",
    default=None,
    metavar="I/N",
    help="Scan only shard I of N (numbered 1..N): the targets whose stable hash (SHA-256 of the normalized "
    "target) falls in it. The N scans 1/N ... N/N cover every target exactly once, on any machine.",
)
@click.option(
    "--resume",
    default=None,
    type=click.Path(dir_okay=False),
    help="A JSONL stream of an earlier run (--format jsonl): the endpoints it holds are not scanned again "
    "(a cut-off last line is ignored). When it is also the -o output, new lines are appended to it.",
)
@_apply(_scan_options)
@_apply(_common_output)
def scan(**kw: Any) -> None:
    """Probe endpoints: host, host:port, [v6]:port, https://host/..., smtp://host."""
    _check_outputs(kw)
    try:
        shard = None if kw["shard"] is None else parse_shard(kw["shard"])
    except UsageError as exc:
        _fail(str(exc))
    ruleset = _load_ruleset(kw["policy"], kw["rules_dirs"], _params(kw), kinds=("endpoint",))
    parsed = _targets_or_fail(kw)
    if not parsed:
        _fail("no targets given (pass TARGET... or -f FILE)")
    try:
        batch = plan_batch(parsed, shard=shard, resume=kw["resume"], outputs=_planned(kw))
    except (UsageError, ReportInputError) as exc:
        _fail(str(exc))
        raise AssertionError("unreachable") from exc
    for note in batch.notes:
        click.echo(f"tlsaudit: note: {note}", err=True)
    collected = Collected(endpoints=list(batch.resumed))
    progress = Progress(not kw["quiet"], color=color_wanted(kw["color"], sys.stderr))
    judging = _judging(kw)
    with batch.open_streams() as streams:

        def finished(facts: EndpointFacts) -> None:
            progress.finished(facts)
            if streams:
                line = endpoint_record(ruleset, facts, **judging)
                for stream in streams:
                    stream.write(line)

        scan_endpoints(
            batch.targets,
            _scan_settings(kw),
            collected,
            on_endpoint=finished,
            on_planned=progress.planned,
            enrichers=_enrichers(kw),
            skip=batch.skip,
        )
    progress.close()
    # What is left makes the report and writes it, then the process ends: objects that live to the end,
    # no cyclic garbage worth a collection, and each collection would walk every finding made so far.
    gc.disable()
    _emit(
        make_report(ruleset, collected, _scope(kw), **judging),
        _output(kw),
        streamed=batch.streamed,
        fresh=True,
    )


def _planned(kw: Mapping[str, Any]) -> list[tuple[str, str]]:
    return planned_outputs(kw["outputs"], kw["fmt"])


@main.command()
@click.argument("targets", nargs=-1)
@click.option(
    "--include-non-loopback",
    is_flag=True,
    help="Also scan services bound only to a non-loopback address of this machine.",
)
@click.option("--no-local", is_flag=True, help="Do not scan this machine's listening services.")
@click.option(
    "--local-port",
    "local_ports",
    multiple=True,
    type=click.IntRange(1, 65535),
    help="Only the local services listening on this port (repeatable; default: every listening port).",
)
@click.option("--no-runtimes", is_flag=True, help="Do not inspect this machine's client runtimes.")
@_apply(_runtime_options)
@click.option(
    "--ciphers/--no-ciphers",
    default=True,
    show_default=True,
    help="Enumerate the accepted cipher suites of every accepted version.",
)
@click.option(
    "--clients",
    "clients",
    default=None,
    metavar="local|all|ID,...|FILE",
    help="Replay client hellos at every endpoint; `local`: the hellos of this machine's runtimes "
    "(captured with --probe first).",
)
@_apply(_scan_options)
@_apply(_common_output)
def audit(**kw: Any) -> None:
    """This machine in one report: its listening TLS services plus any targets given."""
    _check_outputs(kw)
    ruleset = _load_ruleset(kw["policy"], kw["rules_dirs"], _params(kw))
    explicit = _targets_or_fail(kw)
    local: list[tuple[Target, ListeningService]] = []
    if not kw["no_local"]:
        from tlsaudit.probe.local_services import listening_services, local_targets

        local = [
            (with_service_settings(t, sni=None, starttls=None), service)
            for t, service in local_targets(
                listening_services(), include_non_loopback=kw["include_non_loopback"], ports=kw["local_ports"]
            )
        ]
    collected = Collected()
    local_clients = kw.get("clients") == "local"
    profiles: list[ClientProfile] = []
    if local_clients:
        from tlsaudit.capture.profile_capture import profiles_from_captures

        # The runtimes' own hellos, captured first, are the clients replayed at every endpoint.
        inspect_local_runtimes(_inspect_options(kw), collected, probe=True, quiet=kw["quiet"])
        kw = {**kw, "clients": None}
        profiles = profiles_from_captures(collected.captures, collected.runtimes)
    progress = Progress(not kw["quiet"], color=color_wanted(kw["color"], sys.stderr))
    enrichers = _enrichers(kw)
    if local_clients and profiles:
        enrichers.append(clients_enricher(profiles))
    scan_endpoints(
        unique_targets([*explicit, *(t for t, _ in local)]),
        _scan_settings(kw),
        collected,
        on_endpoint=progress.finished,
        on_planned=progress.planned,
        enrichers=enrichers,
    )
    progress.close()
    retry_through_starttls(collected, explicit, _scan_settings(kw), enrichers)
    if not kw["no_runtimes"] and not local_clients:
        inspect_local_runtimes(_inspect_options(kw), collected, probe=kw["probe"], quiet=kw["quiet"])
    settle_local_services(collected, local, explicit)
    not_tls = [s.address for s in collected.local_services if s.status == "not-tls"]
    scope = _scope(
        kw,
        **(_pins_scope(kw) if not kw["no_runtimes"] else {}),
        local_services_scanned=str(len(local)),
        local_services_not_tls=", ".join(not_tls),  # kept for readers of earlier reports: see local_services
    )
    report = make_report(ruleset, collected, scope, **_judging(kw))
    _emit(report, _output(kw), fresh=True)


@main.command()
@_apply(_runtime_options)
@_apply(_common_output)
def runtimes(**kw: Any) -> None:
    """Find and judge the TLS client runtimes here: PHP/cURL, Java, .NET, Python, curl, OpenSSL, Node."""
    _check_outputs(kw)
    ruleset = _load_ruleset(kw["policy"], kw["rules_dirs"])
    collected = Collected()
    options = _inspect_options(kw)
    inspect_local_runtimes(options, collected, probe=kw["probe"], quiet=kw["quiet"])
    if not collected.runtimes and not collected.interrupted:
        click.echo(f"tlsaudit: {no_runtime_found(options)}", err=True)
        sys.exit(ExitCode.INCOMPLETE)
    _emit(make_report(ruleset, collected, _scope(kw, **_pins_scope(kw))), _output(kw), fresh=True)


@main.command(context_settings={"ignore_unknown_options": True})
@click.option(
    "-i",
    "--inventory",
    required=True,
    help="Ansible inventory (file, directory or host list) of the hosts to audit.",
)
@click.option(
    "--forks",
    type=click.IntRange(1, 1000),
    default=20,
    show_default=True,
    help="Hosts collected in parallel (ansible-playbook --forks).",
)
@click.option(
    "--keep-facts",
    type=click.Path(file_okay=False),
    default=None,
    help="Keep each host's collector output (with --scan-targets: its JSONL) in this folder (tlsaudit report "
    "can judge them again).",
)
@click.option(
    "--scan-targets",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Instead of collecting runtimes, scan these targets (a targets file) from the hosts: host k of the "
    "n sorted host names runs `tlsaudit scan --shard k/n` (its tlsaudit_command var, default tlsaudit); "
    "the JSONL comes back and is merged here. A shard that did not come back is reported as not assessed.",
)
@click.option(
    "--scan-timeout",
    type=click.FloatRange(0.1, 300),
    default=None,
    help="With --scan-targets: scan --timeout on the hosts.",
)
@_apply(_common_output)
@click.argument("ansible_args", nargs=-1, type=click.UNPROCESSED)
def fleet(**kw: Any) -> None:
    """Audit the client runtimes of many hosts through Ansible: the collector runs on each host (Python 2.7+
    or PowerShell, nothing installed), the facts are judged here. With --scan-targets the hosts scan
    endpoints instead, each its shard. Options after the known ones (e.g. --limit web, -u admin,
    --private-key K, -e var=x) go to ansible-playbook. Needs tlsaudit[fleet]."""
    from tlsaudit.fleet.ansible_run import FleetRun, run_fleet
    from tlsaudit.fleet.assess import fleet_report

    _check_outputs(kw)
    ruleset = _load_ruleset(kw["policy"], kw["rules_dirs"])
    run = FleetRun(
        inventory=kw["inventory"],
        forks=kw["forks"],
        extra_args=tuple(kw["ansible_args"]),
        keep=Path(kw["keep_facts"]) if kw["keep_facts"] else None,
        quiet=kw["quiet"],
    )
    if kw["scan_targets"]:
        _fleet_scan(kw, ruleset, run)
        return
    try:
        hosts = run_fleet(run)
    except UsageError as exc:
        _fail(str(exc))
        raise AssertionError("unreachable") from exc
    if not hosts:
        _fail(f"no host in the inventory {kw['inventory']} matches the play")
    _emit(fleet_report(ruleset, hosts, _scope(kw)), _output(kw))


def _fleet_scan(kw: dict[str, Any], ruleset: RuleSet, run: FleetRun) -> None:
    """`fleet --scan-targets`: the hosts scan their shards, the JSONL streams are merged into one report."""
    from tlsaudit.fleet.vantage import run_vantage_scan
    from tlsaudit.merge_inputs import judge_inputs, notes

    name = kw["scan_targets"]
    try:
        listing = Path(name).read_text(encoding="utf-8-sig")
        targets = _read_targets([], [name], None, None)
    except (OSError, UnicodeDecodeError, UsageError) as exc:
        _fail(f"cannot read targets file {name}: {exc}")
        raise AssertionError("unreachable") from exc
    if not targets:
        _fail(f"no targets in {name}")
    timeout = () if kw["scan_timeout"] is None else ("--timeout", str(kw["scan_timeout"]))
    try:
        scanned = run_vantage_scan(run, targets, listing, ruleset, timeout)
    except UsageError as exc:
        _fail(str(exc))
        raise AssertionError("unreachable") from exc
    if not scanned.hosts:
        _fail(f"no host in the inventory {kw['inventory']} matches the play")
    for note in (*scanned.notes, *notes(scanned.inputs)):
        click.echo(f"tlsaudit: note: {note}", err=True)
    report = judge_inputs(scanned.inputs, ruleset, unreachable=Unreachable.ERROR)
    _emit(report, _output(kw))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8443,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--tls-cert",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Certificate chain (PEM) to present instead of a generated throwaway one.",
)
@click.option(
    "--tls-key",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Private key (PEM) for --tls-cert.",
)
@click.option("--json", "json_lines", is_flag=True, help="One JSON object per connection instead of a line.")
@click.option(
    "--http",
    is_flag=True,
    help="Answer each HTTPS request with a page showing what that client offered (open it in a browser).",
)
def capture(
    host: str, port: int, tls_cert: str | None, tls_key: str | None, json_lines: bool, http: bool
) -> None:
    """Listen on loopback and show what each connecting client offers (point your application here)."""
    from tlsaudit.capture.serve import serve_capture

    if bool(tls_cert) != bool(tls_key):
        _fail("--tls-cert and --tls-key go together")
    try:
        code = serve_capture(
            host, port, json_lines=json_lines, cert_file=tls_cert, key_file=tls_key, http_page=http
        )
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        raise AssertionError("unreachable") from exc
    sys.exit(code)


@main.command("report")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--policy",
    default=None,
    help="Judge the saved facts again under this policy (a name or a policy TOML file), without scanning.",
)
@click.option(
    "--rules",
    "rules_dirs",
    multiple=True,
    type=click.Path(file_okay=False),
    help="Folder of your own rule tables for --policy (see scan --help).",
)
@_unreachable_option
@_apply(_render_output)
def report_command(**kw: Any) -> None:
    """Re-render saved JSON reports, merge several into one (summary recomputed), or judge them again
    under another --policy. Reports judged under different policies are judged again under one (the
    --policy given, else the most recent report's) before merging, and the report says so.

    JSONL streams (scan --format jsonl; shards, resumed runs) merge too, with JSON reports or alone: every
    endpoint, runtime and capture of every input is judged again together under one policy (--policy,
    else the most recent JSON input's, else the default). A subject found more than once (same id seen
    from the same machine) is kept once: the last occurrence, in command-line then line order; the
    duplicates are listed on stderr. A line cut short by a killed scan is ignored (and named)."""
    _check_outputs(kw)
    if any(is_stream(Path(p)) for p in kw["inputs"]):
        _report_streams(kw)  # renders and exits
        return
    try:
        loaded = _load_inputs(kw)
    except ReportInputError as exc:
        _fail(str(exc))
    policy = kw["policy"]
    policies = sorted({r["policy"]["id"] for r in loaded})
    if policy is None and len(policies) > 1:
        # the most recent report (a tie goes to the later input, as when merging)
        latest = max(enumerate(loaded), key=lambda ir: (str(ir[1]["generated_at"]), ir[0]))[1]
        policy = latest["policy"]["id"]
        click.echo(
            f"tlsaudit: note: the reports were judged under different policies ({', '.join(policies)}); "
            f"all are judged again under {policy}, the most recent report's (choose with --policy)",
            err=True,
        )
    if policy is not None:
        ruleset = _load_ruleset(policy, kw["rules_dirs"])
        unreachable = Unreachable(kw["unreachable"])
        loaded = [rejudge(r, ruleset, unreachable=unreachable) for r in loaded]
    report = loaded[0] if len(loaded) == 1 else merge_reports(loaded)
    _emit(report, _output(kw))


def _report_streams(kw: dict[str, Any]) -> None:
    """`report` with JSONL inputs: every subject of every input judged again together under one policy."""
    from tlsaudit.merge_inputs import chosen_policy, judge_inputs, load_input, notes

    try:
        inputs = [load_input(Path(p)) for p in kw["inputs"]]
    except ReportInputError as exc:
        _fail(str(exc))
        raise AssertionError("unreachable") from exc
    policy = kw["policy"] or chosen_policy(inputs)
    if policy is None:
        policy = DEFAULT_POLICY
        click.echo(
            f"tlsaudit: note: JSONL streams carry no policy; judged under {policy} (choose with --policy)",
            err=True,
        )
    for note in notes(inputs):
        click.echo(f"tlsaudit: note: {note}", err=True)
    ruleset = _load_ruleset(policy, kw["rules_dirs"])
    _emit(judge_inputs(inputs, ruleset, unreachable=Unreachable(kw["unreachable"])), _output(kw))


def _load_inputs(kw: Mapping[str, Any]) -> list[Report]:
    """Saved reports as they are; fleet host files (collector output, Ansible results) judged into one fleet
    report under --policy (else the default policy)."""
    from tlsaudit.fleet.assess import fleet_report, is_host_file, load_host_file

    reports: list[Report] = []
    hosts = []
    for name in kw["inputs"]:
        path = Path(name)
        if is_host_file(path):
            hosts.append(load_host_file(path))
        else:
            reports.append(load_report(path))
    if hosts:
        ruleset = _load_ruleset(kw["policy"] or DEFAULT_POLICY, kw["rules_dirs"])
        reports.append(fleet_report(ruleset, hosts))
    return reports


@main.group()
def clients() -> None:
    """Client profiles for `scan --clients`: the hellos of real clients."""


@clients.command("list")
def clients_list() -> None:
    """The shipped client profiles."""
    from tlsaudit.client_profiles import load_profiles

    try:
        profiles = load_profiles()
    except UsageError as exc:
        _fail(str(exc))
        return
    click.echo(f"{'ID':<34} {'CLIENT':<24} {'VERSIONS OFFERED':<28} SOURCE")
    for p in profiles:
        client = f"{p.name} {p.version}"
        source = p.source if p.source == "captured" else f"recorded ({p.reference})"
        click.echo(f"{p.id:<34} {client:<24} {' '.join(p.versions):<28} {source}")


@main.group()
def rules() -> None:
    """Browse the rule tables and policies; validate your own."""


@rules.command("list")
@click.option("--policy", default=None, help="Only the rules this policy selects.")
@click.option("--rules", "rules_dirs", multiple=True, type=click.Path(file_okay=False))
def rules_list(policy: str | None, rules_dirs: tuple[str, ...]) -> None:
    """Every rule, with its status, severity and the policies that use it."""
    extra = [Path(d) for d in rules_dirs]
    try:
        base = load_ruleset(policy or DEFAULT_POLICY, extra)
        policies = {name: load_ruleset(name, extra) for name in available_policies(extra)}
    except RuleFileError as exc:
        _fail(str(exc))
    shown = base.rules if policy else base.all_rules
    click.echo(f"{'RULE':48} {'STATUS':6} {'SEVERITY':8} TITLE  [POLICIES USING IT]")
    for rule in shown:
        users = ",".join(
            sorted(name for name, rs in policies.items() if any(r.id == rule.id for r in rs.rules))
        )
        click.echo(
            f"{rule.id:48} {rule.status.value:6} {rule.severity.value:8} {rule.title}  [{users or '-'}]"
        )
    click.echo(f"{len(shown)} rules; policies: {', '.join(sorted(policies))}")


@rules.command("show")
@click.argument("rule_id")
@click.option("--rules", "rules_dirs", multiple=True, type=click.Path(file_okay=False))
def rules_show(rule_id: str, rules_dirs: tuple[str, ...]) -> None:
    """One rule, with the text of its source."""
    ruleset = _load_ruleset(DEFAULT_POLICY, rules_dirs)
    for rule in ruleset.all_rules:
        if rule.id == rule_id:
            click.echo(f"{rule.id}  ({rule.source}:{rule.line})")
            lines = Path(rule.source).read_text(encoding="utf-8").splitlines()
            start = max(rule.line - 2, 0)
            end = start + 1
            while end < len(lines) and not lines[end].startswith("[[rule]]"):
                end += 1
            click.echo("\n".join(lines[start:end]).rstrip())
            for line in policy_citations(rule_id, [Path(d) for d in rules_dirs]):
                click.echo(line)
            return
    _fail(f"no rule {rule_id!r}; see 'tlsaudit rules list'")


@rules.command("facts")
@click.option(
    "--applies-to",
    type=click.Choice(["endpoint", "runtime", "capture"]),
    default=None,
    help="Only the facts of this subject kind.",
)
def rules_facts(applies_to: str | None) -> None:
    """The facts rules may name, with their types and version schemes."""
    for kind in [applies_to] if applies_to else ["endpoint", "runtime", "capture"]:
        click.echo(f"[{kind}]")
        for name, spec in sorted(known_facts(kind).items()):
            scheme = f" ({spec.scheme})" if spec.type == "version" else ""
            click.echo(f"  {name:44} {spec.type}{scheme:10} {spec.doc}")


@rules.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--rules",
    "rules_dirs",
    multiple=True,
    type=click.Path(file_okay=False),
    help="A folder of rule tables to check (every table and its policies/), and to resolve PATH against.",
)
def rules_check(path: str | None, rules_dirs: tuple[str, ...]) -> None:
    """Validate a rule table or policy file and/or --rules folders (exit 2 naming the mistake)."""
    if path is None and not rules_dirs:
        _fail("give a rule or policy FILE, or --rules DIR")
    extra = [Path(d) for d in rules_dirs]
    try:
        for folder in extra:
            for line in check_folder(folder):
                click.echo(line)
        if path is not None:
            click.echo(check_file(Path(path), extra))
    except RuleFileError as exc:
        _fail(str(exc))


def run() -> None:
    # What is imported by now lives as long as the process: keep it out of every later collection (a scan
    # allocates many short-lived objects, and each full collection would walk all the modules again).
    gc.freeze()
    gc.enable()  # `python -m tlsaudit` imports with collection off
    sys.stdout = with_whole_writes(sys.stdout)
    sys.stderr = with_whole_writes(sys.stderr)
    if "--debug" in sys.argv[1:]:
        _DEBUG["on"] = True  # also for errors raised before click has parsed the option
    try:
        main(standalone_mode=True)
    except TlsAuditError as exc:
        _fail(str(exc))
    except Exception as exc:  # a bug: exit 4, never 1 (which means "findings")
        _internal_error(exc)


if __name__ == "__main__":
    run()
