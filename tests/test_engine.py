"""The rules engine and the shipped endpoint rules and policies, on fixed facts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tlsaudit import engine
from tlsaudit.engine import (
    AllOf,
    AnyOf,
    FactTest,
    Not,
    Unreachable,
    available_policies,
    evaluate,
    evaluate_condition,
    load_ruleset,
)
from tlsaudit.errors import RuleFileError
from tlsaudit.models import (
    EndpointFacts,
    Finding,
    FindingStatus,
    FlawCheck,
    FlawStatus,
    HandshakeFeatures,
    Hsts,
    HttpCheck,
    HttpOutcome,
    KeyExchangeFacts,
    KnownFlaws,
    OcspStapling,
    ProtocolResult,
    ProtocolStatus,
    TlsVersion,
)

A, R, U = ProtocolStatus.ACCEPTED, ProtocolStatus.REJECTED, ProtocolStatus.UNKNOWN


def endpoint(accepted: set[str], unknown: set[str] = frozenset()) -> EndpointFacts:  # type: ignore[assignment]
    protocols = {}
    for v in TlsVersion:
        status = A if v.value in accepted else U if v.value in unknown else R
        protocols[v] = ProtocolResult(status=status, reason="timeout after 5s" if status == U else "")
    assessed = bool(accepted)  # key exchange and handshake features are collected once a version is accepted
    return EndpointFacts(
        target="h",
        host="h.example",
        port=443,
        ip="192.0.2.1",
        sni="h.example",
        protocols=protocols,
        http=HttpCheck(outcome=HttpOutcome.ANSWERED, status=200),
        hsts=Hsts(max_age=63072000),
        ocsp_stapling=OcspStapling(stapled=False),
        key_exchange=HEALTHY_KEY_EXCHANGE if assessed else None,
        handshake=HEALTHY_HANDSHAKE if assessed else None,
        known_flaws=HEALTHY_FLAWS if assessed else None,
    )


# Key exchange and handshake facts that no rule faults: these tests are about protocol versions.
HEALTHY_KEY_EXCHANGE = KeyExchangeFacts(
    groups={TlsVersion.TLSv1_3: ("X25519MLKEM768", "x25519")},
    pq_hybrid=True,
    forward_secrecy=True,
    large_hello_tolerant=True,
)
HEALTHY_HANDSHAKE = HandshakeFeatures(
    secure_renegotiation=True,
    client_renegotiation=False,
    fallback_scsv=True,
    compression=False,
    extended_master_secret=True,
    encrypt_then_mac=True,
    cbc_accepted=True,
    session_id_resumption=False,
    session_ticket_resumption=False,
)

_NOT_VULNERABLE = FlawCheck(status=FlawStatus.NOT_VULNERABLE, reason="checked")
HEALTHY_FLAWS = KnownFlaws(heartbleed=_NOT_VULNERABLE, ccs_injection=_NOT_VULNERABLE, robot=_NOT_VULNERABLE)


def statuses(policy: str, ep: EndpointFacts) -> dict[str, FindingStatus]:
    """The protocol rules' verdicts (these endpoints carry no certificate or suite facts)."""
    ruleset = load_ruleset(policy)
    protocol_rules = tuple(r for r in ruleset.rules if r.applies_to == "endpoint")
    result = evaluate(dataclasses.replace(ruleset, rules=protocol_rules), endpoints=[ep])
    return {f.rule_id: f.status for f in result.findings}


def verdict(findings: dict[str, FindingStatus]) -> str:
    values = set(findings.values())
    for status in ("fail", "error", "warn"):
        if FindingStatus(status) in values:
            return status
    return "pass"


def test_every_policy_loads_and_selects_rules() -> None:
    names = set(available_policies())
    assert {
        "sage-intacct-2018",
        "pci-dss-3.2",
        "nist-800-52r2",
        "rfc-8996",
        "mozilla-intermediate",
        "mozilla-modern",
    } <= names
    for name in names:
        assert load_ruleset(name).rules


