"""The report's shape as types: one TypedDict per object of `reports/report.schema.json`.

Formats take a `Report`; `tests/test_report_types.py` checks that these keys and the schema's keep matching.
"""

from typing import Literal, NotRequired, TypedDict

Verdict = Literal["pass", "warn", "fail", "error", "skipped"]
ReadinessName = Literal["ready", "ready-with-config", "needs-upgrade", "unknown"]
StatusName = Literal["pass", "fail", "warn", "error", "skipped"]
SeverityName = Literal["critical", "high", "medium", "low", "info"]
SubjectKind = Literal["endpoint", "runtime", "capture"]


class ToolInfo(TypedDict):
    name: str
    version: str


class PolicyInfo(TypedDict):
    id: str
    title: str


# "pass" is a keyword: the functional syntax carries it
StatusCountsFull = TypedDict(
    "StatusCountsFull", {"pass": int, "fail": int, "warn": int, "error": int, "skipped": int}
)
EndpointCounts = TypedDict(
    "EndpointCounts",
    {"total": int, "pass": int, "fail": int, "warn": int, "error": int, "skipped": NotRequired[int]},
)
RuntimeCounts = TypedDict(
    "RuntimeCounts",
    {"total": int, "ready": int, "ready-with-config": int, "needs-upgrade": int, "unknown": int},
)


class HostRollup(TypedDict):
    name: str
    port: int
    addresses: list[str]
    verdict: Verdict
    disagreements: NotRequired[list[str]]


class FleetRuleCount(TypedDict):
    rule_id: str
    title: str
    status: Literal["fail", "warn", "error"]
    severity: SeverityName
    kinds: list[str]
    hosts: int
    runtimes: int


class FleetSummary(TypedDict):
    hosts: int
    assessed: int
    unreachable: int
    collector_error: int
    by_rule: list[FleetRuleCount]


class Summary(TypedDict):
    verdict: Verdict
    counts: StatusCountsFull
    endpoints: EndpointCounts
    runtimes: RuntimeCounts
    fleet: NotRequired[FleetSummary]
    hosts: list[HostRollup]


class ProtocolResult(TypedDict):
    status: Literal["accepted", "rejected", "unknown"]
    reason: NotRequired[str]
    reason_code: NotRequired[str]  # one of the schema's codes (an enum there)


class Certificate(TypedDict):
    subject: str
    issuer: str
    san: NotRequired[list[str]]
    serial: NotRequired[str]
    not_before: NotRequired[str]
    not_after: NotRequired[str]
    days_left: NotRequired[int]
    expired: NotRequired[bool]
    not_yet_valid: NotRequired[bool]
    key_type: NotRequired[str]
    key_bits: NotRequired[int]
    signature_algorithm: NotRequired[str]
    signature_hash: NotRequired[str]
    chain_signature_hashes: NotRequired[list[str]]
    self_signed: NotRequired[bool]
    chain_length: NotRequired[int]
    chain_subjects: NotRequired[list[str]]
    chain_in_order: NotRequired[bool]
    trusted: NotRequired[bool]
    trust_error: NotRequired[str]
    profile_issues: NotRequired[list[str]]
    hostname_match: NotRequired[bool]
    chain_complete: NotRequired[bool]
    sha256_fingerprint: NotRequired[str]
    lifetime_days: NotRequired[int]
    publicly_trusted: NotRequired[bool]
    crl_urls: NotRequired[list[str]]
    ocsp_urls: NotRequired[list[str]]
    must_staple: NotRequired[bool]
    spki_sha256: NotRequired[str]


class Hsts(TypedDict):
    max_age: int
    include_subdomains: NotRequired[bool]
    preload: NotRequired[bool]


class HttpCheck(TypedDict):
    outcome: Literal["answered", "not-http", "failed"]
    status: NotRequired[int]
    detail: NotRequired[str]


class OcspStapling(TypedDict):
    stapled: bool
    valid: NotRequired[bool]
    cert_status: NotRequired[Literal["good", "revoked", "unknown"]]
    this_update: NotRequired[str]
    next_update: NotRequired[str]
    problem: NotRequired[str]


class CipherSuiteResult(TypedDict):
    version: str
    accepted: list[str]
    server_preference: NotRequired[bool]
    classes: NotRequired[list[str]]
    errors: NotRequired[list[str]]


class ClientSimulation(TypedDict):
    client: str
    name: str
    version: str
    result: Literal["connects", "fails", "unknown"]
    protocol: NotRequired[str]
    cipher_suite: NotRequired[str]
    reason: NotRequired[str]


class KeyExchange(TypedDict):
    groups: dict[str, list[str]]
    pq_hybrid: bool | None
    pq_hello_retry: NotRequired[bool]
    pq_preferred: NotRequired[bool]
    dh_bits: int | None
    dh_groups: NotRequired[list[str]]
    forward_secrecy: bool | None
    static_key_exchange: NotRequired[list[str]]
    large_hello_tolerant: bool | None
    errors: NotRequired[list[str]]


class Handshake(TypedDict):
    secure_renegotiation: NotRequired[bool]
    client_renegotiation: NotRequired[bool]
    fallback_scsv: NotRequired[bool]
    compression: NotRequired[bool]
    extended_master_secret: NotRequired[bool]
    encrypt_then_mac: NotRequired[bool]
    cbc_accepted: NotRequired[bool]
    session_id_resumption: NotRequired[bool]
    session_ticket_resumption: NotRequired[bool]
    ticket_lifetime_hint: NotRequired[int]
    errors: NotRequired[list[str]]


