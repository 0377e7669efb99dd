"""`tlsaudit scan` through STARTTLS against real daemons: every TLS cell must agree with `openssl s_client`.

For each daemon configuration (Postfix, Dovecot IMAP and POP3, vsftpd, OpenLDAP's slapd (GnuTLS on
Debian), Prosody, PostgreSQL; each with a set of enabled versions, tests/probe/daemons.py) the daemon
starts once, on 127.0.0.1 only, then:

1. each TLS version is tried by `openssl s_client -starttls PROTO -tls1 | -tls1_1 | -tls1_2 | -tls1_3
   -cipher ALL:@SECLEVEL=0` (tests/support/cross_check.py): that is the truth;
2. the real CLI scans it: `tlsaudit scan --no-certificates --format json -o - -q URL --timeout 3`.

The fixture first checks the truth against the versions the configuration enables (a broken fixture is a
setup error, not a scanner failure); the test then checks every TLS cell against the truth, and SSLv2 and
SSLv3 are `rejected` (every daemon here is built on OpenSSL 3 or GnuTLS 3, which cannot speak them).

`test_full_scan_reads_right` scans one configuration per daemon with the default depth (certificate,
suites, handshake features, known flaws) and reads the report: the certificate collected, suites listed
for every accepted version, the STARTTLS dialect marked, and no `unknown` cell nor `errors[]`.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.probe import daemons, pki
from tests.support.acceptor import ServerAddress
from tests.support.clients import Handshake
from tests.support.cross_check import s_client_handshake
from tests.support.scan_cli import ScanRun, scan_cli
from tlsaudit.models import TlsVersion

pytestmark = pytest.mark.slow

TLS_VERSIONS = (TlsVersion.TLSv1_0, TlsVersion.TLSv1_1, TlsVersion.TLSv1_2, TlsVersion.TLSv1_3)
ALL_TLS = frozenset(TLS_VERSIONS)
TLS12_UP = frozenset({TlsVersion.TLSv1_2, TlsVersion.TLSv1_3})
TLS13 = frozenset({TlsVersion.TLSv1_3})
TLS12 = frozenset({TlsVersion.TLSv1_2})
XMPP_DOMAIN = "localhost"
"""Prosody serves this domain only: XMPP names it in the stream header (RFC 6120 4.7.2), so both the
reference client (`-xmpphost`) and the scan (`--sni`) must be told it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Service:
    """One STARTTLS listener of a running daemon."""

    scheme: str  # the URL scheme tlsaudit is given
    dialect: str  # `openssl s_client -starttls` name
    port: int

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def scan_args(self) -> tuple[str, ...]:
        return ("--sni", XMPP_DOMAIN) if self.dialect == "xmpp" else ()