@pytest.mark.parametrize(
    ("accepted", "expected"),
    [
        # policy:                sage    pci (an alias of pci-dss-4.0.1)  nist  rfc  moz-int moz-modern
        ({"TLSv1.2"}, ("pass", "pass", "fail", "pass", "pass", "fail")),
        ({"TLSv1.3"}, ("pass", "pass", "pass", "pass", "pass", "pass")),
        ({"TLSv1.2", "TLSv1.3"}, ("pass", "pass", "pass", "pass", "pass", "fail")),
        ({"TLSv1.1", "TLSv1.2"}, ("fail", "fail", "fail", "fail", "fail", "fail")),
        ({"TLSv1.0", "TLSv1.2"}, ("fail", "fail", "fail", "fail", "fail", "fail")),
        ({"TLSv1.1"}, ("fail", "fail", "fail", "fail", "fail", "fail")),
        ({"SSLv3", "TLSv1.0"}, ("fail", "fail", "fail", "fail", "fail", "fail")),
        ({"TLSv1.0"}, ("fail", "fail", "fail", "fail", "fail", "fail")),
    ],
)
def test_policy_verdicts(accepted: set[str], expected: tuple[str, ...]) -> None:
    policies = (
        "sage-intacct-2018",
        "pci-dss-3.2",
        "nist-800-52r2",
        "rfc-8996",
        "mozilla-intermediate",
        "mozilla-modern",
    )
    got = tuple(verdict(statuses(p, endpoint(accepted))) for p in policies)
    assert got == expected


def test_tls11_fails_pci_dss_4_with_medium_severity_and_the_old_id_is_an_alias() -> None:
    ep = endpoint({"TLSv1.1", "TLSv1.2"})
    assert statuses("sage-intacct-2018", ep)["endpoint.tls11-accepted"] == FindingStatus.FAIL
    for policy in ("pci-dss-4.0.1", "pci-dss-3.2"):
        result = evaluate(load_ruleset(policy), endpoints=[ep])
        (finding,) = [f for f in result.findings if f.rule_id == "endpoint.tls11-accepted"]
        assert (finding.status, finding.severity.value) == (FindingStatus.FAIL, "medium")
    alias = load_ruleset("pci-dss-3.2").policy
    assert alias.id == "pci-dss-4.0.1" and alias.alias == "pci-dss-3.2"
    assert "pci-dss-3.2" in alias.title and "retired" in alias.title


@pytest.mark.parametrize(
    ("rule_id", "fires", "quiet"),
    [
        ("endpoint.sslv2-accepted", {"SSLv2", "TLSv1.2"}, {"TLSv1.2"}),
        ("endpoint.sslv3-accepted", {"SSLv3", "TLSv1.2"}, {"TLSv1.2"}),
        ("endpoint.tls10-accepted", {"TLSv1.0", "TLSv1.2"}, {"TLSv1.2"}),
        ("endpoint.tls11-accepted", {"TLSv1.1", "TLSv1.2"}, {"TLSv1.2"}),
        ("endpoint.no-modern-tls", {"TLSv1.0", "TLSv1.1"}, {"TLSv1.3"}),
        ("endpoint.no-tls11-or-higher", {"TLSv1.0"}, {"TLSv1.1"}),
        ("endpoint.tls12-accepted", {"TLSv1.2"}, {"TLSv1.3"}),
        ("endpoint.tls13-not-accepted", {"TLSv1.2"}, {"TLSv1.3"}),
    ],
)
def test_each_endpoint_rule_fires_and_stays_quiet(rule_id: str, fires: set[str], quiet: set[str]) -> None:
    ruleset = load_ruleset(Path(__file__).parent / "data" / "all-rules-policy.toml")
    by_rule = {f.rule_id: f for f in evaluate(ruleset, endpoints=[endpoint(fires)]).findings}
    assert by_rule[rule_id].status == FindingStatus.FAIL
    assert by_rule[rule_id].remediation
    by_rule = {f.rule_id: f for f in evaluate(ruleset, endpoints=[endpoint(quiet)]).findings}
    assert by_rule[rule_id].status == FindingStatus.PASS


