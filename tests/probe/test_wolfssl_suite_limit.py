"""wolfSSL refuses a ClientHello that lists more than 150 cipher suites: recorded with raw bytes.

Debian 12's wolfSSL (libwolfssl35 5.5.x behind lighttpd's mod_wolfssl) keeps at most 300 bytes of
the client's suite list (WOLFSSL_MAX_SUITE_SZ). One suite more and the hello is a "malformed buffer
input" (-328): a TLS-1.2-only server closes the connection without a word, a TLS-1.3-capable one sends
a `decode_error` alert. A scanner that offers every registered suite in one version probe therefore
sees a refusal where a conventional client connects. The same hellos are valid: OpenSSL and GnuTLS
answer them with a ServerHello, and `openssl s_client -tls1_2` connects to the same wolfSSL server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.cross_check import s_client_handshake
from tests.support.gnutls_server import gnutls_priority, gnutls_server
from tests.support.lighttpd import LighttpdServer
from tests.support.raw_hello import (
    CONVENTIONAL_SUITES,
    Answer,
    AnswerKind,
    client_hello_tls12,
    filler_suites,
    send_hello,
)
from tests.support.tls_servers import TlsServer, openssl_s_server
from tests.support.wolfssl_server import wolfssl_server
from tlsaudit.models import TlsVersion

pytestmark = pytest.mark.slow

WOLFSSL_MAX_SUITES = 150
TLS12 = frozenset({TlsVersion.TLSv1_2})
TLS12_13 = frozenset({TlsVersion.TLSv1_2, TlsVersion.TLSv1_3})


def hello_with(count: int) -> bytes:
    """A TLS 1.2 hello listing `count` suites, the conventional ones first."""
    return client_hello_tls12([*CONVENTIONAL_SUITES, *filler_suites(count - len(CONVENTIONAL_SUITES))])


@pytest.fixture(scope="module", params=[TLS12, TLS12_13], ids=["tls12", "tls12+tls13"])
def wolfssl(request: pytest.FixtureRequest) -> Iterator[LighttpdServer]:
    with wolfssl_server(request.param) as server:
        assert s_client_handshake(server, TlsVersion.TLSv1_2).accepted, server.error_log()
        yield server


@pytest.mark.parametrize("count", [100, 128, WOLFSSL_MAX_SUITES])
def test_wolfssl_answers_a_hello_with_at_most_150_suites(wolfssl: TlsServer, count: int) -> None:
    answer = send_hello(wolfssl, hello_with(count))
    assert answer.kind is AnswerKind.SERVER_HELLO, str(answer)
    assert answer.suite in CONVENTIONAL_SUITES


@pytest.mark.parametrize("count", [WOLFSSL_MAX_SUITES + 1, 300])
def test_wolfssl_refuses_a_hello_with_more_than_150_suites(wolfssl: TlsServer, count: int) -> None:
    expected = (
        Answer(kind=AnswerKind.ALERT, alert="decode_error")
        if TlsVersion.TLSv1_3 in wolfssl.versions
        else Answer(kind=AnswerKind.CLOSED)
    )
    assert send_hello(wolfssl, hello_with(count)) == expected
    # the server is still there for a conventional client
    assert s_client_handshake(wolfssl, TlsVersion.TLSv1_2).accepted


def test_other_stacks_answer_the_same_300_suite_hello() -> None:
    hello = hello_with(300)
    with (
        openssl_s_server(["-tls1_2", "-cipher", "ALL:@SECLEVEL=0"]) as openssl,
        gnutls_server(gnutls_priority(TLS12), TLS12) as gnutls,
    ):
        for server in (openssl, gnutls):
            answer = send_hello(server, hello)
            assert answer.kind is AnswerKind.SERVER_HELLO, str(answer)
            assert answer.suite in CONVENTIONAL_SUITES
