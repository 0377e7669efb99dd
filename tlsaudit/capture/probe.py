"""`tlsaudit runtimes --probe`: run each runtime's default HTTPS clients against the capture listener.

Every client gets a listener of its own (loopback, ephemeral port), so each connection belongs to
exactly one client. What the listener saw becomes `CaptureFacts`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from tlsaudit.capture.attribution import TOKEN_ENV, new_token
from tlsaudit.capture.certs import CaptureCredentials, generate_credentials
from tlsaudit.capture.listener import Capture, CaptureServer
from tlsaudit.capture.naming import labels, weak_suites
from tlsaudit.capture.process import ProcessResult, run_process
from tlsaudit.capture.runners import (
    JAVA_SOURCE_LAUNCH_MIN,
    ClientRun,
    ProbePrep,
    client_file,
    dotnet_binary,
    dotnet_probe_targets,
    find_javac,
    java_major,
)
from tlsaudit.inspectors.mono import find_mcs
from tlsaudit.models import CaptureFacts, RuntimeFacts
from tlsaudit.runtime_kinds import BY_NAME
from tlsaudit.tls.client_hello_parse import printable, version_label

LOOPBACK_HOSTS = ("127.0.0.1", "::1")
CLIENT_HOST = "localhost"
DEFAULT_TIMEOUT = 30.0
# A client that never reached the listener for one of these reasons tells nothing about its TLS.
_NOT_A_TLS_FAILURE = re.compile(
    r"refused|resolve|getaddrinfo|not known|ENOTFOUND|ECONNREFUSED|UnknownHost|No route", re.IGNORECASE
)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


RESULT_LIMIT = 300


def client_result(run: ClientRun, result: ProcessResult) -> str:
    """One line saying what the client itself reported: `OK ...`, `FAIL ...`, `UNAVAILABLE ...`.

    Control characters are escaped and the line is bounded: it goes into reports as it is."""
    return printable(_client_result(run, result).encode("utf-8", "replace"))[:RESULT_LIMIT]


def _client_result(run: ClientRun, result: ProcessResult) -> str:
    if result.start_error:
        return f"UNAVAILABLE {result.start_error}"
    if result.timed_out:
        return "FAIL timeout"
    if run.client == "curl":
        return _first_line(result.stdout) if result.exit_code == 0 else f"FAIL {_first_line(result.stderr)}"
    if run.client == "openssl s_client":
        m = re.search(r"New, (\S+), Cipher is (\S+)", result.stdout)
        if m and m.group(2) != "(NONE)":
            return f"OK {m.group(1)} {m.group(2)}"
        return f"FAIL {_first_line(result.stderr) or 'no session'}"
    line = next(
        (ln for ln in result.stdout.splitlines() if ln.startswith(("OK", "FAIL", "UNAVAILABLE"))),
        "",
    )
    if line:
        return line.strip()
    return f"FAIL exit {result.exit_code}: {_first_line(result.stderr) or _first_line(result.stdout)}"


def capture_to_facts(
    capture: Capture,
    *,
    client: str,
    runtime: RuntimeFacts | None = None,
    client_result: str = "",
) -> CaptureFacts:
    """One connection the listener served, as facts."""
    hello = capture.hello
    common = CaptureFacts(
        client=client,
        runtime=runtime.subject if runtime else None,
        runtime_kind=runtime.kind if runtime else "",
        peer=capture.peer,
        legacy_version="",
        versions_offered=(),
        cipher_suites=(),
        outcome=capture.outcome,
        client_result=client_result,
        negotiated_version=capture.negotiated_version,
        negotiated_cipher=capture.negotiated_cipher,
        completed=capture.completed,
    )
    if hello is None:
        # A client that stalled tells nothing; one that closed, sent an alert or spoke something else
        # has shown it offers no TLS here.
        return dataclasses.replace(common, observed=not capture.outcome.startswith("timeout"))
    suites = labels(hello.cipher_suites, kind="suite") + labels(hello.sslv2_cipher_kinds, kind="sslv2_cipher")
    return dataclasses.replace(
        common,
        legacy_version=version_label(hello.legacy_version),
        versions_offered=hello.versions_offered,
        versions_exact=hello.versions_exact,
        cipher_suites=suites,
        weak_suites=weak_suites(hello.cipher_suites),
        sni=hello.sni,
        groups=labels(hello.groups, kind="group"),
        signature_algorithms=labels(hello.signature_algorithms, kind="signature_scheme"),
        extensions=labels(hello.extensions, kind="extension"),
        alpn=hello.alpn,
        hello_format=hello.format_name if hello.sslv2_format else "",
        raw_hello=capture.raw_hello.hex(),
    )


def facts_for_run(
    run: ClientRun, captures: Sequence[Capture], result: ProcessResult | None
) -> list[CaptureFacts]:
    """Facts for one client run: one per connection, or one saying why nothing was seen."""
    base = CaptureFacts(
        client=run.client,
        runtime=run.runtime.subject,
        runtime_kind=run.runtime.kind,
        legacy_version="",
        versions_offered=(),
        cipher_suites=(),
    )
    if run.unavailable or result is None:
        return [dataclasses.replace(base, outcome=run.unavailable or "not run", observed=False)]
    line = client_result(run, result)
    if captures:
        ordered = sorted(captures, key=lambda c: c.started_at)
        # A client that reconnects (a fallback retry) shows each attempt; names stay unique per report.
        return [
            capture_to_facts(
                c,
                client=run.client if i == 0 else f"{run.client} #{i + 1}",
                runtime=run.runtime,
                client_result=line,
            )
            for i, c in enumerate(ordered)
        ]
    # The client never connected: either it gave up before any TLS (a pin that leaves it nothing to
    # offer, e.g. a JDK asked for TLS 1.0 only) or it could not run at all.
    attempted = line.startswith("FAIL") and not result.timed_out and not _NOT_A_TLS_FAILURE.search(line)
    errors = tuple(printable(e.encode())[:RESULT_LIMIT] for e in (_first_line(result.stderr),) if e)
    return [
        dataclasses.replace(
            base,
            outcome="no ClientHello: client gave up before connecting" if attempted else "no connection",
            client_result=line,
            observed=attempted,
            errors=errors,
        )
    ]


def client_runs(
    rt: RuntimeFacts,
    credentials: CaptureCredentials,
    *,
    timeout: float,
    java_classpaths: Mapping[str, Path | None],
    dotnet_sdks: Mapping[str, bool] | None = None,
    mono_client: tuple[Path | None, str] = (None, ""),
) -> list[ClientRun]:
    """The default HTTPS clients of one runtime, from its kind's descriptor (none for an unknown kind)."""
    kind = BY_NAME.get(rt.kind)
    runner = kind.load_probe() if kind is not None else None
    if runner is None:
        return []
    prep = ProbePrep(
        timeout=timeout,
        java_classpaths=java_classpaths,
        dotnet_sdks=dotnet_sdks or {},
        mono_client=mono_client[0],
        mono_client_error=mono_client[1],
    )
    runs: list[ClientRun] = runner(rt, credentials, prep)
    return runs


