"""Which default HTTPS clients each runtime has, and the argv that runs each one.

A client is run as its runtime would run in production: the user's environment is inherited
(JAVA_TOOL_OPTIONS, OPENSSL_CONF, HOME and its .curlrc, ...). The only addition is trust in the
capture CA, given through each client's own trust setting, none of which changes version behaviour.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tlsaudit.capture.certs import CaptureCredentials
from tlsaudit.models import RuntimeFacts

CLIENTS_DIR = Path(__file__).with_name("clients")
JAVA_SOURCE_LAUNCH_MIN = 11  # JEP 330: `java Probe.java`


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientRun:
    """One client of one runtime. `argv` may hold `{url}`, `{host}` and `{port}` placeholders."""

    client: str
    runtime: RuntimeFacts
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    # Set when the client cannot be run here; the reason is recorded instead of a capture.
    unavailable: str = ""

    def resolved_argv(self, host: str, port: int) -> list[str]:
        url = f"https://{host}:{port}/"
        return [
            a.replace("{url}", url).replace("{host}", host).replace("{port}", str(port)) for a in self.argv
        ]


def client_file(name: str) -> str:
    return str(CLIENTS_DIR / name)


def java_binary(rt: RuntimeFacts) -> Path:
    path = Path(rt.path)
    return path / "bin" / "java" if path.is_dir() else path


def java_major(version: str | None) -> int | None:
    """8 for `1.8.0_292`, 17 for `17.0.15+6`, None when unreadable."""
    if not version:
        return None
    m = re.match(r"\s*(\d+)(?:\.(\d+))?", version)
    if not m:
        return None
    major = int(m.group(1))
    if major == 1 and m.group(2):
        return int(m.group(2))
    return major


def find_javac(rt: RuntimeFacts, others: Sequence[RuntimeFacts]) -> Path | None:
    """A javac to compile the Java client for a runtime that cannot launch source files.

    The runtime's own javac first, then any other JDK's (compiled with `--release`)."""
    own = java_binary(rt).parent / "javac"
    if own.is_file():
        return own
    candidates = [java_binary(o).parent / "javac" for o in others if o.kind == "java"]
    candidates += sorted(Path("/usr/lib/jvm").glob("*/bin/javac"))
    which = shutil.which("javac")
    if which:
        candidates.append(Path(which))
    for c in candidates:
        if c.is_file():
            return c
    return None


def java_runs(rt: RuntimeFacts, credentials: CaptureCredentials, classpath: Path | None) -> list[ClientRun]:
    java = str(java_binary(rt))
    trust: list[str] = []
    if credentials.truststore_p12 is not None:
        trust = [
            f"-Djavax.net.ssl.trustStore={credentials.truststore_p12}",
            f"-Djavax.net.ssl.trustStorePassword={credentials.truststore_password}",
            "-Djavax.net.ssl.trustStoreType=PKCS12",
        ]
    launch = ["-cp", str(classpath), "Probe"] if classpath is not None else [client_file("Probe.java")]
    return [
        ClientRun(
            client="java HttpsURLConnection",
            runtime=rt,
            argv=(java, *trust, *launch, "https", "{url}"),
        ),
        ClientRun(
            client="java SSLSocket (default SSLContext)",
            runtime=rt,
            argv=(java, *trust, *launch, "socket", "{url}"),
        ),
    ]


def php_runs(rt: RuntimeFacts, credentials: CaptureCredentials) -> list[ClientRun]:
    trust: list[str] = []
    if credentials.ca_file is not None:
        trust = ["-d", f"curl.cainfo={credentials.ca_file}", "-d", f"openssl.cafile={credentials.ca_file}"]
    script = client_file("probe.php")
    return [
        ClientRun(client="php ext/curl", runtime=rt, argv=(rt.path, *trust, script, "curl", "{url}")),
        ClientRun(
            client="php streams https://", runtime=rt, argv=(rt.path, *trust, script, "https", "{url}")
        ),
        ClientRun(client="php streams tls://", runtime=rt, argv=(rt.path, *trust, script, "tls", "{url}")),
    ]


def python_runs(rt: RuntimeFacts, credentials: CaptureCredentials) -> list[ClientRun]:
    env = {"SSL_CERT_FILE": str(credentials.ca_file)} if credentials.ca_file else {}
    return [
        ClientRun(
            client="python urllib", runtime=rt, argv=(rt.path, client_file("probe.py"), "{url}"), env=env
        )
    ]


def node_runs(rt: RuntimeFacts, credentials: CaptureCredentials) -> list[ClientRun]:
    env = {"NODE_EXTRA_CA_CERTS": str(credentials.ca_file)} if credentials.ca_file else {}
    return [
        ClientRun(client="node https", runtime=rt, argv=(rt.path, client_file("probe.js"), "{url}"), env=env)
    ]


def curl_runs(rt: RuntimeFacts, credentials: CaptureCredentials, timeout: float) -> list[ClientRun]:
    trust = ("--cacert", str(credentials.ca_file)) if credentials.ca_file else ()
    argv = (
        rt.path,
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "OK HTTP %{http_code}\n",
        "--max-time",
        str(max(1, int(timeout))),
        *trust,
        "{url}",
    )
    return [ClientRun(client="curl", runtime=rt, argv=argv)]


def openssl_runs(rt: RuntimeFacts, credentials: CaptureCredentials) -> list[ClientRun]:
    trust = ("-CAfile", str(credentials.ca_file)) if credentials.ca_file else ()
    argv = (rt.path, "s_client", "-connect", "{host}:{port}", "-servername", "{host}", *trust)
    return [ClientRun(client="openssl s_client", runtime=rt, argv=argv)]


def dotnet_binary(rt: RuntimeFacts) -> Path:
    """The `dotnet` host of a runtime given as the host itself, its folder, or a shared framework
    folder (`<root>/shared/Microsoft.NETCore.App/8.0.8`, as `dotnet --list-runtimes` names them)."""
    path = Path(rt.path)
    if not path.is_dir():
        return path
    if (path / "dotnet").is_file() or len(path.parents) < 3:
        return path / "dotnet"
    return path.parents[2] / "dotnet"


def _version_key(version: str | None) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version or "")[:4])


def dotnet_probe_targets(runtimes: Sequence[RuntimeFacts]) -> list[RuntimeFacts]:
    """One .NET runtime per dotnet host: the newest Microsoft.NETCore.App, which `dotnet fsi` rolls
    forward to anyway. The .NET Framework (Windows registry) and ASP.NET Core entries are not probed."""
    best: dict[Path, RuntimeFacts] = {}
    for rt in runtimes:
        if rt.kind != "dotnet" or rt.details.get("product") == "framework":
            continue
        if rt.details.get("runtime_name") not in (None, "Microsoft.NETCore.App"):
            continue
        host = dotnet_binary(rt)
        if host not in best or _version_key(rt.version) > _version_key(best[host].version):
            best[host] = rt
    return list(best.values())


def dotnet_runs(rt: RuntimeFacts, credentials: CaptureCredentials, has_sdk: bool) -> list[ClientRun]:
    """HttpClient through `dotnet fsi` (SDK only). On Linux .NET uses OpenSSL, so SSL_CERT_FILE
    carries the trust; on Windows (Schannel) the CA would have to be in the certificate store."""
    dotnet = str(dotnet_binary(rt))
    if not has_sdk:
        return [
            ClientRun(
                client="dotnet HttpClient",
                runtime=rt,
                argv=(),
                unavailable="not probed: no .NET SDK (dotnet fsi) to run the HttpClient client",
            )
        ]
    env = {"SSL_CERT_FILE": str(credentials.ca_file), "DOTNET_CLI_TELEMETRY_OPTOUT": "1"}
    if credentials.ca_file is None:
        env = {"DOTNET_CLI_TELEMETRY_OPTOUT": "1"}
    return [
        ClientRun(
            client="dotnet HttpClient",
            runtime=rt,
            argv=(dotnet, "fsi", "--quiet", client_file("probe.fsx"), "{url}"),
            env=env,
        )
    ]


def httpwebrequest_runs(
    rt: RuntimeFacts, client: Path | None, error: str, protocol: str = ""
) -> list[ClientRun]:
    """HttpWebRequest of Mono, through the capture client compiled once with `mcs` (`client`: probe.exe).
    `protocol`: a SecurityProtocolType the client sets first (e.g. `Tls`, an application's pin)."""
    name = "mono HttpWebRequest" + (f" (SecurityProtocolType.{protocol})" if protocol else "")
    if client is None:
        return [ClientRun(client=name, runtime=rt, argv=(), unavailable=error or "no probe client built")]
    argv: tuple[str, ...] = (rt.path, str(client), "{url}", *((protocol,) if protocol else ()))
    return [ClientRun(client=name, runtime=rt, argv=argv)]


# ------------------------------------------------------------------ descriptor entry points
@dataclass(frozen=True, slots=True, kw_only=True)
class ProbePrep:
    """What `runtimes --probe` prepared once for all runtimes: compiled clients, SDK checks, the timeout."""

    timeout: float
    java_classpaths: Mapping[str, Path | None] = field(default_factory=dict)
    dotnet_sdks: Mapping[str, bool] = field(default_factory=dict)
    mono_client: Path | None = None
    mono_client_error: str = ""


# One per runtime-kind descriptor (tlsaudit/runtime_kinds.py `probe`): (runtime, credentials, prep) -> runs.
def probe_php(rt: RuntimeFacts, credentials: CaptureCredentials, prep: ProbePrep) -> list[ClientRun]:
    return php_runs(rt, credentials)


def probe_java(rt: RuntimeFacts, credentials: CaptureCredentials, prep: ProbePrep) -> list[ClientRun]:
    return java_runs(rt, credentials, prep.java_classpaths.get(rt.path))


def probe_python(rt: RuntimeFacts, credentials: CaptureCredentials, prep: ProbePrep) -> list[ClientRun]:
    return python_runs(rt, credentials)


def probe_node(rt: RuntimeFacts, credentials: CaptureCredentials, prep: ProbePrep) -> list[ClientRun]:
    return node_runs(rt, credentials)


def probe_curl(rt: RuntimeFacts, credentials: CaptureCredentials, prep: ProbePrep) -> list[ClientRun]:
    return curl_runs(rt, credentials, prep.timeout)


def probe_openssl(rt: RuntimeFacts, credentials: CaptureCredentials, prep: ProbePrep) -> list[ClientRun]:
    return openssl_runs(rt, credentials)


def probe_dotnet(rt: RuntimeFacts, credentials: CaptureCredentials, prep: ProbePrep) -> list[ClientRun]:
    return dotnet_runs(rt, credentials, prep.dotnet_sdks.get(rt.path, False))


def probe_mono(rt: RuntimeFacts, credentials: CaptureCredentials, prep: ProbePrep) -> list[ClientRun]:
    return httpwebrequest_runs(rt, prep.mono_client, prep.mono_client_error)
