"""The capture rule table, judged by the real engine: offers, weak suites, and disagreement with the
version tables (a runtime the tables call ready, whose client offers no TLS 1.2+)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tlsaudit.engine import evaluate, load_rule_file, load_ruleset
from tlsaudit.facts import CAPTURE_FACTS, capture_facts, version_table_check
from tlsaudit.models import CaptureFacts, FindingStatus, Readiness, RuntimeFacts

RULES = Path(__file__).parents[2] / "rules" / "capture" / "clients.toml"
JDK17 = RuntimeFacts(kind="java", path="/usr/lib/jvm/java-17-openjdk-amd64", version="17.0.21")


def capture(**changes: object) -> CaptureFacts:
    base: dict[str, object] = {
        "client": "java HttpsURLConnection",
        "runtime": JDK17.subject,
        "runtime_kind": "java",
        "legacy_version": "TLSv1.2",
        "versions_offered": ("TLSv1.2", "TLSv1.3"),
        "cipher_suites": ("TLS_AES_128_GCM_SHA256",),
        "outcome": "completed TLSv1.3",
        "negotiated_version": "TLSv1.3",
        "completed": True,
    }
    base.update(changes)
    return CaptureFacts(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "capture-only.toml"
    path.write_text('[policy]\nid = "capture-only"\ntitle = "Capture rules"\ninclude = ["capture.*"]\n')
    return path


def statuses(
    policy: Path, cap: CaptureFacts, runtimes: list[RuntimeFacts] | None = None
) -> dict[str, FindingStatus]:
    result = evaluate(
        load_ruleset(policy), runtimes=runtimes if runtimes is not None else [JDK17], captures=[cap]
    )
    return {f.rule_id: f.status for f in result.findings if f.subject == cap.subject}


def test_rule_file_loads_and_names_only_capture_facts() -> None:
    rules = load_rule_file(RULES)
    assert {r.id for r in rules} >= {"capture.contradicts-version-table", "capture.no-tls12-offered"}
    assert all(r.id.startswith("capture.") for r in rules)
    assert set(capture_facts(capture())) == set(CAPTURE_FACTS)


def test_a_modern_client_passes(policy: Path) -> None:
    result = statuses(policy, capture())
    assert result["capture.no-tls12-offered"] == FindingStatus.PASS
    assert result["capture.contradicts-version-table"] == FindingStatus.PASS
    assert result["capture.legacy-offered"] == FindingStatus.PASS
    assert result["capture.weak-suites-offered"] == FindingStatus.PASS


def test_jdk17_pinned_by_java_tool_options_contradicts_the_version_table(policy: Path) -> None:
    """The tables call JDK 17 ready (no runtime rule objects); the pinned client sent no ClientHello."""
    pinned = capture(
        legacy_version="",
        versions_offered=(),
        cipher_suites=(),
        outcome="client closed without sending anything",
        negotiated_version=None,
        completed=False,
        client_result="FAIL javax.net.ssl.SSLHandshakeException: No appropriate protocol",
    )
    result = statuses(policy, pinned)
    assert result["capture.contradicts-version-table"] == FindingStatus.FAIL
    assert result["capture.no-tls12-offered"] == FindingStatus.FAIL
    assert result["capture.handshake-not-completed"] == FindingStatus.WARN
    findings = evaluate(load_ruleset(policy), runtimes=[JDK17], captures=[pinned]).findings
    [contradiction] = [f for f in findings if f.rule_id == "capture.contradicts-version-table"]
    assert "ready" in contradiction.message


def test_without_the_runtime_in_the_report_the_comparison_is_skipped(policy: Path) -> None:
    pinned = capture(versions_offered=("TLSv1.0",), legacy_version="TLSv1.0", outcome="completed TLSv1.0")
    result = statuses(policy, pinned, runtimes=[])
    assert result["capture.contradicts-version-table"] == FindingStatus.SKIPPED
    assert result["capture.no-tls12-offered"] == FindingStatus.FAIL
    assert result["capture.legacy-offered"] == FindingStatus.WARN


def test_weak_suites_and_sslv2_hello(policy: Path) -> None:
    old = capture(
        versions_offered=("SSLv2", "TLSv1.0"),
        legacy_version="TLSv1.0",
        hello_format="SSLv2-format ClientHello",
        weak_suites=("TLS_RSA_WITH_RC4_128_SHA",),
        outcome="not completed: SSLv2-format ClientHello",
        completed=False,
    )
    result = statuses(policy, old)
    assert result["capture.weak-suites-offered"] == FindingStatus.WARN
    assert result["capture.sslv2-hello"] == FindingStatus.FAIL


def test_nothing_observed_is_an_error_never_a_pass(policy: Path) -> None:
    unseen = capture(
        versions_offered=(), legacy_version="", outcome="no connection", observed=False, completed=None
    )
    result = statuses(policy, unseen)
    assert result["capture.no-tls12-offered"] == FindingStatus.ERROR
    assert result["capture.contradicts-version-table"] == FindingStatus.SKIPPED


def test_upper_bound_only_hello_leaves_legacy_unknown() -> None:
    facts = capture_facts(capture(versions_offered=("TLSv1.2",), versions_exact=False))
    assert facts["capture.offers_legacy"] is None
    assert facts["capture.offers_tls12"] is True


@pytest.mark.parametrize(
    ("table", "modern", "completed", "expected"),
    [
        (Readiness.READY, False, False, "too-optimistic"),
        (Readiness.READY, True, True, "agrees"),
        (Readiness.READY_WITH_CONFIG, False, False, "agrees"),
        (Readiness.NEEDS_UPGRADE, True, True, "too-pessimistic"),
        (Readiness.NEEDS_UPGRADE, True, False, "agrees"),
        (Readiness.NEEDS_UPGRADE, False, False, "agrees"),
        (Readiness.UNKNOWN, False, False, None),
        (None, True, True, None),
    ],
)
def test_version_table_check(
    table: Readiness | None, modern: bool, completed: bool, expected: str | None
) -> None:
    assert version_table_check(table, modern, completed) == expected


def test_tls13_only_client_is_warned_about_tls12_servers(policy: Path) -> None:
    tls13_only = capture(versions_offered=("TLSv1.3",))
    result = statuses(policy, tls13_only)
    assert result["capture.tls12-not-offered"] == FindingStatus.WARN
    assert result["capture.no-tls12-offered"] == FindingStatus.PASS
    assert statuses(policy, capture())["capture.tls12-not-offered"] == FindingStatus.PASS


def test_runtime_doing_better_than_its_table(tmp_path: Path) -> None:
    """A runtime rule that calls this JDK needs-upgrade, against a client that completed TLS 1.3."""
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "strict.toml").write_text(
        "[[rule]]\n"
        'id = "runtime.test-old-java"\n'
        'title = "Old Java"\n'
        'applies_to = "runtime"\n'
        'runtime_kind = "java"\n'
        'status = "fail"\n'
        'severity = "high"\n'
        'readiness = "needs-upgrade"\n'
        'message = "{subject} is old."\n'
        'when = { fact = "version", version = "<99" }\n'
    )
    policy = tmp_path / "policy.toml"
    policy.write_text('[policy]\nid = "t"\ntitle = "t"\ninclude = ["capture.*", "runtime.test-*"]\n')
    ruleset = load_ruleset(policy, extra_dirs=[rules_dir])
    result = evaluate(ruleset, runtimes=[JDK17], captures=[capture()])
    assert result.readiness[JDK17.subject] == Readiness.NEEDS_UPGRADE
    found = {f.rule_id: f.status for f in result.findings if f.subject_kind.value == "capture"}
    assert found["capture.version-table-too-pessimistic"] == FindingStatus.WARN
    assert found["capture.contradicts-version-table"] == FindingStatus.PASS
