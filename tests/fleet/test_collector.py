"""The fleet collector: Python 2.7/3.6+ per vermin and in fact, never crashing, the same gathering as the
inspectors, and the same facts as `tlsaudit runtimes` once the controller reads its output."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fleet.support import (
    COLLECTOR,
    VENV_BIN,
    comparable,
    pinned_env,
    pyenv_python,
    pyenv_pythons,
    run_collector,
)
from tlsaudit.fleet import collector
from tlsaudit.fleet.observed import runtimes_from_observations
from tlsaudit.inspectors import browser, curl, dotnet, mono, node, openssl, php, python
from tlsaudit.inspectors.host import FILES_DIR
from tlsaudit.inspectors.java_probe import CLASS_NAME, probe_class_bytes
from tlsaudit.report import schema_errors


def test_vermin_finds_the_collector_valid_on_python_27_and_36() -> None:
    vermin = VENV_BIN / "vermin"
    if not vermin.is_file():
        pytest.fail("vermin not installed (pip install -e '.[test]')")
    done = subprocess.run(
        [str(vermin), "--target=2.7-", "--target=3.6-", "--no-tips", "--violations", str(COLLECTOR)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_collector_runs_what_the_inspectors_run() -> None:
    """The commands, snippets, probe class and name patterns the collector uses are the inspectors' own
    (discovery itself is checked on this machine by the equality tests below)."""
    assert collector.PHP_SNIPPET == php.SNIPPET
    assert collector.PYTHON_SNIPPET == python.SNIPPET
    assert collector.NODE_SNIPPET == node.SNIPPET
    assert collector.JAVA_PROBE_CLASS == CLASS_NAME
    assert base64.b64decode(collector.JAVA_PROBE_B64) == probe_class_bytes()
    assert collector.FILES_DIR == FILES_DIR
    assert php._PHP_NAME.pattern == collector.PHP_NAME
    assert python._PYTHON_NAME.pattern == collector.PYTHON_NAME
    assert node._NODE_NAME.pattern == collector.NODE_NAME
    assert curl._CURL_NAME.pattern == collector.CURL_NAME
    assert openssl._OPENSSL_NAME.pattern == collector.OPENSSL_NAME
    assert browser._BINARY_NAMES.pattern == collector.BROWSER_NAMES
    assert collector.BROWSER_PLACES == browser._USUAL_PLACES
    assert browser._EXEC_LINE.pattern == collector.BROWSER_EXEC_LINE
    assert browser._SCRIPT_LIMIT == collector.BROWSER_SCRIPT_LIMIT
    assert collector.LIBSSL_GLOBS == dotnet.LIBSSL_GLOBS
    assert mono._MONO_NAME.pattern == collector.MONO_NAME
    assert tuple(mono._SYSTEM_MONOS) == collector.MONO_PLACES
    assert set(collector.KINDS) == set(__import__("tlsaudit.inspectors", fromlist=["INSPECTORS"]).INSPECTORS)


def test_a_runtime_that_misbehaves_is_recorded_not_fatal(tmp_path: Path) -> None:
    """Programs that are killed, print binary garbage or cannot be read: the collector still prints one
    document and exits 0, and each becomes a runtime that was not assessed on the controller."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "node").write_text("#!/bin/sh\nkill -9 $$\n", encoding="utf-8")
    (bin_dir / "curl").write_text("#!/bin/sh\nhead -c 4000 /dev/urandom\n", encoding="utf-8")
    for script in bin_dir.iterdir():
        script.chmod(0o755)
    unreadable = tmp_path / "unreadable.cnf"
    unreadable.mkdir()  # a directory where OPENSSL_CONF names a file
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "OPENSSL_CONF": str(unreadable)}
    document = run_collector(pyenv_python("2.7"), env)
    facts = {rt.path: rt for rt in runtimes_from_observations(document)}
    killed = facts[str(bin_dir / "node")]
    assert "killed by signal SIGKILL" in str(killed.details["inspect_error"])
    garbage = facts[str(bin_dir / "curl")]
    assert "binary or undecodable" in str(garbage.details["inspect_error"])
    openssl_cli = facts["/usr/bin/openssl"]
    assert openssl_cli.details["config_exists"] is False