def test_unknown_protocol_is_an_error_never_a_pass() -> None:
    ep = endpoint({"TLSv1.2"}, unknown={"TLSv1.0"})
    findings: list[Finding] = list(evaluate(load_ruleset(), endpoints=[ep]).findings)
    tls10 = next(f for f in findings if f.rule_id == "endpoint.tls10-accepted")
    assert tls10.status == FindingStatus.ERROR
    assert "timeout after 5s" in tls10.message


def test_an_endpoint_nothing_answered_gets_one_error_finding() -> None:
    ep = endpoint(set(), unknown={v.value for v in TlsVersion})
    findings = evaluate(load_ruleset("sage-intacct-2018"), endpoints=[ep]).findings
    assert [(f.rule_id, f.status) for f in findings] == [("endpoint.unreachable", FindingStatus.ERROR)]
    assert "could not connect: timeout after 5s" in findings[0].message


@pytest.mark.parametrize(
    ("mode", "status"),
    [
        (Unreachable.ERROR, FindingStatus.ERROR),
        (Unreachable.FAIL, FindingStatus.FAIL),
        (Unreachable.IGNORE, FindingStatus.SKIPPED),
    ],
)
def test_unreachable_mode_decides_the_one_finding(mode: Unreachable, status: FindingStatus) -> None:
    ep = endpoint(set(), unknown={v.value for v in TlsVersion})
    findings = evaluate(load_ruleset(), endpoints=[ep], unreachable=mode).findings
    assert [f.status for f in findings] == [status]


def test_three_valued_logic() -> None:
    facts = {"a": True, "b": None, "n": 5, "l": ("x", "y"), "v": "1.0.1e"}
    t_a = FactTest(fact="a", op="equals", value=True)
    t_b = FactTest(fact="b", op="equals", value=True)
    f_n = FactTest(fact="n", op="gt", value=10)
    assert evaluate_condition(AllOf(parts=(t_a, t_b)), facts, {}) is None
    assert evaluate_condition(AllOf(parts=(f_n, t_b)), facts, {}) is False
    assert evaluate_condition(AnyOf(parts=(t_a, t_b)), facts, {}) is True
    assert evaluate_condition(AnyOf(parts=(f_n, t_b)), facts, {}) is None
    assert evaluate_condition(Not(part=t_b), facts, {}) is None
    assert evaluate_condition(FactTest(fact="b", op="exists", value=False), facts, {}) is True
    assert evaluate_condition(FactTest(fact="l", op="contains", value="y"), facts, {}) is True
    assert evaluate_condition(FactTest(fact="l", op="contains_any", value=["z"]), facts, {}) is False
    assert evaluate_condition(FactTest(fact="n", op="le", value="$limit"), facts, {"limit": 5}) is True
    assert (
        evaluate_condition(FactTest(fact="v", op="version", value="<1.0.1c", scheme="openssl"), facts, {})
        is False
    )
    assert (
        evaluate_condition(FactTest(fact="v", op="version", value="<1.0.1f", scheme="openssl"), facts, {})
        is True
    )
    assert evaluate_condition(FactTest(fact="l", op="matches", value="^y$"), facts, {}) is True


