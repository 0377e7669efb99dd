"""Capture client profiles from the real clients on this machine (`make profiles`).

Every runtime `tlsaudit runtimes` finds (plus the folders named on the command line) runs its default
HTTPS client against the capture listener; each ClientHello becomes one profile file in the output folder.
Pinned variants run the same client with a setting that narrows it (a JDK with `jdk.tls.client.protocols`).

    python -m tlsaudit.capture.profile_capture OUT_DIR [--java-home DIR]... [--python BIN]...
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import platform
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tlsaudit.capture.certs import generate_credentials
from tlsaudit.capture.legacy_kex import measure_legacy_kex
from tlsaudit.capture.probe import client_runs, prepare_java_clients, run_client
from tlsaudit.capture.process import run_process
from tlsaudit.capture.runners import ClientRun, client_file
from tlsaudit.client_profiles import ClientProfile, profile_document
from tlsaudit.inspectors.base import InspectOptions
from tlsaudit.inspectors.discover import inspect_runtimes
from tlsaudit.models import CaptureFacts, RuntimeFacts
from tlsaudit.runtime_kinds import display_name
from tlsaudit.tls.client_hello_parse import parse_client_hello

# Runtime kinds are named by their descriptors (tlsaudit/runtime_kinds.py); these clients are no kind.
DISPLAY_NAMES = {
    "chromium": "Chromium",
    "firefox": "Firefox",
}
# One word per client kind, for profile ids ("php ext/curl" -> "curl").
CLIENT_WORDS = {
    "java HttpsURLConnection": "https",
    "java SSLSocket (default SSLContext)": "sslsocket",
    "php ext/curl": "curl",
    "php streams https://": "streams",
    "php streams tls://": "tls-stream",
    "python urllib": "urllib",
    "node https": "https",
    "curl": "default",
    "openssl s_client": "s-client",
    "dotnet HttpClient": "httpclient",
    "chromium": "headless",
    "firefox": "headless",
    "mono HttpWebRequest": "httpwebrequest",
    "mono HttpWebRequest (SecurityProtocolType.Tls)": "httpwebrequest-tls10-pinned",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Variant:
    """A pinned setting a client is also captured with."""

    suffix: str  # id suffix, e.g. "tlsv1-pinned"
    env: Mapping[str, str]
    note: str


JAVA_PINNED = Variant(
    suffix="tlsv1-pinned",
    env={"JAVA_TOOL_OPTIONS": "-Djdk.tls.client.protocols=TLSv1"},
    note="jdk.tls.client.protocols=TLSv1: what a Java 7 client offers by default",
)


def _short_version(version: str | None) -> str:
    if not version:
        return "unknown"
    match = re.match(r"\d+(?:\.\d+){0,2}", version)
    return match.group(0) if match else version


def _library(rt: RuntimeFacts) -> str:
    for key in ("tls_library", "openssl_version", "ssl_library"):
        value = rt.details.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def profile_from_capture(
    facts: CaptureFacts, rt: RuntimeFacts, *, variant: Variant | None, captured_at: str
) -> ClientProfile | None:
    if not facts.raw_hello or "#" in facts.client:
        return None  # nothing seen, or a client's second attempt (a fallback retry)
    hello = bytes.fromhex(facts.raw_hello)
    word = CLIENT_WORDS.get(facts.client, re.sub(r"[^a-z0-9]+", "-", facts.client.lower()).strip("-"))
    parts = [rt.kind, _short_version(rt.version), word]
    if variant is not None:
        parts.append(variant.suffix)
    command = f"{facts.client} of {rt.path}"
    if variant is not None:
        command += " with " + " ".join(f"{k}={v}" for k, v in variant.env.items())
    return ClientProfile(
        id="-".join(parts),
        name=DISPLAY_NAMES.get(rt.kind) or display_name(rt.kind),
        version=rt.version or "unknown",
        platform=f"{platform.system()} {platform.machine()}",
        library=_library(rt),
        source="captured",
        captured_with=command,
        captured_at=captured_at,
        note=variant.note if variant is not None else "",
        hello=hello,
        info=parse_client_hello(hello),
    )


def profiles_from_captures(
    captures: Sequence[CaptureFacts], runtimes: Sequence[RuntimeFacts]
) -> list[ClientProfile]:
    """Profiles from what `runtimes --probe` captured on this machine (for `audit --clients local`)."""
    by_subject = {rt.subject: rt for rt in runtimes}
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    profiles: dict[str, ClientProfile] = {}
    for facts in captures:
        rt = by_subject.get(facts.runtime or "")
        if rt is None:
            continue
        profile = profile_from_capture(facts, rt, variant=None, captured_at=today)
        if profile is not None:
            profiles.setdefault(profile.id, profile)
    return list(profiles.values())


async def capture(runtimes: Sequence[RuntimeFacts], timeout: float) -> list[ClientProfile]:
    captured_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    profiles: dict[str, ClientProfile] = {}
    with tempfile.TemporaryDirectory(prefix="tlsaudit-profiles-") as tmp:
        credentials = generate_credentials(Path(tmp))
        classpaths, _errors = await prepare_java_clients(runtimes, Path(tmp), dict(os.environ), timeout)
        runs: list[tuple[ClientRun, Variant | None]] = []
        for rt in runtimes:
            variants: list[Variant | None] = [None, JAVA_PINNED] if rt.kind == "java" else [None]
            for run in client_runs(rt, credentials, timeout=timeout, java_classpaths=classpaths):
                runs += [(run, variant) for variant in variants]
        runs += [(run, None) for run in await extra_runs(Path(tmp), timeout)]
        for run, variant in runs:
            env = {**os.environ, **(variant.env if variant else {})}
            for facts in await run_client(run, credentials, env, timeout):
                profile = profile_from_capture(facts, run.runtime, variant=variant, captured_at=captured_at)
                if profile is None or profile.id in profiles:
                    continue
                kex = await measure_legacy_kex(run, credentials, env, profile.versions, timeout)
                profiles[profile.id] = dataclasses.replace(profile, legacy_kex=kex)
    return sorted(profiles.values(), key=lambda p: p.id)


async def _version(argv: Sequence[str], pattern: str, timeout: float) -> str | None:
    done = await run_process(argv, dict(os.environ), timeout)
    match = re.search(pattern, done.stdout + done.stderr)
    return match.group(1) if match else None


async def extra_runs(workdir: Path, timeout: float) -> list[ClientRun]:
    """Clients that are no runtime `tlsaudit runtimes` inspects: browsers and Mono."""
    runs: list[ClientRun] = []
    runs += await chromium_runs(workdir, timeout)
    runs += await firefox_runs(workdir, timeout)
    runs += await mono_runs(workdir, timeout)
    return runs


def headless_chromium(binary: str, user_data_dir: Path) -> tuple[str, ...]:
    """Headless Chromium that opens only what it is told to (no background connections), accepting the
    throwaway certificate of a local listener."""
    return (
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--ignore-certificate-errors",
        f"--user-data-dir={user_data_dir}",
    )


async def chromium_runs(workdir: Path, timeout: float) -> list[ClientRun]:
    """Headless Chromium pointed at the listener (its own trust store is bypassed for the throwaway CA)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    version = await _version([chromium, "--version"], r"Chromium\s+([\d.]+)", timeout) if chromium else None
    if chromium is None or version is None:
        return []
    runtime = RuntimeFacts(kind="chromium", path=chromium, version=version)
    argv = (*headless_chromium(chromium, workdir / "chromium-profile"), "--dump-dom", "{url}")
    return [ClientRun(client="chromium", runtime=runtime, argv=argv)]


