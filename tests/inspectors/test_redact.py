"""Secret redaction in evidence."""

from __future__ import annotations

import pytest

from tlsaudit.inspectors.redact import REDACTED, redact_argv, redact_env, redact_text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("-Djavax.net.ssl.keyStorePassword=changeit", "changeit"),
        ("Picked up JAVA_TOOL_OPTIONS: -Djavax.net.ssl.trustStorePassword=s3cret -Dx=1", "s3cret"),
        ("    javax.net.ssl.keyStorePassword = hunter2", "hunter2"),
        ("DB_PASSWORD=abc123", "abc123"),
        ("GITHUB_TOKEN: ghp_abcdefghijklmnop", "ghp_abcdefghijklmnop"),
        ("client_secret='quoted value'", "quoted value"),
        ("api_key=AKIA1234", "AKIA1234"),
        ("https://user:pa55@example.org/path", "pa55"),
        ("Authorization: Bearer abcdefghijklmnop", "abcdefghijklmnop"),
        ('-Dcom.example.passphrase="two words"', "two words"),
    ],
)
def test_secrets_removed(text: str, secret: str) -> None:
    out = redact_text(text)
    assert secret not in out
    assert REDACTED in out


@pytest.mark.parametrize(
    "text",
    [
        "jdk.tls.disabledAlgorithms=SSLv3, TLSv1, TLSv1.1",
        "-Djdk.tls.client.protocols=TLSv1",
        "OpenSSL 3.0.19 27 Jan 2026",
        "keysize=2048 keyStoreType=PKCS12",
        "https://example.org/path",
    ],
)
def test_facts_kept(text: str) -> None:
    assert redact_text(text) == text


def test_argv_and_env() -> None:
    assert redact_argv(["java", "-Djavax.net.ssl.keyStorePassword=x"]) == (
        "java",
        f"-Djavax.net.ssl.keyStorePassword={REDACTED}",
    )
    env = redact_env(
        {"DB_PASSWORD": "x", "PATH": "/bin", "API_TOKEN": "y", "JAVA_TOOL_OPTIONS": "-Dtoken=z -Da=b"}
    )
    assert env == {
        "DB_PASSWORD": REDACTED,
        "PATH": "/bin",
        "API_TOKEN": REDACTED,
        "JAVA_TOOL_OPTIONS": f"-Dtoken={REDACTED} -Da=b",
    }


def test_long_runs_of_word_characters_are_redacted_in_one_pass() -> None:
    # each took minutes with patterns that backtrack quadratically; the suite timeout catches a relapse
    for text in ("x" * 200_000, "password" * 20_000, "a=b" * 50_000):
        assert redact_text(text) == text
    assert redact_text("x=password:" * 20_000) == f"x=password:{REDACTED}"
    assert redact_text("a=password=hunter2") == f"a=password={REDACTED}"