RULE = """
[[rule]]
id = "custom.my-rule"
title = "Mine"
applies_to = "endpoint"
status = "fail"
severity = "high"
message = "x"
when = { fact = "protocol.TLSv1.0", equals = "accepted" }
"""


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (RULE.replace('severity = "high"', 'severity = "high"\ncolour = "red"'), "unknown key(s): colour"),
        (RULE.replace("protocol.TLSv1.0", "protocol.TLSv9"), "unknown fact 'protocol.TLSv9'"),
        (RULE.replace('equals = "accepted"', 'version = ">=banana"'), "bad version specifier"),
        (RULE.replace('"high"', '"urgent"'), "`severity` must be one of"),
        (RULE + RULE, "duplicate rule id"),
        (RULE.replace('message = "x"', 'message = "{nope}"'), "unknown fact {nope}"),
        (RULE.replace('id = "custom.my-rule"', 'id = "Bad Id"'), "rule id"),
        (RULE.replace("when = {", "when = {{"), "invalid TOML"),
        (RULE.replace('equals = "accepted"', 'lt = "$missing"'), "unknown parameter"),
        (
            RULE.replace('when = { fact = "protocol.TLSv1.0", equals = "accepted" }', ""),
            "missing key(s): when",
        ),
    ],
)
def test_broken_rule_files_name_the_place(tmp_path: Path, text: str, fragment: str) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "bad.toml").write_text(text)
    with pytest.raises(RuleFileError) as info:
        load_ruleset("sage-intacct-2018", [folder])
    message = str(info.value)
    assert fragment in message
    assert "bad.toml" in message
    if "TOML" not in fragment and "rule id" not in fragment:
        assert "custom.my-rule" in message
    assert ":" in message.split("bad.toml", 1)[1][:3] or "TOML" in fragment or "duplicate" in fragment


