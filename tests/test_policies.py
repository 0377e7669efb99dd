"""Policies, rule files and rule templates as a user meets them: the README's examples run, profile rules
stay in their profile, --rules says what it adds, `rules check` reads structure, fact types are enforced,
`report --policy` judges saved facts again, and no placeholder or internal citation reaches a reader."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.certs import make_cert
from tests.support.servers import VERSION_SETS, TlsServer, tls_server
from tlsaudit.data import rules_dir
from tlsaudit.engine import (
    PLACEHOLDER,
    Rule,
    available_policies,
    load_rule_file,
    load_ruleset,
    render_template,
)
from tlsaudit.errors import RuleFileError
from tlsaudit.facts import capture_facts, endpoint_facts, runtime_facts
from tlsaudit.models import (
    EndpointFacts,
    FindingStatus,
    ProtocolResult,
    ProtocolStatus,
    RuntimeFacts,
    TlsVersion,
)

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--ca-file", str(make_cert().ca)] if args[0] in ("scan", "audit") else []
    return subprocess.run(
        [sys.executable, "-m", "tlsaudit", *args, *extra],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def tls12_13() -> Iterator[TlsServer]:
    with tls_server(VERSION_SETS["tls12+13"]) as server:
        yield server


def toml_blocks(markdown: Path, marker: str) -> list[str]:
    text = markdown.read_text(encoding="utf-8")
    return [b for b in re.findall(r"```toml\n(.*?)```", text, re.DOTALL) if marker in b]


# ------------------------------------------------------------------ README examples


@pytest.mark.parametrize(
    "readme", [ROOT / "README.md", ROOT / "rules" / "README.md"], ids=["README", "rules"]
)
def test_readme_policy_examples_work(readme: Path, tmp_path: Path, tls12_13: TlsServer) -> None:
    blocks = toml_blocks(readme, "[policy]")
    assert blocks, f"{readme} has no policy example"
    for number, block in enumerate(blocks):
        policy = tmp_path / f"example-{number}.toml"
        policy.write_text(block, encoding="utf-8")
        checked = run("rules", "check", str(policy))
        assert checked.returncode == 0, checked.stderr
        assert "policy" in checked.stdout
        scanned = run("scan", tls12_13.target, "--timeout", "3", "--policy", str(policy), "--format", "json")
        assert scanned.returncode in (0, 1), scanned.stderr
        assert json.loads(scanned.stdout)["policy"]["id"] == load_ruleset(policy).policy.id


def test_readme_rule_example_loads(tmp_path: Path) -> None:
    (block,) = toml_blocks(ROOT / "rules" / "README.md", "[[rule]]")
    path = tmp_path / "example.toml"
    path.write_text(block.replace('"endpoint.tls10-accepted"', '"example.tls10-accepted"'), encoding="utf-8")
    (rule,) = load_rule_file(path)
    assert rule.id == "example.tls10-accepted"


# ------------------------------------------------------------------ profile rules stay in their profile


def test_a_glob_does_not_pull_in_another_profiles_rules(tmp_path: Path) -> None:
    policy = tmp_path / "mine.toml"
    policy.write_text('[policy]\nid = "mine"\ntitle = "mine"\ninclude = ["endpoint.*"]\n', encoding="utf-8")
    selected = {r.id for r in load_ruleset(policy).rules}
    assert "endpoint.tls10-accepted" in selected
    for profile_rule in (
        "endpoint.tls12-accepted",
        "endpoint.tls13-not-accepted",
        "endpoint.no-tls11-or-higher",
        "endpoint.suites-outside-mozilla-intermediate",
    ):
        assert profile_rule not in selected


def test_a_glob_that_matches_only_profile_rules_is_an_error(tmp_path: Path) -> None:
    policy = tmp_path / "mine.toml"
    policy.write_text('[policy]\nid = "m"\ntitle = "m"\ninclude = ["endpoint.tls12-*"]\n', encoding="utf-8")
    with pytest.raises(RuleFileError, match="exact id only"):
        load_ruleset(policy)


def test_shipped_policies_select_their_profile_rules() -> None:
    assert "endpoint.tls12-accepted" in {r.id for r in load_ruleset("mozilla-modern").rules}
    assert "endpoint.tls13-not-accepted" in {r.id for r in load_ruleset("nist-800-52r2").rules}
    assert "endpoint.tls13-not-accepted" not in {r.id for r in load_ruleset("sage-intacct-2018").rules}


# ------------------------------------------------------------------ --rules


def extra_rules(tmp_path: Path) -> Path:
    folder = tmp_path / "myrules"
    folder.mkdir()
    (folder / "mine.toml").write_text(
        """[[rule]]