async def prepare_mono_client(
    runtimes: Sequence[RuntimeFacts], workdir: Path, env: Mapping[str, str], timeout: float
) -> tuple[Path | None, str]:
    """probe.cs compiled once with `mcs` into probe.exe (every Mono runs the same bytes); or why not."""
    monos = [rt for rt in runtimes if rt.kind == "mono"]
    if not monos:
        return None, ""
    mcs = find_mcs(Path(monos[0].path), env)
    if mcs is None:
        return None, "not probed: no mcs (C# compiler, Debian mono-mcs) to build the HttpWebRequest client"
    exe = workdir / "mono-probe.exe"
    result = await run_process([str(mcs), "-nologo", f"-out:{exe}", client_file("probe.cs")], env, timeout)
    if result.exit_code != 0:
        return None, f"mcs failed: {_first_line(result.stdout) or _first_line(result.stderr)}"
    return exe, ""


async def _compile_java_client(
    javac: Path, release: int, workdir: Path, env: Mapping[str, str], timeout: float
) -> tuple[Path | None, str]:
    """Compile Probe.java once per class-file release; returns (classpath, error)."""
    out = workdir / f"java-release-{release}"
    out.mkdir(exist_ok=True)
    source = client_file("Probe.java")
    result = await run_process([str(javac), "--release", str(release), "-d", str(out), source], env, timeout)
    if result.exit_code != 0:
        # javac 8 and older have no --release.
        flag = f"1.{release}" if release < 9 else str(release)
        result = await run_process(
            [str(javac), "-source", flag, "-target", flag, "-d", str(out), source], env, timeout
        )
    if result.exit_code != 0:
        return None, f"javac failed: {_first_line(result.stderr) or _first_line(result.stdout)}"
    return out, ""


