"""End to end against real `openssl s_server`s that send a CertificateRequest (`-verify 1`: requested,
`-Verify 1`: required), in TLS 1.2 and in TLS 1.3 (where the request travels encrypted). The fact is
recorded on the endpoint and as an `info` finding; no protocol verdict changes because of it: the cells
equal those of the same server without the request, which conventional clients confirm.
"""

from __future__ import annotations

import pytest

from tests.support.conventional import conventional_statuses
from tests.support.scan_cli import scan_cli
from tests.support.servers import openssl_s_server

pytestmark = pytest.mark.slow

VERSION_ARGS: dict[str, list[str]] = {"tls12": ["-tls1_2"], "tls13": ["-tls1_3"]}
REQUEST_ARGS: dict[str, list[str]] = {"requested": ["-verify", "1"], "required": ["-Verify", "1"]}
CLIENT_CERT_RULE = "endpoint.client-cert-requested"
"""The info rule README names for it (issue 12 asks for an info finding whose id contains client-cert)."""


@pytest.fixture(scope="module")
def plain_verdicts() -> dict[str, dict[str, str]]:
    """Per version set: the cells tlsaudit gives the server without a CertificateRequest, checked against
    conventional clients."""
    verdicts: dict[str, dict[str, str]] = {}
    for name, args in VERSION_ARGS.items():
        with openssl_s_server(args) as server:
            truth = conventional_statuses(server)
            run = scan_cli(server.target, "--no-certificates")
        assert run.statuses() == truth, f"expected {truth}\n{run.describe()}"
        assert "client_certificate" not in run.endpoint, run.describe()
        verdicts[name] = truth
    return verdicts


@pytest.mark.parametrize("request_kind", sorted(REQUEST_ARGS))
@pytest.mark.parametrize("version_set", sorted(VERSION_ARGS))
def test_certificate_request_is_a_recorded_fact_that_changes_no_verdict(
    version_set: str, request_kind: str, plain_verdicts: dict[str, dict[str, str]]
) -> None:
    with openssl_s_server([*VERSION_ARGS[version_set], *REQUEST_ARGS[request_kind]]) as server:
        run = scan_cli(server.target)
    assert run.statuses() == plain_verdicts[version_set], run.describe()
    assert run.endpoint.get("client_certificate") == request_kind, run.describe()
    info = [
        f
        for f in run.report.get("findings", [])
        if "client-cert" in f["rule_id"] and f["severity"] == "info" and f["subject"] == run.endpoint["id"]
    ]
    assert info, f"no info finding about the client certificate\n{run.describe()}"
    assert {f["rule_id"] for f in info} == {CLIENT_CERT_RULE}, info
    assert request_kind in info[0]["message"], info
