"""Facts, findings and reports: frozen data passed between the stages.

Every model turns into plain JSON through `to_json`; reports render from that JSON alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

JsonValue = Any
FactValue = str | int | float | bool | tuple[str, ...] | None


class TlsVersion(StrEnum):
    SSLv2 = "SSLv2"
    SSLv3 = "SSLv3"
    TLSv1_0 = "TLSv1.0"
    TLSv1_1 = "TLSv1.1"
    TLSv1_2 = "TLSv1.2"
    TLSv1_3 = "TLSv1.3"


ALL_VERSIONS: tuple[TlsVersion, ...] = tuple(TlsVersion)
LEGACY_VERSIONS: tuple[TlsVersion, ...] = (
    TlsVersion.SSLv2,
    TlsVersion.SSLv3,
    TlsVersion.TLSv1_0,
    TlsVersion.TLSv1_1,
)
MODERN_VERSIONS: tuple[TlsVersion, ...] = (TlsVersion.TLSv1_2, TlsVersion.TLSv1_3)


class ProtocolStatus(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


class Readiness(StrEnum):
    READY = "ready"
    READY_WITH_CONFIG = "ready-with-config"
    NEEDS_UPGRADE = "needs-upgrade"
    UNKNOWN = "unknown"


class FindingStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    ERROR = "error"
    SKIPPED = "skipped"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


class SubjectKind(StrEnum):
    ENDPOINT = "endpoint"
    RUNTIME = "runtime"
    CAPTURE = "capture"


SEVERITY_ORDER: dict[Severity, int] = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}

READINESS_ORDER: dict[Readiness, int] = {
    Readiness.READY: 0,
    Readiness.READY_WITH_CONFIG: 1,
    Readiness.UNKNOWN: 2,
    Readiness.NEEDS_UPGRADE: 3,
}


class ReasonCode(StrEnum):
    """Why a protocol result is what it is: a stable code for scripts (`reason` has the words)."""

    # accepted
    SERVER_HELLO = "server-hello"
    HELLO_RETRY_REQUEST = "hello-retry-request"
    SSLV2_SERVER_HELLO = "sslv2-server-hello"
    # rejected
    ALERT = "alert"
    CLOSED = "closed"
    RESET = "reset"
    NEGOTIATED_LOWER = "negotiated-lower"
    VERSION_NOT_OFFERED = "version-not-offered"
    # unknown
    TIMEOUT = "timeout"
    CONNECTION_REFUSED = "connection-refused"
    NETWORK_ERROR = "network-error"
    MALFORMED = "malformed"
    CLOSED_MID_RECORD = "closed-mid-record"
    RESET_MID_ANSWER = "reset-mid-answer"
    NOT_TLS = "not-tls"
    STARTTLS_REFUSED = "starttls-refused"
    UNRESOLVED = "unresolved"
    NOT_PROBED = "not-probed"
    INTERRUPTED = "interrupted"


class ClientCertificate(StrEnum):
    """The server asks for a client certificate: `required` when a handshake without one is refused."""

    REQUESTED = "requested"
    REQUIRED = "required"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtocolResult:
    status: ProtocolStatus
    reason: str = ""
    reason_code: ReasonCode | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """One thing the user asked to scan, before name resolution."""

    raw: str
    host: str
    port: int
    sni: str | None = None
    starttls: str | None = None
    address: str | None = None  # connect here instead of resolving `host` (targets: `host:port{ip}`)


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateInfo:
    subject: str
    issuer: str
    san: tuple[str, ...] = ()
    serial: str = ""
    not_before: str = ""
    not_after: str = ""
    days_left: int | None = None  # whole days left; minus the whole days since expiry once expired
    expired: bool | None = None
    not_yet_valid: bool | None = None
    key_type: str = ""
    key_bits: int | None = None
    signature_algorithm: str = ""
    signature_hash: str = ""
    chain_signature_hashes: tuple[str, ...] = ()
    self_signed: bool = False
    chain_length: int = 1
    chain_subjects: tuple[str, ...] = ()
    chain_in_order: bool = True
    trusted: bool | None = None
    trust_error: str = ""
    profile_issues: tuple[str, ...] = ()  # RFC 5280 details strict verifiers refuse (chain still trusted)
    hostname_match: bool | None = None
    chain_complete: bool | None = None
    sha256_fingerprint: str = ""
    # Lifetime and revocation (CA/B Forum BR 6.3.2 / SC-081; RFC 5280 4.2.1.13, RFC 5280 4.2.2.1, RFC 7633)
    lifetime_days: int | None = None  # notAfter - notBefore + 1 second, in whole days rounded up
    publicly_trusted: bool | None = None  # validates against the system store alone (not via --ca-file)
    crl_urls: tuple[str, ...] = ()
    ocsp_urls: tuple[str, ...] = ()
    must_staple: bool = False  # TLS Feature extension with status_request (RFC 7633)
    spki_sha256: str = ""  # SHA-256 of the leaf's SubjectPublicKeyInfo: the key, whatever the certificate


@dataclass(frozen=True, slots=True, kw_only=True)
class Hsts:
    """A Strict-Transport-Security header (RFC 6797 6.1) as a browser would read it."""

    max_age: int
    include_subdomains: bool = False
    preload: bool = False


class HttpOutcome(StrEnum):
    """How the one HTTP request after the handshake went."""

    ANSWERED = "answered"  # an HTTP response came back: its headers were read
    NOT_HTTP = "not-http"  # the service answered something else, or closed without a word: not HTTPS
    FAILED = "failed"  # timeout, handshake or network failure: HSTS could not be assessed


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpCheck:
    outcome: HttpOutcome
    status: int | None = None  # the HTTP status code
    detail: str = ""  # the status line, or what went wrong


@dataclass(frozen=True, slots=True, kw_only=True)
class OcspStapling:
    """What the server stapled when asked (status_request, RFC 6066 8) and whether it holds up."""

    stapled: bool
    valid: bool | None = None  # None: nothing stapled, or it could not be checked
    cert_status: str = ""  # good, revoked, unknown (the responder's answer for the leaf)
    this_update: str = ""
    next_update: str = ""
    problem: str = ""  # why the stapled response is not valid


@dataclass(frozen=True, slots=True, kw_only=True)
class CipherSuiteResult:
    """Suites one endpoint accepted for one version, in the server's preference order when it has one."""

    version: TlsVersion
    accepted: tuple[str, ...]
    server_preference: bool | None = None
    classes: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()  # probes that failed: the list may be incomplete