Starter = Callable[[pki.Issued, pytest.FixtureRequest], contextlib.AbstractContextManager[list[Service]]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    name: str
    daemon: str  # what must be installed
    versions: frozenset[TlsVersion]  # what the configuration enables
    start: Starter


def _installed(daemon: str) -> bool:
    found: dict[str, Callable[[], object]] = {
        "postfix": daemons.find_postfix_master,
        "dovecot": lambda: shutil.which("dovecot") or (Path("/usr/sbin/dovecot").exists() or None),
        "vsftpd": daemons.find_vsftpd,
        "slapd": daemons.find_slapd,
        "prosody": daemons.find_prosody,
        "postgres": lambda: daemons.find_pg_bin("postgres") and daemons.find_pg_bin("initdb"),
    }
    return bool(found[daemon]())


def _postfix(extra: str) -> Starter:
    @contextlib.contextmanager
    def start(leaf: pki.Issued, request: pytest.FixtureRequest) -> Iterator[list[Service]]:
        with daemons.postfix_server(cert_pem=leaf.pem, key_pem=leaf.key_pem, extra=extra) as pf:
            yield [Service(scheme="smtp", dialect="smtp", port=pf.port)]

    return start


def _dovecot(extra: str) -> Starter:
    @contextlib.contextmanager
    def start(leaf: pki.Issued, request: pytest.FixtureRequest) -> Iterator[list[Service]]:
        with daemons.dovecot_server(ssl=True, cert_pem=leaf.pem, key_pem=leaf.key_pem, extra=extra) as dc:
            yield [
                Service(scheme="imap", dialect="imap", port=dc.imap),
                Service(scheme="pop3", dialect="pop3", port=dc.pop3),
            ]

    return start


def _vsftpd(extra: str) -> Starter:
    @contextlib.contextmanager
    def start(leaf: pki.Issued, request: pytest.FixtureRequest) -> Iterator[list[Service]]:
        with daemons.vsftpd_server(cert_pem=leaf.pem, key_pem=leaf.key_pem, extra=extra) as ftp:
            yield [Service(scheme="ftp", dialect="ftp", port=ftp.port)]

    return start


def _slapd(priority: str) -> Starter:
    @contextlib.contextmanager
    def start(leaf: pki.Issued, request: pytest.FixtureRequest) -> Iterator[list[Service]]:
        extra = f"TLSCipherSuite {priority}"
        with daemons.slapd_server(tls=True, cert_pem=leaf.pem, key_pem=leaf.key_pem, extra=extra) as ldap:
            yield [Service(scheme="ldap", dialect="ldap", port=ldap.port)]

    return start


def _prosody(ssl_options: str) -> Starter:
    @contextlib.contextmanager
    def start(leaf: pki.Issued, request: pytest.FixtureRequest) -> Iterator[list[Service]]:
        with daemons.prosody_server(
            tls=True, cert_pem=leaf.pem, key_pem=leaf.key_pem, ssl_options=ssl_options
        ) as xmpp:
            yield [Service(scheme="xmpp", dialect="xmpp", port=xmpp.port)]

    return start


def _postgres(settings: dict[str, str]) -> Starter:
    @contextlib.contextmanager
    def start(leaf: pki.Issued, request: pytest.FixtureRequest) -> Iterator[list[Service]]:
        cluster: Path = request.getfixturevalue("pg_cluster")
        with daemons.postgres_server(
            cluster, ssl=True, cert_pem=leaf.pem, key_pem=leaf.key_pem, settings=settings
        ) as pg:
            yield [Service(scheme="postgres", dialect="postgres", port=pg.port)]

    return start


# OpenSSL 3 refuses TLS 1.0 and 1.1 at security level 1 and above: configurations that enable them
# lower it. Debian links slapd with GnuTLS, whose priority strings pick the versions.
_CONFIGS = (
    Config(
        name="postfix-tls1.2+",
        daemon="postfix",
        versions=TLS12_UP,
        start=_postfix("smtpd_tls_protocols = >=TLSv1.2\nsmtpd_tls_mandatory_protocols = >=TLSv1.2"),
    ),
    Config(
        name="postfix-tls1+",
        daemon="postfix",
        versions=ALL_TLS,
        start=_postfix(
            "smtpd_tls_protocols = >=TLSv1\nsmtpd_tls_mandatory_protocols = >=TLSv1\n"
            "smtpd_tls_ciphers = medium\ntls_medium_cipherlist = ALL:@SECLEVEL=0"
        ),
    ),
    Config(
        name="postfix-tls1.3",
        daemon="postfix",
        versions=TLS13,
        start=_postfix("smtpd_tls_protocols = >=TLSv1.3\nsmtpd_tls_mandatory_protocols = >=TLSv1.3"),
    ),
    Config(
        name="dovecot-tls1+",
        daemon="dovecot",
        versions=ALL_TLS,
        start=_dovecot("ssl_min_protocol = TLSv1\nssl_cipher_list = ALL:@SECLEVEL=0"),
    ),
    Config(
        name="dovecot-tls1.2+",
        daemon="dovecot",
        versions=TLS12_UP,
        start=_dovecot("ssl_min_protocol = TLSv1.2"),
    ),
    Config(
        name="dovecot-tls1.3", daemon="dovecot", versions=TLS13, start=_dovecot("ssl_min_protocol = TLSv1.3")
    ),
    Config(
        name="vsftpd-tls1+",
        daemon="vsftpd",
        versions=ALL_TLS,
        start=_vsftpd("ssl_tlsv1=YES\nssl_ciphers=ALL:@SECLEVEL=0"),
    ),
    Config(
        name="vsftpd-tls1.2+",
        daemon="vsftpd",
        versions=TLS12_UP,
        start=_vsftpd("ssl_tlsv1=NO\nssl_ciphers=HIGH"),
    ),
    Config(
        name="slapd-tls1+",
        daemon="slapd",
        versions=ALL_TLS,
        start=_slapd("NORMAL:-VERS-ALL:+VERS-TLS1.0:+VERS-TLS1.1:+VERS-TLS1.2:+VERS-TLS1.3"),
    ),
    Config(
        name="slapd-tls1.2", daemon="slapd", versions=TLS12, start=_slapd("NORMAL:-VERS-ALL:+VERS-TLS1.2")
    ),
    Config(
        name="slapd-tls1.3", daemon="slapd", versions=TLS13, start=_slapd("NORMAL:-VERS-ALL:+VERS-TLS1.3")
    ),
    Config(
        name="prosody-tls1+",
        daemon="prosody",
        versions=ALL_TLS,
        start=_prosody(', protocol = "tlsv1+", ciphers = "ALL:@SECLEVEL=0"'),
    ),
    Config(
        name="prosody-tls1.2+", daemon="prosody", versions=TLS12_UP, start=_prosody(', protocol = "tlsv1_2+"')
    ),
    Config(name="prosody-tls1.3", daemon="prosody", versions=TLS13, start=_prosody(', protocol = "tlsv1_3"')),
    Config(
        name="postgres-tls1+",
        daemon="postgres",
        versions=ALL_TLS,
        start=_postgres({"ssl_min_protocol_version": "TLSv1", "ssl_ciphers": "ALL:@SECLEVEL=0"}),
    ),
    Config(
        name="postgres-tls1.2+",
        daemon="postgres",
        versions=TLS12_UP,
        start=_postgres({"ssl_min_protocol_version": "TLSv1.2"}),
    ),
    Config(
        name="postgres-tls1.2",
        daemon="postgres",
        versions=TLS12,
        start=_postgres({"ssl_min_protocol_version": "TLSv1.2", "ssl_max_protocol_version": "TLSv1.2"}),
    ),
    Config(
        name="postgres-tls1.3",
        daemon="postgres",
        versions=TLS13,
        start=_postgres({"ssl_min_protocol_version": "TLSv1.3"}),
    ),
)
CONFIGS: dict[str, Config] = {c.name: c for c in _CONFIGS}
FULL_SCAN_CONFIGS = (
    "postfix-tls1+",
    "dovecot-tls1+",
    "vsftpd-tls1+",
    "slapd-tls1+",
    "prosody-tls1.2+",
    "postgres-tls1.2+",
)
"""One configuration per daemon for the default-depth scan, old versions enabled where that is possible."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceRun:
    config: Config
    service: Service
    truth: dict[TlsVersion, Handshake]
    scan: ScanRun

    def label(self) -> str:
        return f"{self.config.name} {self.service.url}"

    def truth_lines(self) -> list[str]:
        return [
            f"  {v}: openssl s_client -starttls {self.service.dialect}: "
            + ("accepted" if h.accepted else f"rejected ({h.error})")
            for v, h in self.truth.items()
        ]


def measure(service: Service) -> dict[TlsVersion, Handshake]:
    """`openssl s_client -starttls` pinned to each TLS version; accepted only at exactly that version."""
    address = ServerAddress(host="127.0.0.1", port=service.port)
    results: dict[TlsVersion, Handshake] = {}
    for version in TLS_VERSIONS:
        handshake = s_client_handshake(address, version, starttls=service.dialect, xmpphost=XMPP_DOMAIN)
        if handshake.accepted and handshake.version is not version:
            handshake = Handshake(version=None, error=f"negotiated {handshake.version} instead")
        results[version] = handshake
    return results


@pytest.fixture(scope="module")
def leaf() -> pki.Issued:
    return pki.make_leaf(None, names=("localhost", "127.0.0.1"))


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[Path]:
    with daemons.postgres_cluster() as base:
        yield base


def _run(
    config: Config, leaf: pki.Issued, request: pytest.FixtureRequest, *scan_args: str
) -> list[ServiceRun]:
    if not _installed(config.daemon):
        pytest.fail(f"{config.daemon} is not installed (make system-deps)")
    runs = []
    with config.start(leaf, request) as services:
        for service in services:
            truth = measure(service)
            scan = scan_cli(service.url, *service.scan_args, "--timeout", "3", *scan_args)
            runs.append(ServiceRun(config=config, service=service, truth=truth, scan=scan))
    for run in runs:
        found = frozenset(v for v, h in run.truth.items() if h.accepted)
        if found != config.versions:
            pytest.fail(
                "\n".join(
                    [
                        f"broken fixture {run.label()}: configured {sorted(config.versions)}, "
                        f"s_client found {sorted(found)}",
                        *run.truth_lines(),
                    ]
                )
            )
    return runs


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def version_runs(request: pytest.FixtureRequest, leaf: pki.Issued) -> list[ServiceRun]:
    return _run(CONFIGS[str(request.param)], leaf, request, "--no-certificates")


def test_starttls_scan_matches_s_client(version_runs: list[ServiceRun]) -> None:
    """Each TLS cell is `accepted` exactly where s_client finished a handshake; SSLv2/SSLv3 `rejected`."""
    for run in version_runs:
        assert run.scan.returncode in (0, 1, 3), run.scan.describe()
        assert run.scan.endpoint.get("starttls") == run.service.dialect, run.scan.describe()
        wrong = []
        for version in (TlsVersion.SSLv2, TlsVersion.SSLv3, *TLS_VERSIONS):
            handshake = run.truth.get(version)
            expected = "accepted" if handshake is not None and handshake.accepted else "rejected"
            cell = run.scan.protocols[str(version)]
            if cell["status"] != expected:
                wrong.append(
                    f"  {version}: scan {cell['status']} ({cell.get('reason')}), expected {expected}"
                )
        assert not wrong, "\n".join(
            [run.label(), *wrong, "scan:", run.scan.describe(), "s_client:", *run.truth_lines()]
        )


@pytest.mark.parametrize("name", FULL_SCAN_CONFIGS)
def test_full_scan_reads_right(name: str, leaf: pki.Issued, request: pytest.FixtureRequest) -> None:
    """A default-depth scan: certificate, suites per accepted version, STARTTLS marked, nothing unknown."""
    for run in _run(CONFIGS[name], leaf, request):
        endpoint = run.scan.endpoint
        describe = f"{run.label()}\n{run.scan.describe()}"
        assert run.scan.returncode in (0, 1), describe
        assert endpoint.get("starttls") == run.service.dialect, describe
        assert str(endpoint.get("certificate", {}).get("subject", "")).startswith("CN=localhost"), describe
        assert not endpoint.get("errors"), describe
        statuses = run.scan.statuses()
        assert "unknown" not in statuses.values() and "error" not in statuses.values(), describe
        listed = {s["version"] for s in endpoint.get("cipher_suites", []) if s.get("accepted")}
        accepted = {str(v) for v in run.config.versions}
        assert listed == accepted, (
            f"suites listed for {sorted(listed)}, accepted {sorted(accepted)}\n{describe}"
        )
        assert not [f for f in run.scan.findings() if f["status"] == "error"], describe