id = "acme.port-443-only"
title = "Service not on port 443"
applies_to = "endpoint"
status = "warn"
severity = "low"
message = "{subject} is served on port {port}."
remediation = "Move the service to port 443."
references = ["RFC 9110"]
when = { fact = "port", not_equals = 443 }
""",
        encoding="utf-8",
    )
    return folder


def test_rules_folder_is_judged_on_top_and_named(tmp_path: Path, tls12_13: TlsServer) -> None:
    folder = extra_rules(tmp_path)
    result = run("scan", tls12_13.target, "--timeout", "3", "--rules", str(folder), "--format", "json")
    report = json.loads(result.stdout)
    assert "+ 1 rule(s) from" in report["policy"]["title"] and str(folder) in report["policy"]["title"]
    assert {"acme.port-443-only": "warn"}.items() <= {
        f["rule_id"]: f["status"] for f in report["findings"]
    }.items()


def test_rules_check_takes_a_folder(tmp_path: Path) -> None:
    folder = extra_rules(tmp_path)
    (folder / "policies").mkdir()
    (folder / "policies" / "acme.toml").write_text(
        '[policy]\nid = "acme"\ntitle = "ACME"\ninclude = ["acme.*", "endpoint.tls1*"]\n', encoding="utf-8"
    )
    result = run("rules", "check", "--rules", str(folder))
    assert result.returncode == 0, result.stderr
    assert "1 rule(s) OK" in result.stdout and "policy 'acme' OK" in result.stdout
    (folder / "bad.toml").write_text('[[rule]]\nid = "acme.x"\n', encoding="utf-8")
    bad = run("rules", "check", "--rules", str(folder))
    assert bad.returncode == 2 and "bad.toml" in bad.stderr and "missing key" in bad.stderr


def test_rules_check_tells_a_policy_by_its_structure(tmp_path: Path) -> None:
    # a rule table whose text mentions "[policy]" is still a rule table
    rules = tmp_path / "mentions.toml"
    rules.write_text(
        (extra_rules(tmp_path) / "mine.toml")
        .read_text(encoding="utf-8")
        .replace("Move the service", "See [policy] docs; move the service"),
        encoding="utf-8",
    )
    result = run("rules", "check", str(rules))
    assert result.returncode == 0, result.stderr
    assert "1 rule(s) OK" in result.stdout
    neither = tmp_path / "neither.toml"
    neither.write_text('title = "x"\n', encoding="utf-8")
    result = run("rules", "check", str(neither))
    assert result.returncode == 2 and "neither a rule table" in result.stderr


# ------------------------------------------------------------------ fact types


def rule_file(tmp_path: Path, condition: str) -> Path:
    path = tmp_path / "typed.toml"
    path.write_text(
        f"""# a rule with a badly typed test
