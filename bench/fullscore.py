"""Score a full scan: version cells, suite sets per version, certificate facts, against the truth."""

from __future__ import annotations

from dataclasses import dataclass

from bench.fullmodel import CERT_FACTS, SUITE_VERSIONS, FullRun
from bench.model import Endpoint
from bench.score import Score, score
from bench.suitetruth import SuiteTruth, expected_suites

SHOWN_NAMES = 6


@dataclass(frozen=True, slots=True, kw_only=True)
class FactScore:
    """Certificate facts: right / reported, and how many the tool does not report at all."""

    reported: int
    right: int
    missing: int
    mismatches: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FullScore:
    versions: Score
    suites: Score
    facts: FactScore


def _names(names: frozenset[str]) -> str:
    shown = sorted(names)[:SHOWN_NAMES]
    more = f" +{len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else ""
    return ", ".join(shown) + more if shown else "none"


def score_suites(run: FullRun, endpoints: list[Endpoint], truth: SuiteTruth) -> Score:
    """One cell per endpoint and TLS version: right when the accepted set equals the truth's
    (the empty set where the version is rejected)."""
    right = 0
    mismatches = []
    for endpoint in endpoints:
        said_row = run.suites.get(endpoint.target, {})
        for version in SUITE_VERSIONS:
            expected = expected_suites(truth, endpoint, version)
            said = said_row.get(version, frozenset())
            if said == expected:
                right += 1
                continue
            missing, extra = expected - said, said - expected
            mismatches.append(
                f"{endpoint.target} [{endpoint.profile}/{endpoint.key_type}] {version} suites: "
                f"{len(said)} reported, {len(expected)} true; missing: {_names(missing)}; "
                f"extra: {_names(extra)} (evidence: {run.evidence})"
            )
    return Score(cells=len(endpoints) * len(SUITE_VERSIONS), right=right, mismatches=tuple(mismatches))


def score_facts(run: FullRun, endpoints: list[Endpoint], truth: dict[str, dict[str, str]]) -> FactScore:
    reported = right = missing = 0
    mismatches = []
    for endpoint in endpoints:
        expected = truth.get(endpoint.key_type, {})
        said = run.certs.get(endpoint.target, {})
        for fact in CERT_FACTS:
            if fact not in said:
                missing += 1
                continue
            reported += 1
            if said[fact] == expected.get(fact):
                right += 1
            else:
                detail = f" ({said[fact + '_detail'][:200]})" if fact + "_detail" in said else ""
                mismatches.append(
                    f"{endpoint.target} [{endpoint.profile}/{endpoint.key_type}] certificate {fact}: "
                    f"truth {expected.get(fact)!r}, {run.run.tool} says {said[fact]!r}{detail} "
                    f"(evidence: {run.evidence})"
                )
    return FactScore(reported=reported, right=right, missing=missing, mismatches=tuple(mismatches))


def score_full(
    runs: list[FullRun], endpoints: list[Endpoint], suites: SuiteTruth, facts: dict[str, dict[str, str]]
) -> FullScore:
    """Every repetition counts; mismatches are listed once."""
    versions = [score(r.run, endpoints) for r in runs]
    suite_scores = [score_suites(r, endpoints, suites) for r in runs]
    fact_scores = [score_facts(r, endpoints, facts) for r in runs]
    return FullScore(
        versions=_merge(versions),
        suites=_merge(suite_scores),
        facts=FactScore(
            reported=sum(f.reported for f in fact_scores),
            right=sum(f.right for f in fact_scores),
            missing=sum(f.missing for f in fact_scores),
            mismatches=tuple(dict.fromkeys(m for f in fact_scores for m in f.mismatches)),
        ),
    )


def _merge(scores: list[Score]) -> Score:
    return Score(
        cells=sum(s.cells for s in scores),
        right=sum(s.right for s in scores),
        mismatches=tuple(dict.fromkeys(m for s in scores for m in s.mismatches)),
    )
