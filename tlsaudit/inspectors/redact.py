"""Secret redaction for evidence: command lines, environment values and program output."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

REDACTED = "<redacted>"

# A name that says "secret": keyStorePassword, trustStorePassword, DB_PASSWORD, API_TOKEN, client_secret, ...
_SECRET_NAME = (
    r"[\w.\-]*(?:passw(?:or)?d|passphrase|pwd|secret|token|api[_\-.]?key|access[_\-.]?key"
    r"|private[_\-.]?key|credential)[\w.\-]*"
)

# name=value or name: value (also "name = value" as -XshowSettings prints properties)
_ASSIGNMENT = re.compile(
    rf"(?P<name>(?<![\w.\-]){_SECRET_NAME})(?P<sep>\s*[=:]\s*)(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;&\"']+)",
    re.IGNORECASE,
)
# https://user:secret@host (the scheme starts where a word starts: a long run of letters is scanned once,
# not once per letter)
_URL_USERINFO = re.compile(
    r"(?P<pre>(?<![a-z0-9+.\-])[a-z][a-z0-9+.\-]*://[^/\s:@]+:)(?P<secret>[^/\s@]+)(?P<at>@)", re.IGNORECASE
)
# Authorization: Bearer xyz / Basic xyz
_AUTH_HEADER = re.compile(r"(?P<pre>\b(?:Bearer|Basic)\s+)(?P<secret>[A-Za-z0-9._~+/=\-]{8,})")
_SECRET_ENV_NAME = re.compile(rf"^{_SECRET_NAME}$", re.IGNORECASE)


def redact_text(text: str) -> str:
    """The text with every recognisable secret value replaced by `<redacted>`."""
    text = _AUTH_HEADER.sub(lambda m: f"{m.group('pre')}{REDACTED}", text)
    text = _ASSIGNMENT.sub(lambda m: f"{m.group('name')}{m.group('sep')}{REDACTED}", text)
    return _URL_USERINFO.sub(lambda m: f"{m.group('pre')}{REDACTED}{m.group('at')}", text)


def redact_argv(argv: Iterable[str]) -> tuple[str, ...]:
    return tuple(redact_text(arg) for arg in argv)


def is_secret_name(name: str) -> bool:
    """An environment variable whose name says it holds a secret (DB_PASSWORD, GITHUB_TOKEN, ...)."""
    return bool(_SECRET_ENV_NAME.match(name))


def redact_env(env: Mapping[str, str]) -> dict[str, str]:
    """Environment values as they may be shown: secret-named variables hidden, the rest redacted as text."""
    return {name: REDACTED if is_secret_name(name) else redact_text(value) for name, value in env.items()}
