"""`tlsaudit fleet` through the real ansible-playbook with `ansible_connection=local` hosts (fast: no SSH),
plus one host whose SSH port on loopback refuses: listed as unreachable, never dropped."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.fleet.support import VENV_BIN, comparable, pinned_env, pyenv_python
from tlsaudit.report import schema_errors


def _ansible() -> None:
    if not (VENV_BIN / "ansible-playbook").is_file():
        pytest.fail("ansible-playbook not installed (pip install -e '.[test,fleet]', make venv)")


def _path_without_python3(directory: Path) -> Path:
    """/usr/bin as symlinks, less every python3*, plus `python2` (pyenv's 2.7)."""
    directory.mkdir()
    for entry in Path("/usr/bin").iterdir():
        if not entry.name.startswith("python"):
            (directory / entry.name).symlink_to(entry)
    (directory / "python2").symlink_to(pyenv_python("2.7"))
    return directory


def test_fleet_over_local_connections_lists_every_host(tmp_path: Path) -> None:
    _ansible()
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        "[linux]\n"
        "alpha ansible_connection=local\n"
        "beta ansible_connection=local\n"
        "[gone]\n"
        # a closed port on loopback: the SSH connection is refused at once
        "gamma ansible_host=127.0.0.1 ansible_port=9 ansible_connection=ssh ansible_ssh_timeout=5\n",
        encoding="utf-8",
    )
    # PATH without python3: the playbook falls back to python2 (Python 2.7 runs the collector)
    env = pinned_env(tmp_path, PATH=str(_path_without_python3(tmp_path / "bin")))
    report_json, junit, kept = tmp_path / "fleet.json", tmp_path / "fleet.xml", tmp_path / "facts"
    done = subprocess.run(
        [
            str(VENV_BIN / "tlsaudit"),
            "fleet",
            "--inventory",
            str(inventory),
            "--forks",
            "3",
            "-q",
            "--keep-facts",
            str(kept),
            "-o",
            str(report_json),
            "-o",
            str(junit),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # the JVM pin fails a rule on both local hosts
    report = json.loads(report_json.read_text(encoding="utf-8"))
    assert schema_errors(report) == []
    hosts = {h["host"]: h for h in report["hosts"]}
    assert sorted(hosts) == ["alpha", "beta", "gamma"]
    assert hosts["gamma"]["status"] == "unreachable" and hosts["gamma"]["verdict"] == "error"
    assert "Connection refused" in hosts["gamma"]["reason"]
    for name in ("alpha", "beta"):
        host = hosts[name]
        assert host["status"] == "assessed" and host["os"]["system"] == "Linux" and host["collected_at"]
        assert host["runtimes"] and all(rt["id"].startswith(f"{name}: ") for rt in host["runtimes"])
        assert host["worst_finding"]["status"] == "fail"
        assert host["collector_python"].startswith("2.7."), "python3 absent: python2 ran the collector"
    assert [comparable(rt) for rt in hosts["alpha"]["runtimes"]] == [
        comparable(rt) for rt in hosts["beta"]["runtimes"]
    ]
    for finding in report["findings"]:
        assert finding["subject"].split(": ", 1)[0] in hosts
    pinned = [
        r
        for r in report["summary"]["fleet"]["by_rule"]
        if r["rule_id"] == "runtime.java.client-protocols-pinned-legacy"
    ]
    assert pinned and pinned[0]["hosts"] == 2 and pinned[0]["kinds"] == ["java"]
    assert report["summary"]["fleet"]["unreachable"] == 1
    # JUnit marks the unreachable host as an error
    errors = [
        case.get("name", "")
        for case in ET.parse(junit).getroot().iter("testcase")
        if case.find("error") is not None
    ]
    assert any("fleet.host-not-assessed: gamma" in name for name in errors)
    # the kept per-host documents judge the same again with `tlsaudit report`
    again = tmp_path / "again.json"
    rejudged = subprocess.run(
        [str(VENV_BIN / "tlsaudit"), "report", *sorted(map(str, kept.glob("*.json"))), "-o", str(again)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert rejudged.returncode == 1, rejudged.stderr
    judged_again = json.loads(again.read_text(encoding="utf-8"))["runtimes"]
    assert [rt["id"] for rt in judged_again] == [rt["id"] for rt in report["runtimes"]]
    assert [comparable(rt) for rt in judged_again] == [comparable(rt) for rt in report["runtimes"]]


def test_fleet_without_a_matching_host_is_a_usage_error(tmp_path: Path) -> None:
    _ansible()
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[linux]\nalpha ansible_connection=local\n", encoding="utf-8")
    done = subprocess.run(
        [str(VENV_BIN / "tlsaudit"), "fleet", "-i", str(inventory), "--limit", "nomatch", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