async def prepare_java_clients(
    runtimes: Sequence[RuntimeFacts], workdir: Path, env: Mapping[str, str], timeout: float
) -> tuple[dict[str, Path | None], dict[str, str]]:
    """Classpaths (None: launch the source file) and errors per Java runtime path.

    The client is compiled once with any javac for class-file release 8 (or older for older JDKs), so
    every JDK runs the same bytes; JDKs of 11 and later fall back to source launch without a javac."""
    classpaths: dict[str, Path | None] = {}
    errors: dict[str, str] = {}
    compiled: dict[int, tuple[Path | None, str]] = {}
    for rt in runtimes:
        if rt.kind != "java" or rt.path in classpaths:
            continue
        major = java_major(rt.version)
        release = 8 if major is None or major >= 8 else major
        javac = find_javac(rt, runtimes)
        if javac is not None and release not in compiled:
            compiled[release] = await _compile_java_client(javac, release, workdir, env, timeout)
        classpath, error = compiled.get(release, (None, "no javac found to compile the Java client"))
        if classpath is None and (major is None or major >= JAVA_SOURCE_LAUNCH_MIN):
            classpaths[rt.path], errors[rt.path] = None, ""  # `java Probe.java` works here
        else:
            classpaths[rt.path], errors[rt.path] = classpath, error
    return classpaths, errors


async def has_dotnet_sdk(rt: RuntimeFacts, env: Mapping[str, str], timeout: float) -> bool:
    """`dotnet --list-sdks` prints one line per installed SDK; a runtime-only install prints none."""
    result = await run_process([str(dotnet_binary(rt)), "--list-sdks"], env, timeout)
    return result.exit_code == 0 and bool(result.stdout.strip())


async def run_client(
    run: ClientRun, credentials: CaptureCredentials, env: Mapping[str, str], timeout: float
) -> list[CaptureFacts]:
    if run.unavailable:
        return facts_for_run(run, (), None)
    captures: list[Capture] = []
    token = new_token()  # the client and its child processes carry it: no other connection is theirs
    async with CaptureServer(
        LOOPBACK_HOSTS, 0, captures.append, credentials, io_timeout=timeout, token=token
    ) as server:
        argv = run.resolved_argv(CLIENT_HOST, server.port)
        result = await run_process(argv, {**env, **run.env, TOKEN_ENV: token}, timeout)
        await server.settle(timeout=5.0)
    return facts_for_run(run, captures, result)


async def probe_runtimes_async(
    runtimes: Sequence[RuntimeFacts],
    timeout: float = DEFAULT_TIMEOUT,
    *,
    env: Mapping[str, str] | None = None,
    concurrency: int = 3,
) -> list[CaptureFacts]:
    """Run every default client of every runtime against its own listener; facts in runtime order."""
    base_env = dict(os.environ if env is None else env)
    limit = asyncio.Semaphore(max(1, concurrency))
    dotnet_targets = dotnet_probe_targets(runtimes)
    runtimes = [rt for rt in runtimes if rt.kind != "dotnet" or rt in dotnet_targets]
    with tempfile.TemporaryDirectory(prefix="tlsaudit-capture-") as tmp:
        workdir = Path(tmp)
        credentials = generate_credentials(workdir / "pki")
        classpaths, compile_errors = await prepare_java_clients(runtimes, workdir, base_env, timeout)
        mono_client = await prepare_mono_client(runtimes, workdir, base_env, timeout)
        sdks = {
            rt.path: await has_dotnet_sdk(rt, base_env, timeout) for rt in runtimes if rt.kind == "dotnet"
        }
        runs: list[ClientRun] = []
        for rt in runtimes:
            for run in client_runs(
                rt,
                credentials,
                timeout=timeout,
                java_classpaths=classpaths,
                dotnet_sdks=sdks,
                mono_client=mono_client,
            ):
                error = compile_errors.get(rt.path, "")
                runs.append(
                    run if not error else ClientRun(client=run.client, runtime=rt, argv=(), unavailable=error)
                )

        async def limited(run: ClientRun) -> list[CaptureFacts]:
            async with limit:
                return await run_client(run, credentials, base_env, timeout)

        results = await asyncio.gather(*(limited(r) for r in runs))
    return [facts for group in results for facts in group]


def probe_runtimes(
    runtimes: Sequence[RuntimeFacts],
    timeout: float = DEFAULT_TIMEOUT,
    *,
    env: Mapping[str, str] | None = None,
    concurrency: int = 3,
) -> list[CaptureFacts]:
    """Synchronous entry point for `tlsaudit runtimes --probe` (starts its own event loop)."""
    return asyncio.run(probe_runtimes_async(runtimes, timeout, env=env, concurrency=concurrency))