@pytest.mark.slow
def test_the_collector_runs_under_every_python_here(tmp_path: Path) -> None:
    env = pinned_env(tmp_path)
    pythons = [*pyenv_pythons(), Path("/usr/bin/python3"), Path(sys.executable)]
    documents = {str(p): run_collector(p, env) for p in pythons}
    targets = {json.dumps(d["targets"], sort_keys=True) for d in documents.values()}
    assert len(targets) == 1, "every Python finds the same runtimes"
    for path, document in documents.items():
        assert document["format"] == "tlsaudit-collector", path
        assert document["errors"] == [], path
        assert document["targets"], path
        assert document["env"]["JAVA_TOOL_OPTIONS"] == "-Djdk.tls.client.protocols=TLSv1"


@pytest.mark.slow
@pytest.mark.parametrize("version", ["2.7", "3.6"])
def test_runtimes_and_the_collector_give_the_same_runtime_objects(tmp_path: Path, version: str) -> None:
    """`tlsaudit runtimes --format json` here, and the collector's output (run by the oldest Pythons it
    supports) judged by `tlsaudit report`, give the same runtime objects: facts, evidence, readiness and
    verdict; only the host named in `id` differs."""
    env = {**pinned_env(tmp_path), "TLSAUDIT_TEST": "1"}
    local_json, fleet_json, observed = tmp_path / "local.json", tmp_path / "fleet.json", tmp_path / "obs.json"
    tlsaudit = str(VENV_BIN / "tlsaudit")
    local = subprocess.run(
        [tlsaudit, "runtimes", "-q", "--no-services", "--no-processes", "-o", str(local_json)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert local.returncode in (0, 1, 3), local.stderr
    observed.write_text(json.dumps(run_collector(pyenv_python(version), env)), encoding="utf-8")
    judged = subprocess.run(
        [tlsaudit, "report", str(observed), "-o", str(fleet_json)],
        env={**os.environ, "PATH": env["PATH"]},
        capture_output=True,
        text=True,
        check=False,
    )
    assert judged.returncode in (0, 1, 3), judged.stderr
    here = json.loads(local_json.read_text(encoding="utf-8"))
    there = json.loads(fleet_json.read_text(encoding="utf-8"))
    assert schema_errors(there) == []
    # Mono: the collector does not build Mono's C# TLS probe on the host yet, so only its version is known
    assert [(rt["kind"], rt["path"], rt.get("version")) for rt in there["runtimes"]] == [
        (rt["kind"], rt["path"], rt.get("version")) for rt in here["runtimes"]
    ]
    assert [comparable(rt) for rt in there["runtimes"] if rt["kind"] != "mono"] == [
        comparable(rt) for rt in here["runtimes"] if rt["kind"] != "mono"
    ]
    for rt in there["runtimes"]:
        if rt["kind"] == "mono":
            assert "not run by the fleet collector" in rt["details"]["probe_error"]
    (host,) = there["hosts"]
    assert host["status"] == "assessed" and host["runtimes"] == there["runtimes"]
    pinned = [rt for rt in there["runtimes"] if rt["details"].get("pinned_client_protocols") == ["TLSv1"]]
    assert pinned, "the JVM option pin reached the facts"
    assert any(
        rt["details"].get("min_version") == "TLSv1.0" for rt in there["runtimes"] if rt["kind"] == "openssl"
    )

    def findings(report: dict[str, object]) -> list[tuple[str, str, str]]:
        out = []
        for f in report["findings"]:  # type: ignore[attr-defined]
            if " mono " in f" {f['subject']}":
                continue
            subject = (
                f["subject"].split(": ", 1)[1]
                if f["subject"].startswith(host["host"] + ": ")
                else f["subject"]
            )
            out.append((f["rule_id"], f["status"], subject))
        return sorted(out)

    assert findings(there) == findings(here)
    assert all(
        f["subject"].startswith(host["host"] + ": ")
        for f in there["findings"]
        if f["subject_kind"] == "runtime"
    )
