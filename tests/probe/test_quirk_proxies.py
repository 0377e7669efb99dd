"""End to end through quirk proxies in front of real Python `ssl` servers: the proxies imitate middleboxes and
small stacks (wolfSSL's suite limit, the F5 hello-size hang, SChannel's resets, one-connection daemons, slow
devices). Every cell must equal what conventional clients find directly against the server behind the
proxy (`tests.support.conventional`), measured here, not written down.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.acceptor import ServerAddress
from tests.support.conventional import VERSION_KEYS, conventional_statuses
from tests.support.quirks import (
    Action,
    delayed_answer_proxy,
    many_suites_closing_proxy,
    mid_size_hello_hanging_proxy,
    one_connection_at_a_time_proxy,
    reset_everything_proxy,
    unsupported_version_resetting_proxy,
)
from tests.support.scan_cli import ScanRun, scan_cli
from tests.support.servers import VERSION_SETS, TlsServer, python_tls_server
from tests.support.wire import TLS12, TLS13

pytestmark = pytest.mark.slow


def _truth(server: TlsServer) -> dict[str, str]:
    truth = conventional_statuses(server)
    assert set(truth) == set(VERSION_KEYS)
    assert "accepted" in truth.values() and "rejected" in truth.values(), truth
    return truth


@pytest.fixture(scope="module")
def tls10_to_13() -> Iterator[tuple[TlsServer, dict[str, str]]]:
    """A Python `ssl` server accepting TLS 1.0-1.3, and what conventional clients find against it."""
    with python_tls_server(VERSION_SETS["tls10-13"]) as server:
        yield server, _truth(server)


@pytest.fixture(scope="module")
def tls12_and_13() -> Iterator[tuple[TlsServer, dict[str, str]]]:
    """A Python `ssl` server accepting TLS 1.2 and 1.3, and what conventional clients find against it."""
    with python_tls_server(VERSION_SETS["tls12+13"]) as server:
        yield server, _truth(server)


def assert_same_verdicts(run: ScanRun, truth: dict[str, str]) -> None:
    """Every cell accepted/rejected exactly as the conventional clients found it: no `unknown` anywhere."""
    assert set(run.protocols) == set(VERSION_KEYS), run.describe()
    assert run.statuses() == truth, f"expected {truth}\n{run.describe()}"


def scan_through(proxy: ServerAddress, *options: str) -> ScanRun:
    """A scan with the default options (certificate analysis included) unless `options` say otherwise."""
    return scan_cli(proxy.target, *options)


@pytest.mark.parametrize("answer", [Action.CLOSE, Action.DECODE_ERROR], ids=["close", "decode-error"])
def test_proxy_closing_on_more_than_128_suites_changes_no_verdict(
    tls10_to_13: tuple[TlsServer, dict[str, str]], answer: Action
) -> None:
    backend, truth = tls10_to_13
    with many_suites_closing_proxy(backend, answer=answer) as proxy:
        run = scan_through(proxy)
    assert_same_verdicts(run, truth)


def test_proxy_hanging_on_256_to_511_byte_hellos_changes_no_verdict(
    tls10_to_13: tuple[TlsServer, dict[str, str]],
) -> None:
    backend, truth = tls10_to_13
    with mid_size_hello_hanging_proxy(backend) as proxy:
        run = scan_through(proxy)
    assert_same_verdicts(run, truth)


def test_proxy_resetting_unsupported_versions_gives_rejected_reset(
    tls12_and_13: tuple[TlsServer, dict[str, str]], loopback_host: str
) -> None:
    backend, truth = tls12_and_13
    assert truth["TLSv1.2"] == truth["TLSv1.3"] == "accepted", truth
    with unsupported_version_resetting_proxy(backend, {TLS12, TLS13}, host=loopback_host) as proxy:
        run = scan_through(proxy)
    for version in VERSION_KEYS:
        cell = run.protocols[version]
        if truth[version] == "accepted":
            assert cell["status"] == "accepted", f"{version}\n{run.describe()}"
        else:
            assert (cell["status"], cell.get("reason_code")) == ("rejected", "reset"), (
                f"{version}\n{run.describe()}"
            )


def test_proxy_resetting_everything_gives_unknown_on_all_six(
    tls12_and_13: tuple[TlsServer, dict[str, str]],
) -> None:
    backend, _ = tls12_and_13
    with reset_everything_proxy(backend) as proxy:
        run = scan_through(proxy, "--timeout", "2", "--retries", "1")
    assert run.statuses() == dict.fromkeys(VERSION_KEYS, "unknown"), run.describe()
    assert run.returncode == 3, run.describe()


def test_server_taking_one_slow_connection_at_a_time_gets_exact_verdicts(
    tls10_to_13: tuple[TlsServer, dict[str, str]],
) -> None:
    backend, truth = tls10_to_13
    with one_connection_at_a_time_proxy(backend, service_delay=1.5) as proxy:
        run = scan_through(proxy)
    assert_same_verdicts(run, truth)


def test_server_answering_after_2_seconds_gets_exact_verdicts(
    tls10_to_13: tuple[TlsServer, dict[str, str]],
) -> None:
    backend, truth = tls10_to_13
    with delayed_answer_proxy(backend, delay=2.0) as proxy:
        run = scan_through(proxy)
    assert_same_verdicts(run, truth)