async def firefox_runs(workdir: Path, timeout: float) -> list[ClientRun]:
    """Headless Firefox (ESR): it refuses the throwaway certificate, after sending its hello."""
    firefox = shutil.which("firefox-esr") or shutil.which("firefox")
    version = await _version([firefox, "--version"], r"Firefox\s+([\w.]+)", timeout) if firefox else None
    if firefox is None or version is None:
        return []
    profile_dir = workdir / "firefox-profile"
    profile_dir.mkdir(exist_ok=True)
    runtime = RuntimeFacts(kind="firefox", path=firefox, version=version)
    argv = (
        firefox,
        "--headless",
        "-no-remote",
        "-profile",
        str(profile_dir),
        "--screenshot",
        str(workdir / "firefox.png"),
        "{url}",
    )
    return [ClientRun(client="firefox", runtime=runtime, argv=argv)]


async def mono_runs(workdir: Path, timeout: float) -> list[ClientRun]:
    """Mono's HttpWebRequest, with its defaults and with SecurityProtocolType.Tls (a TLS 1.0-only setting)."""
    mono, mcs = shutil.which("mono"), shutil.which("mcs")
    if mono is None or mcs is None:
        return []
    version = await _version([mono, "--version"], r"version\s+([\d.]+)", timeout)
    exe = workdir / "probe.exe"
    built = await run_process(
        [mcs, "-nologo", f"-out:{exe}", client_file("probe.cs")], dict(os.environ), timeout
    )
    if version is None or built.exit_code != 0:
        return []
    runtime = RuntimeFacts(kind="mono", path=mono, version=version)
    return [
        ClientRun(client="mono HttpWebRequest", runtime=runtime, argv=(mono, str(exe), "{url}")),
        ClientRun(
            client="mono HttpWebRequest (SecurityProtocolType.Tls)",
            runtime=runtime,
            argv=(mono, str(exe), "{url}", "Tls"),
        ),
    ]


def write_profiles(profiles: Sequence[ClientProfile], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for profile in profiles:
        path = out / f"{profile.id}.json"
        path.write_text(json.dumps(profile_document(profile), indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path)
    parser.add_argument("--java-home", action="append", default=[])
    parser.add_argument("--python", action="append", default=[])
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args(argv)
    options = InspectOptions(
        extra_paths={"java": args.java_home, "python": args.python}, timeout=args.timeout, environ=None
    )
    runtimes = [rt for rt in inspect_runtimes(options) if rt.version]
    profiles = asyncio.run(capture(runtimes, args.timeout))
    for path in write_profiles(profiles, args.out):
        print(path)
    return 0 if profiles else 1


if __name__ == "__main__":
    sys.exit(main())