class SimulationResult(StrEnum):
    CONNECTS = "connects"
    FAILS = "fails"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientSimulation:
    """One client profile's hello replayed at an endpoint: does that client connect, and with what?"""

    client: str  # the profile id, e.g. "java-17-default"
    name: str
    version: str
    result: SimulationResult
    protocol: str | None = None
    cipher_suite: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyExchangeFacts:
    """How an endpoint agrees on keys: groups per version, post-quantum hybrids, DH size, forward secrecy.

    None means not assessed (the probe failed, or the question needs a version the endpoint lacks)."""

    groups: Mapping[TlsVersion, tuple[str, ...]] = field(default_factory=dict)  # IANA names, per version
    pq_hybrid: bool | None = None  # TLS 1.3 negotiates a hybrid post-quantum group (X25519MLKEM768, ...)
    pq_hello_retry: bool | None = None  # asks for a hybrid share when the client sent only classical ones
    pq_preferred: bool | None = None  # picks X25519MLKEM768 when the client sends that share and X25519
    dh_bits: int | None = None  # smallest finite-field DH group accepted (DHE suites, TLS 1.3 FFDHE)
    dh_groups: tuple[str, ...] = ()  # ffdhe2048 ..., modp1024 ... (RFC 2409/3526) or custom-<bits>
    forward_secrecy: bool | None = None  # every key exchange accepted, on every version, is ephemeral
    static_key_exchange: tuple[str, ...] = ()  # versions accepting RSA or static (EC)DH key exchange
    large_hello_tolerant: bool | None = None  # a browser-sized (post-quantum) ClientHello is answered
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class HandshakeFeatures:
    """Handshake features of TLS 1.2 and below (renegotiation, fallback, compression, EMS, ETM, resumption).

    None means not assessed or not applicable (e.g. no version below TLS 1.3 accepted)."""

    secure_renegotiation: bool | None = None  # RFC 5746 renegotiation_info in the ServerHello
    client_renegotiation: bool | None = None  # a client-initiated renegotiation completed
    fallback_scsv: bool | None = None  # RFC 7507: a fallback hello is refused (inappropriate_fallback)
    compression: bool | None = None  # DEFLATE accepted (CRIME)
    extended_master_secret: bool | None = None  # RFC 7627
    encrypt_then_mac: bool | None = None  # RFC 7366 (with a CBC suite; None without one)
    cbc_accepted: bool | None = None  # a CBC suite is accepted (where encrypt-then-MAC matters)
    session_id_resumption: bool | None = None
    session_ticket_resumption: bool | None = None
    ticket_lifetime_hint: int | None = None  # seconds, from the NewSessionTicket
    errors: tuple[str, ...] = ()


