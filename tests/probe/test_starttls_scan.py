"""Version detection through STARTTLS: real PostgreSQL and Dovecot, scanned by the command line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.probe import daemons, pki


@pytest.fixture(scope="module")
def leaf() -> pki.Issued:
    return pki.make_leaf(None, names=("localhost", "127.0.0.1"))


def scan(*args: str) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "tlsaudit", "scan", *args, "--format", "json", "--timeout", "5"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return result.returncode, json.loads(result.stdout)


def statuses(report: dict[str, Any]) -> dict[str, str]:
    (endpoint,) = report["endpoints"]
    return {v: r["status"] for v, r in endpoint["protocols"].items()}


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[Path]:
    if daemons.find_pg_bin("postgres") is None or daemons.find_pg_bin("initdb") is None:
        pytest.fail("PostgreSQL server (apt: postgresql) is not installed")
    with daemons.postgres_cluster() as base:
        yield base


def test_postgres_versions_through_starttls(pg_cluster: Path, leaf: pki.Issued) -> None:
    with daemons.postgres_server(pg_cluster, ssl=True, cert_pem=leaf.pem, key_pem=leaf.key_pem) as pg:
        code, report = scan(f"postgres://127.0.0.1:{pg.port}")
    found = statuses(report)
    # PostgreSQL 15 defaults to ssl_min_protocol_version = TLSv1.2.
    assert found["TLSv1.2"] == "accepted" and found["TLSv1.3"] == "accepted"
    assert found["TLSv1.0"] == "rejected" and found["TLSv1.1"] == "rejected" and found["SSLv3"] == "rejected"
    assert report["endpoints"][0]["starttls"] == "postgres"
    assert report["endpoints"][0]["certificate"]["subject"]
    assert code in (0, 1)  # a private CA makes the certificate untrusted, which is a finding, not an error


def test_postgres_by_well_known_port_needs_no_scheme(pg_cluster: Path, leaf: pki.Issued) -> None:
    with daemons.postgres_server(pg_cluster, ssl=True, cert_pem=leaf.pem, key_pem=leaf.key_pem) as pg:
        _, report = scan(f"127.0.0.1:{pg.port}", "--starttls", "postgres")
    assert statuses(report)["TLSv1.2"] == "accepted"


def test_postgres_without_ssl_is_a_refusal_never_compliant(pg_cluster: Path, leaf: pki.Issued) -> None:
    with daemons.postgres_server(pg_cluster, ssl=False, cert_pem=leaf.pem, key_pem=leaf.key_pem) as pg:
        code, report = scan(f"postgres://127.0.0.1:{pg.port}")
    assert code == 1
    assert set(statuses(report).values()) == {"unknown"}
    refused = [f for f in report["findings"] if f["rule_id"] == "endpoint.starttls-refused"]
    assert refused and refused[0]["status"] == "fail"


def test_dovecot_imap_versions_through_starttls(leaf: pki.Issued) -> None:
    if shutil.which("dovecot") is None and not Path("/usr/sbin/dovecot").exists():
        pytest.fail("dovecot (apt: dovecot-imapd dovecot-pop3d) is not installed")
    with daemons.dovecot_server(ssl=True, cert_pem=leaf.pem, key_pem=leaf.key_pem) as dc:
        _, imap = scan(f"imap://127.0.0.1:{dc.imap}")
        _, pop3 = scan(f"pop3://127.0.0.1:{dc.pop3}")
    for report in (imap, pop3):
        found = statuses(report)
        assert found["TLSv1.2"] == "accepted", found
        assert found["SSLv2"] == "rejected" and found["SSLv3"] == "rejected"