def test_broken_rule_error_names_the_line(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "bad.toml").write_text(RULE.replace("protocol.TLSv1.0", "protocol.TLSv9"))
    with pytest.raises(RuleFileError) as info:
        load_ruleset("sage-intacct-2018", [folder])
    assert info.value.line == 9


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[policy]\nid = "p"\ntitle = "t"\ninclude = ["nothing.*"]\n', "selects no rule"),
        ('[policy]\nid = "p"\ntitle = "t"\ncolour = 1\n', "unknown policy key"),
        (
            '[policy]\nid = "p"\ntitle = "t"\n[policy.overrides."endpoint.nope"]\nseverity = "low"\n',
            "override of an unknown rule",
        ),
        ('[policy]\nid = "p"\ntitle = "t"\n[policy.params]\nfoo = 1\n', "unknown parameter"),
    ],
)
def test_broken_policies(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(RuleFileError, match=fragment):
        load_ruleset(path)


def test_policy_override_changes_severity(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        '[policy]\nid = "p"\ntitle = "t"\ninclude = ["endpoint.tls1*"]\n'
        '[policy.overrides."endpoint.tls10-accepted"]\nseverity = "critical"\nstatus = "warn"\n'
    )
    ruleset = load_ruleset(path)
    rule = next(r for r in ruleset.rules if r.id == "endpoint.tls10-accepted")
    assert rule.severity.value == "critical" and rule.status.value == "warn"
    # the glob leaves out the profile-specific (opt_in) endpoint.tls12-accepted and tls13-not-accepted
    assert {r.id for r in ruleset.rules} == {"endpoint.tls10-accepted", "endpoint.tls11-accepted"}


def test_rule_runtime_kinds_match_the_inspector_registry() -> None:
    from tlsaudit.engine import RUNTIME_KINDS
    from tlsaudit.inspectors import INSPECTORS

    assert set(RUNTIME_KINDS) == set(INSPECTORS)


def test_endpoints_that_share_facts_get_the_findings_each_would_get_alone() -> None:
    """evaluate() judges a rule once per distinct set of the facts it reads (and replaces the subject):
    many endpoints at once must give exactly what each endpoint evaluated alone gives, subjects, messages
    and remediations included, also for a fact value that holds the memo's stand-in character."""
    ruleset = load_ruleset()
    odd = dataclasses.replace(endpoint({"TLSv1.0"}), host="odd\x00subject\x00", target="odd", sni=None)
    endpoints = [
        endpoint({"TLSv1.2", "TLSv1.3"}),
        dataclasses.replace(endpoint({"TLSv1.2", "TLSv1.3"}), host="b.example", target="b"),
        endpoint({"TLSv1.0", "TLSv1.1"}),
        dataclasses.replace(endpoint({"TLSv1.0", "TLSv1.1"}), host="c.example", target="c", port=8443),
        endpoint(set(), unknown={"TLSv1.2"}),
        dataclasses.replace(endpoint(set(), unknown={"TLSv1.2"}), ip="192.0.2.7"),
        odd,
    ]
    together = evaluate(ruleset, endpoints=endpoints, collected=()).findings
    rules = [r for r in ruleset.rules if r.subject_kind == "endpoint"]
    alone = [  # each rule judged on its own for each endpoint, no shared judgement
        f
        for ep in endpoints
        for f in engine._endpoint_findings(ruleset, rules, ep, Unreachable.ERROR, frozenset())
    ]
    assert together == tuple(alone)
    assert {f.subject for f in together} == {ep.subject for ep in endpoints}
    assert any(ep.subject in f.message for ep in endpoints[1:4] for f in together)


@pytest.mark.parametrize("collected", [(), ("certificate",), ("certificate", "cipher-suites")])
def test_endpoints_that_differ_only_in_what_was_not_collected_are_not_shared(
    collected: tuple[str, ...],
) -> None:
    """Endpoints with the same version facts share their findings only when every rule would judge them
    alike: a certificate that could not be collected (and why), depths asked for or not, no version
    accepted. Each must still get what it gets evaluated alone."""
    ruleset = load_ruleset()
    base = endpoint({"TLSv1.2", "TLSv1.3"})
    endpoints = [
        base,
        dataclasses.replace(base, host="b.example", target="b"),
        dataclasses.replace(base, host="c.example", target="c", certificate_error="empty Certificate"),
        dataclasses.replace(base, host="d.example", target="d", certificate_error="16 MB length claim"),
        dataclasses.replace(base, host="e.example", target="e", certificate_error="empty Certificate"),
        dataclasses.replace(endpoint(set()), host="f.example", target="f"),
        dataclasses.replace(endpoint(set()), host="g.example", target="g"),
    ]
    together = evaluate(ruleset, endpoints=endpoints, collected=collected).findings
    rules = [r for r in ruleset.rules if r.subject_kind == "endpoint"]
    depths = frozenset(collected)
    alone = [
        f
        for ep in endpoints
        for f in engine._endpoint_findings(ruleset, rules, ep, Unreachable.ERROR, depths)
    ]
    assert together == tuple(alone)
    if "certificate" in collected:
        assert any("16 MB length claim" in f.message and f.subject == endpoints[3].subject for f in together)


@pytest.mark.parametrize("policy", sorted(available_policies()))
def test_loading_only_the_endpoint_tables_selects_the_same_endpoint_rules(policy: str) -> None:
    """`scan` reads only the endpoint rule tables: the rules it judges, the policy and its parameters are
    those of a full load."""
    full = load_ruleset(policy)
    endpoint_only = load_ruleset(policy, kinds=("endpoint",))
    assert endpoint_only.rules == tuple(r for r in full.rules if r.subject_kind == "endpoint")
    assert (endpoint_only.policy, endpoint_only.params) == (full.policy, full.params)
    assert {r.subject_kind for r in endpoint_only.all_rules} == {"endpoint"}


@pytest.mark.parametrize(
    "text",
    [
        '[policy]\nid = "p"\ntitle = "t"\ninclude = ["endpoint.*", "nothing.*"]\n',
        '[policy]\nid = "p"\ntitle = "t"\ninclude = ["endpoint.nope*"]\n',
        '[policy]\nid = "p"\ntitle = "t"\n[policy.overrides."endpoint.nope"]\nseverity = "low"\n',
        '[policy]\nid = "p"\ntitle = "t"\n[policy.citations]\n"endpoint.nope" = "1.2"\n',
    ],
)
def test_a_broken_policy_is_refused_also_when_only_endpoint_tables_are_read(
    tmp_path: Path, text: str
) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(RuleFileError) as full:
        load_ruleset(path)
    with pytest.raises(RuleFileError) as partial:
        load_ruleset(path, kinds=("endpoint",))
    assert str(partial.value) == str(full.value)