class FlawStatus(StrEnum):
    """The outcome of one known-flaw check (Heartbleed, CCS injection, ROBOT)."""

    VULNERABLE = "vulnerable"
    NOT_VULNERABLE = "not-vulnerable"
    NOT_APPLICABLE = "not-applicable"  # e.g. no RSA key exchange (ROBOT), no version below TLS 1.3
    UNKNOWN = "unknown"  # the check ran but the answers decide nothing (timeouts, inconsistent answers)


@dataclass(frozen=True, slots=True, kw_only=True)
class FlawCheck:
    status: FlawStatus
    reason: str  # in words: what the server did
    connections: int = 0  # connections the check opened


@dataclass(frozen=True, slots=True, kw_only=True)
class KnownFlaws:
    """Known protocol-implementation flaws tested with a bounded number of handshakes; None: not checked."""

    heartbleed: FlawCheck | None = None  # CVE-2014-0160
    ccs_injection: FlawCheck | None = None  # CVE-2014-0224
    robot: FlawCheck | None = None  # Bleichenbacher padding oracle (ROBOT)


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointFacts:
    target: str
    host: str
    port: int
    ip: str
    sni: str | None
    protocols: Mapping[TlsVersion, ProtocolResult]
    starttls: str | None = None
    certificate: CertificateInfo | None = None
    cipher_suites: tuple[CipherSuiteResult, ...] = ()
    errors: tuple[str, ...] = ()
    elapsed_ms: int | None = None
    starttls_refused: str | None = None  # the server's refusal, when STARTTLS was refused
    certificate_error: str | None = None  # a certificate should exist but could not be collected
    client_certificate: ClientCertificate | None = None
    clients: tuple[ClientSimulation, ...] = ()  # simulated clients (scan --clients)
    # One HTTP request after a full handshake (not on STARTTLS services): how it went, and the HSTS header
    # of its answer (None: absent, when http.outcome is answered).
    http: HttpCheck | None = None
    hsts: Hsts | None = None
    ocsp_stapling: OcspStapling | None = None
    # Other endpoints of the same report that accept SSLv2 with this endpoint's certificate key (DROWN);
    # None when it cannot be told (an SSLv2 endpoint is in the report, this endpoint's key is unknown).
    key_shared_with_sslv2: tuple[str, ...] | None = ()
    key_exchange: KeyExchangeFacts | None = None
    handshake: HandshakeFeatures | None = None
    known_flaws: KnownFlaws | None = None

    @property
    def subject(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        label = f"{host}:{self.port}"
        return label if self.ip == self.host else f"{label} ({self.ip})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    argv: tuple[str, ...]
    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Pin:
    """A TLS setting made outside the runtime: a service file, an env file, a process's command line."""

    setting: str  # -Djdk.tls.client.protocols, NODE_OPTIONS, OPENSSL_CONF, --tls-min-v1.3, ...
    value: str
    source: str  # FILE:LINE, or "process PID"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessInfo:
    """The running process a runtime object describes."""

    pid: int
    unit: str | None = None
    user: str | None = None
    cmdline: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeFacts:
    """One runtime found on this machine: a PHP, a JDK, a Python, ..."""

    kind: str
    path: str
    version: str | None
    details: Mapping[str, FactValue] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()
    errors: tuple[str, ...] = ()
    host: str = ""
    pins: tuple[Pin, ...] = ()  # JSON: details.pins
    process: ProcessInfo | None = None

    @property
    def subject(self) -> str:
        return f"{self.kind} {self.path}" if not self.host else f"{self.host}: {self.kind} {self.path}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureFacts:
    """What one client offered in its ClientHello to the capture listener."""

    client: str
    runtime: str | None
    legacy_version: str
    versions_offered: tuple[str, ...]
    cipher_suites: tuple[str, ...]
    sni: str | None = None
    groups: tuple[str, ...] = ()
    signature_algorithms: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    negotiated_version: str | None = None
    outcome: str = ""
    errors: tuple[str, ...] = ()
    # What the handshake showed beyond the offer.
    runtime_kind: str = ""
    peer: str = ""
    hello_format: str = ""  # "SSLv2-format ClientHello" when the client sent one; empty for a TLS hello
    versions_exact: bool = True  # False: no supported_versions, only the maximum is on the wire
    weak_suites: tuple[str, ...] = ()
    alpn: tuple[str, ...] = ()
    negotiated_cipher: str | None = None
    completed: bool | None = None
    client_result: str = ""  # what the client itself reported ("OK TLSv1.3", "FAIL ...")
    observed: bool = True  # False: nothing could be observed (client did not run, timed out unconnected)
    raw_hello: str = ""  # the exact ClientHello bytes the client sent, as hex

    @property
    def subject(self) -> str:
        return self.client if not self.runtime else f"{self.client} ({self.runtime})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    rule_id: str
    status: FindingStatus
    severity: Severity
    subject: str
    subject_kind: SubjectKind
    title: str
    message: str
    remediation: str = ""
    references: tuple[str, ...] = ()
    readiness: Readiness | None = None


_PLAIN = (str, int, float, bool, type(None))
_FIELDS: dict[type[Any], tuple[tuple[str, Any], ...]] = {}


def _fields_of(cls: type[Any]) -> tuple[tuple[str, Any], ...]:
    cached = _FIELDS.get(cls)
    if cached is None:
        cached = _FIELDS[cls] = tuple((f.name, f.default) for f in dataclasses.fields(cls))
    return cached


def to_json(value: Any) -> JsonValue:
    """Plain JSON for any model: enums as values, None and empty optionals omitted, keys as strings."""
    cls = type(value)
    if cls in _PLAIN:
        return value
    if isinstance(value, StrEnum):
        return value.value
    if hasattr(cls, "__dataclass_fields__"):
        out: dict[str, JsonValue] = {}
        for name, default in _fields_of(cls):
            item = getattr(value, name)
            kind = type(item)
            # the common leaves inline (a report holds thousands of findings): same result as the recursion
            if kind is str:
                if item or default != "":
                    out[name] = item
                continue
            if item is None or (default == () and item == ()) or (item == "" and default == ""):
                continue
            if kind in _PLAIN:
                out[name] = item
            elif kind is tuple and all(type(v) is str for v in item):
                out[name] = list(item)
            else:
                out[name] = to_json(item)
        return out
    if isinstance(value, Mapping):
        return {str(k.value if isinstance(k, StrEnum) else k): to_json(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    return value
