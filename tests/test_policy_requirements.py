"""Each shipped policy lists the facts it needs and cites its standard; the retired PCI DSS id is an alias
that says so; a fact that was not collected makes a rule `error`, never `skipped`."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from pathlib import Path

import pytest

from tlsaudit.engine import available_policies, condition_facts, evaluate, load_ruleset, resolve_policy
from tlsaudit.errors import RuleFileError
from tlsaudit.models import (
    EndpointFacts,
    FindingStatus,
    HttpCheck,
    HttpOutcome,
    ProtocolResult,
    ProtocolStatus,
    TlsVersion,
)

SHIPPED = sorted(available_policies())


@pytest.mark.parametrize("name", SHIPPED)
def test_policy_lists_every_fact_its_rules_need(name: str) -> None:
    ruleset = load_ruleset(name)
    assert ruleset.policy.facts, f"{name} lists no facts"
    for rule in ruleset.rules:
        needed = condition_facts(rule.when) + (condition_facts(rule.only_if) if rule.only_if else [])
        for fact in needed:
            assert any(fnmatch.fnmatchcase(fact, p) for p in ruleset.policy.facts), (name, rule.id, fact)


@pytest.mark.parametrize("name", SHIPPED)
def test_policy_citations_are_public_and_name_selected_rules(name: str) -> None:
    ruleset = load_ruleset(name)
    selected = {r.id for r in ruleset.rules}
    for rule_id, clause in ruleset.policy.citations.items():
        assert rule_id in selected, (name, rule_id)
        assert clause.strip()


def test_pci_dss_3_2_is_an_alias_and_cannot_hide_settings(tmp_path: Path) -> None:
    alias = resolve_policy("pci-dss-3.2")
    assert (alias.id, alias.alias) == ("pci-dss-4.0.1", "pci-dss-3.2")
    assert "retired" in alias.title
    bad = tmp_path / "bad.toml"
    bad.write_text('[policy]\nid = "x"\ntitle = "t"\nalias_of = "pci-dss-4.0.1"\ninclude = ["endpoint.*"]\n')
    with pytest.raises(RuleFileError, match="alias policy sets only"):
        resolve_policy(bad)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('[policy]\nid = "x"\ntitle = "t"\nalias_of = "nope"\n')
    with pytest.raises(RuleFileError, match="alias of an unknown policy"):
        resolve_policy(unknown)


def test_bad_fact_pattern_and_citation_are_load_errors(tmp_path: Path) -> None:
    facts = tmp_path / "facts.toml"
    facts.write_text('[policy]\nid = "x"\ntitle = "t"\nfacts = ["no_such.*"]\n')
    with pytest.raises(RuleFileError, match="names no known fact"):
        resolve_policy(facts)
    cite = tmp_path / "cite.toml"
    cite.write_text('[policy]\nid = "x"\ntitle = "t"\n[policy.citations]\n"endpoint.nope" = "x"\n')
    with pytest.raises(RuleFileError, match="citation of an unknown rule"):
        load_ruleset(cite)


def test_rules_show_cites_the_clause_of_each_policy() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "tlsaudit", "rules", "show", "endpoint.tls10-accepted"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "cited by pci-dss-4.0.1: PCI DSS v4.0.1 Requirement 4.2.1" in shown
    assert "cited by nist-800-52r2: NIST SP 800-52r2 3.1" in shown
    assert "cited by mozilla-intermediate: Mozilla Server Side TLS 6.0" in shown


def _tls12_endpoint(**changes: object) -> EndpointFacts:
    protocols = {
        v: ProtocolResult(
            status=ProtocolStatus.ACCEPTED if v == TlsVersion.TLSv1_2 else ProtocolStatus.REJECTED
        )
        for v in TlsVersion
    }
    return EndpointFacts(
        target="h",
        host="h.example",
        port=443,
        ip="192.0.2.1",
        sni="h.example",
        protocols=protocols,
        **changes,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("name", ["mozilla-intermediate", "mozilla-modern"])
def test_facts_not_collected_are_errors_never_skipped(name: str) -> None:
    ruleset = load_ruleset(name)
    # No HTTP check and no stapling check made: not assessed.
    found = {f.rule_id: f for f in evaluate(ruleset, endpoints=[_tls12_endpoint()]).findings}
    for rule_id in ("endpoint.hsts-missing", "endpoint.ocsp-stapled-invalid"):
        assert found[rule_id].status == FindingStatus.ERROR, found[rule_id]
        assert "could not be assessed" in found[rule_id].message
    # The HTTP request failed (timeout): still not assessed.
    failed = _tls12_endpoint(http=HttpCheck(outcome=HttpOutcome.FAILED, detail="timeout"))
    found = {f.rule_id: f for f in evaluate(ruleset, endpoints=[failed]).findings}
    assert found["endpoint.hsts-missing"].status == FindingStatus.ERROR
    # Not an HTTP service: HSTS does not apply.
    other = _tls12_endpoint(http=HttpCheck(outcome=HttpOutcome.NOT_HTTP, detail="* OK"))
    found = {f.rule_id: f for f in evaluate(ruleset, endpoints=[other]).findings}
    assert found["endpoint.hsts-missing"].status == FindingStatus.SKIPPED


def test_drown_flags_the_tls_endpoint_that_shares_its_key_with_an_sslv2_endpoint() -> None:
    """Two endpoints of one report serve the same key; one accepts SSLv2 (no real SSLv2 server exists for
    a current OpenSSL: the facts are built from a real certificate and the two protocol verdicts)."""
    from tests.probe.pki import make_leaf, make_pki
    from tlsaudit.audit import Collected, make_report
    from tlsaudit.probe.certificates import TrustAnchors, analyse_chain

    pki = make_pki()
    leaf = make_leaf(pki.intermediate)
    other = make_leaf(pki.intermediate, key_kind="p256")
    anchors = TrustAnchors(system=(), extra=(pki.root.cert,))
    cert = analyse_chain([leaf.der, pki.intermediate.der], hostname="localhost", anchors=anchors)
    other_cert = analyse_chain([other.der, pki.intermediate.der], hostname="localhost", anchors=anchors)
    sslv2 = _tls12_endpoint(certificate=cert)
    sslv2 = EndpointFacts(
        target="old",
        host="old.example",
        port=443,
        ip="192.0.2.9",
        sni=None,
        protocols={**sslv2.protocols, TlsVersion.SSLv2: ProtocolResult(status=ProtocolStatus.ACCEPTED)},
        certificate=cert,
    )
    sharing = _tls12_endpoint(certificate=cert)
    own_key = EndpointFacts(
        target="n", host="n.example", port=443, ip="192.0.2.2", sni=None, protocols=sharing.protocols,
        certificate=other_cert,
    )  # fmt: skip
    report = make_report(load_ruleset("sage-intacct-2018"), Collected(endpoints=[sslv2, sharing, own_key]))
    drown = {f["subject"]: f for f in report["findings"] if f["rule_id"] == "endpoint.drown"}
    assert drown[sslv2.subject]["status"] == "fail"
    assert drown[sharing.subject]["status"] == "fail" and sslv2.subject in drown[sharing.subject]["message"]
    assert drown[own_key.subject]["status"] == "pass"
    shared = [ep for ep in report["endpoints"] if ep["id"] == sharing.subject]
    assert shared[0]["key_shared_with_sslv2"] == [sslv2.subject]