class FlawCheck(TypedDict):
    status: Literal["vulnerable", "not-vulnerable", "not-applicable", "unknown"]
    reason: str
    connections: NotRequired[int]


class KnownFlaws(TypedDict):
    heartbleed: NotRequired[FlawCheck]
    ccs_injection: NotRequired[FlawCheck]
    robot: NotRequired[FlawCheck]


class Endpoint(TypedDict):
    id: str
    target: str
    host: str
    port: int
    ip: str
    sni: NotRequired[str]
    starttls: NotRequired[str]
    protocols: dict[str, ProtocolResult]
    certificate: NotRequired[Certificate]
    cipher_suites: NotRequired[list[CipherSuiteResult]]
    errors: NotRequired[list[str]]
    elapsed_ms: NotRequired[int]
    starttls_refused: NotRequired[str]
    certificate_error: NotRequired[str]
    clients: NotRequired[list[ClientSimulation]]
    key_exchange: NotRequired[KeyExchange]
    handshake: NotRequired[Handshake]
    known_flaws: NotRequired[KnownFlaws]
    client_certificate: NotRequired[Literal["requested", "required"]]
    http: NotRequired[HttpCheck]
    hsts: NotRequired[Hsts | None]  # None: the HTTP answer had no valid header
    ocsp_stapling: NotRequired[OcspStapling]
    key_shared_with_sslv2: NotRequired[list[str]]
    verdict: Verdict
    source_host: NotRequired[str]


class Evidence(TypedDict):
    argv: list[str]
    exit_code: NotRequired[int]
    stdout: NotRequired[str]
    stderr: NotRequired[str]
    note: NotRequired[str]


class Pin(TypedDict):
    setting: str
    value: str
    source: str


class RuntimeProcess(TypedDict):
    pid: int
    unit: NotRequired[str]
    user: NotRequired[str]
    cmdline: NotRequired[list[str]]


class Runtime(TypedDict):
    id: str
    kind: str
    path: str
    version: NotRequired[str]
    details: NotRequired[dict[str, str | int | float | bool | list[str] | list[Pin]]]  # pins: list[Pin]
    readiness: ReadinessName
    evidence: NotRequired[list[Evidence]]
    errors: NotRequired[list[str]]
    host: NotRequired[str]
    process: NotRequired[RuntimeProcess]
    verdict: Verdict
    source_host: NotRequired[str]


class Capture(TypedDict):
    id: str
    client: str
    runtime: NotRequired[str]
    legacy_version: str
    versions_offered: list[str]
    cipher_suites: list[str]
    sni: NotRequired[str]
    groups: NotRequired[list[str]]
    signature_algorithms: NotRequired[list[str]]
    extensions: NotRequired[list[str]]
    negotiated_version: NotRequired[str]
    outcome: NotRequired[str]
    errors: NotRequired[list[str]]
    runtime_kind: NotRequired[str]
    peer: NotRequired[str]
    hello_format: NotRequired[str]
    versions_exact: NotRequired[bool]
    weak_suites: NotRequired[list[str]]
    alpn: NotRequired[list[str]]
    negotiated_cipher: NotRequired[str]
    completed: NotRequired[bool]
    client_result: NotRequired[str]
    raw_hello: NotRequired[str]
    observed: NotRequired[bool]
    readiness: NotRequired[ReadinessName]
    verdict: Verdict
    source_host: NotRequired[str]


class Finding(TypedDict):
    rule_id: str
    status: StatusName
    severity: SeverityName
    subject: str
    subject_kind: SubjectKind
    title: str
    message: str
    remediation: NotRequired[str]
    references: NotRequired[list[str]]
    readiness: NotRequired[ReadinessName]
    source_host: NotRequired[str]


class LocalService(TypedDict):
    address: str
    bind_address: str
    port: int
    process: NotRequired[str]
    status: Literal["tls", "not-tls", "unknown"]
    spoke: NotRequired[str]
    reason: NotRequired[str]
    source_host: NotRequired[str]


class Report(TypedDict):
    schema_version: str
    tool: ToolInfo
    generated_at: str
    policy: PolicyInfo
    scope: NotRequired[dict[str, str | list[str]]]
    interrupted: NotRequired[bool]
    summary: Summary
    endpoints: list[Endpoint]
    runtimes: list[Runtime]
    captures: list[Capture]
    findings: list[Finding]
    local_services: NotRequired[list[LocalService]]
    hosts: NotRequired[list["FleetHost"]]


class WorstFinding(TypedDict):
    rule_id: str
    status: Literal["fail", "warn", "error"]
    severity: SeverityName
    title: str
    subject: str


class FleetHost(TypedDict):
    host: str
    status: Literal["assessed", "unreachable", "collector-error"]
    reason: NotRequired[str]
    os: NotRequired[dict[str, str]]
    collected_at: NotRequired[str]
    collector_python: NotRequired[str]
    errors: NotRequired[list[str]]
    runtimes: list[Runtime]
    verdict: Verdict
    worst_finding: NotRequired[WorstFinding]