[[rule]]
id = "acme.typed"
title = "t"
applies_to = "endpoint"
status = "fail"
severity = "low"
message = "m"
when = {condition}
""",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (
            '{ fact = "highest_version", contains = "TLSv1.3" }',
            "`contains` does not fit 'highest_version', a str",
        ),
        ('{ fact = "accepted_versions", lt = 3 }', "`lt` does not fit 'accepted_versions', a list"),
        (
            '{ fact = "modern_accepted", equals = "yes" }',
            "compares 'modern_accepted', a bool fact, with 'yes'",
        ),
        ('{ fact = "port", in = ["443"] }', "compares 'port', a int fact"),
    ],
)
def test_a_test_that_does_not_fit_the_fact_type_is_a_load_error(
    tmp_path: Path, condition: str, message: str
) -> None:
    path = rule_file(tmp_path, condition)
    with pytest.raises(RuleFileError) as caught:
        load_rule_file(path)
    assert message in str(caught.value)
    assert f"{path}:9 [acme.typed]" in str(caught.value)  # file and line of the condition


def test_a_value_of_the_wrong_type_is_never_a_silent_pass(tmp_path: Path) -> None:
    """A collector that stores a string where a list is declared: the rule says so, as an error."""
    (rule,) = load_rule_file(rule_file(tmp_path, '{ fact = "accepted_versions", contains = "TLSv1.0" }'))
    ruleset = load_ruleset()
    protocols = {v: ProtocolResult(status=ProtocolStatus.REJECTED) for v in TlsVersion}
    protocols[TlsVersion.TLSv1_2] = ProtocolResult(status=ProtocolStatus.ACCEPTED)
    ep = EndpointFacts(target="h", host="h", port=443, ip="192.0.2.1", sni=None, protocols=protocols)
    from tlsaudit import engine

    facts = {**endpoint_facts(ep), "accepted_versions": "TLSv1.2"}  # a str, declared list
    finding = engine.judge(rule, ep.subject, facts, ruleset.params)
    assert finding.status == FindingStatus.ERROR
    assert "declared list" in finding.message


# ------------------------------------------------------------------ report --policy, merging


def test_report_judges_saved_facts_under_another_policy(tmp_path: Path, tls12_13: TlsServer) -> None:
    nist = tmp_path / "nist.json"
    scanned = run("scan", tls12_13.target, "--timeout", "5", "--policy", "nist-800-52r2", "-o", str(nist))
    assert scanned.returncode == 0, scanned.stderr
    again = tmp_path / "again.json"
    result = run("report", str(nist), "--policy", "mozilla-modern", "-o", str(again))
    report = json.loads(again.read_text(encoding="utf-8"))
    assert report["policy"]["id"] == "mozilla-modern"
    assert "first judged under nist-800-52r2" in report["scope"]["policy_note"]
    # Mozilla 6.0 also asks for X25519MLKEM768, which the test server's OpenSSL may lack
    [endpoint] = report["endpoints"]
    no_pq = {"endpoint.kex-no-pq-hybrid"} if not endpoint["key_exchange"]["pq_hybrid"] else set()
    failed = {f["rule_id"] for f in report["findings"] if f["status"] == "fail"}
    assert failed == {"endpoint.tls12-accepted"} | no_pq
    assert result.returncode == 1
    # the same facts give the same findings whichever policy judged them before
    direct, round_trip = tmp_path / "direct.json", tmp_path / "round-trip.json"
    assert run("report", str(nist), "--policy", "sage-intacct-2018", "-o", str(direct)).returncode == 0
    assert run("report", str(again), "--policy", "sage-intacct-2018", "-o", str(round_trip)).returncode == 0

    def findings(path: Path) -> list[tuple[str, str, str]]:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return sorted((f["rule_id"], f["status"], f["message"]) for f in data["findings"])

    assert findings(direct) == findings(round_trip)
    same = tmp_path / "same.json"
    assert run("report", str(nist), "--policy", "nist-800-52r2", "-o", str(same)).returncode == 0
    assert findings(same) == findings(nist)  # judging saved facts again is judging them as the scan did
    assert any(rule == "endpoint.tls10-accepted" and status == "pass" for rule, status, _ in findings(direct))


def test_merging_reports_of_different_policies_says_what_it_did(tmp_path: Path, tls12_13: TlsServer) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    run("scan", tls12_13.target, "--timeout", "3", "--policy", "nist-800-52r2", "-o", str(first))
    run("scan", tls12_13.target, "--timeout", "3", "--policy", "rfc-8996", "-o", str(second))
    merged = tmp_path / "merged.json"
    result = run("report", str(first), str(second), "-o", str(merged))
    assert result.returncode == 0, result.stderr
    assert "different policies (nist-800-52r2, rfc-8996)" in result.stderr
    assert "judged again under rfc-8996" in result.stderr
    assert json.loads(merged.read_text(encoding="utf-8"))["policy"]["id"] == "rfc-8996"


# ------------------------------------------------------------------ templates and references


def test_a_placeholder_that_names_no_fact_is_a_load_error(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text(
        '[[rule]]\nid = "acme.r"\ntitle = "t"\napplies_to = "runtime"\nstatus = "fail"\nseverity = "low"\n'
        'message = "m"\nremediation = "Edit {details.config_pth}."\n'
        'when = { fact = "version", exists = true }\n',
        encoding="utf-8",
    )
    with pytest.raises(RuleFileError, match=r"r.toml:8 \[acme.r\]: `remediation` names unknown fact"):
        load_rule_file(path)


RAW = re.compile(r"\{[A-Za-z_][\w.]*(\|[^{}]*)?\}")


def real_runtimes() -> list[RuntimeFacts]:
    from tlsaudit.inspectors import InspectOptions, inspect_runtimes

    found: list[RuntimeFacts] = []
    inspect_runtimes(
        InspectOptions(kinds=("python", "openssl", "curl"), extra_paths={}, search_system=True, timeout=30),
        on_runtime=found.append,
    )
    return found


def rendered(rule: Rule, subject: str, facts: dict[str, Any]) -> list[str]:
    return [render_template(t, subject, facts) for t in (rule.message, rule.pass_message, rule.remediation)]


def test_every_shipped_rule_renders_with_real_facts(tls12_13: TlsServer) -> None:
    from tests.test_gate import json_report

    _, report = json_report("scan", tls12_13.target, "--timeout", "3", "-q")
    from tlsaudit.report_facts import endpoints_of

    (endpoint,) = endpoints_of(report)
    runtimes = real_runtimes()
    assert endpoint.certificate is not None and endpoint.cipher_suites and runtimes
    subjects: dict[str, list[tuple[str, dict[str, Any]]]] = {
        "endpoint": [(endpoint.subject, endpoint_facts(endpoint))],
        "runtime": [(rt.subject, runtime_facts(rt)) for rt in runtimes],
    }
    from tlsaudit.models import CaptureFacts

    capture = CaptureFacts(
        client="curl", runtime=None, legacy_version="TLSv1.2", versions_offered=("TLSv1.2",), cipher_suites=()
    )
    subjects["capture"] = [(capture.subject, capture_facts(capture))]
    for rule in load_ruleset().all_rules:
        kind = rule.subject_kind.value
        for subject, facts in subjects[kind]:
            every_fact_unknown = dict.fromkeys(facts)  # the worst case: nothing was collected
            for text in (*rendered(rule, subject, facts), *rendered(rule, subject, every_fact_unknown)):
                assert not RAW.search(text), f"{rule.id}: raw placeholder in {text!r}"
    # the two fixes the issue saw with raw placeholders now name the file or fall back to words
    by_id = {r.id: r for r in load_ruleset().all_rules}
    java_fix = by_id["runtime.java.client-protocols-pinned-legacy"].remediation
    assert "{details.pin_source|" in java_fix
    assert render_template(java_fix, "java", {"details.pin_source": "JAVA_TOOL_OPTIONS"}).startswith(
        "Remove -Djdk.tls.client.protocols from JAVA_TOOL_OPTIONS"
    )
    assert "JAVA_TOOL_OPTIONS, _JAVA_OPTIONS" in render_template(java_fix, "java", {})
    openssl = next(rt for rt in runtimes if rt.kind == "openssl")
    fix = render_template(
        by_id["runtime.openssl.min-protocol-tls13"].remediation, openssl.subject, runtime_facts(openssl)
    )
    assert str(openssl.details.get("config_path", "openssl.cnf")) in fix


PUBLIC_REFERENCE = re.compile(
    r"^(https://\S+|RFC \d+( \d+(\.\d+)*)?|CVE-\d{4}-\d+|NIST SP 800-\S+( .*)?|PCI DSS v[\d.]+ .+|"
    r"draft-ietf-[a-z0-9-]+|FIPS \d+( .*)?|"
    r"CA/Browser Forum (Baseline Requirements [\d.]+( and [\d.]+)?|ballot SC-\d+v?\d*)|"
    r"PCI SSC FAQ \d+|BCP \d+|[A-Za-z]+ [\d.]+ release notes)$"
)


def test_references_are_public() -> None:
    rules = load_ruleset().all_rules
    policies = [load_ruleset(name).policy for name in available_policies()]
    for owner, references in [(r.id, r.references) for r in rules] + [(p.id, p.references) for p in policies]:
        for reference in references:
            assert PUBLIC_REFERENCE.match(reference), f"{owner}: {reference!r} is not a public reference"
            assert "fact base" not in reference.lower() and "section" not in reference.lower()
    for path in rules_dir().rglob("*.toml"):
        assert "runtime-facts.md" not in path.read_text(encoding="utf-8"), path


def test_templates_in_rule_files_use_known_placeholders_only() -> None:
    for rule in load_ruleset().all_rules:
        assert not PLACEHOLDER.search(rule.title), rule.id


def test_saved_runtime_facts_judge_the_same_again(tmp_path: Path) -> None:
    saved, again = tmp_path / "runtimes.json", tmp_path / "again.json"
    first = run("runtimes", "--kind", "python", "--kind", "openssl", "-q", "-o", str(saved))
    assert first.returncode in (0, 1), first.stderr
    assert (
        run("report", str(saved), "--policy", "sage-intacct-2018", "-o", str(again)).returncode
        == first.returncode
    )
    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (saved, again))
    assert a["runtimes"] and sorted(map(json.dumps, a["findings"])) == sorted(map(json.dumps, b["findings"]))
    assert [r["readiness"] for r in a["runtimes"]] == [r["readiness"] for r in b["runtimes"]]
