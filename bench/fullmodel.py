"""Vocabulary of the full scan: accepted suites and certificate facts per endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.model import ToolRun

# versions whose accepted suites are compared (SSLv2/SSLv3 are rejected everywhere by construction)
SUITE_VERSIONS: tuple[str, ...] = ("TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
# certificate facts compared with the truth, in display order
CERT_FACTS: tuple[str, ...] = ("not_after", "days_left", "key", "signature_hash", "hostname_match", "trusted")

# endpoint target -> version -> IANA names of the accepted suites
SuiteVerdicts = dict[str, dict[str, frozenset[str]]]
# endpoint target -> fact name -> normalised value (a fact the tool does not report is absent);
# "<fact>_detail" keys carry the tool's own words, quoted in mismatches, never scored
CertVerdicts = dict[str, dict[str, str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class FullRun:
    """One full-scan run: the version verdicts (in run) plus suites and certificate facts."""

    run: ToolRun
    suites: SuiteVerdicts = field(default_factory=dict)
    certs: CertVerdicts = field(default_factory=dict)
    # where the tool's own output went, quoted as evidence for mismatches
    evidence: str = ""
