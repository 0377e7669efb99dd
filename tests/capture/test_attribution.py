"""Telling a capture run's own connections from other programs' by the token in a process environment."""

from __future__ import annotations

import os
import subprocess
import sys

from tlsaudit.capture.attribution import TOKEN_ENV, Owner, carries_token, new_token


def test_a_process_started_with_the_token_carries_it() -> None:
    token = new_token()
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"],
        stdin=subprocess.PIPE,
        env={**os.environ, TOKEN_ENV: token},
    )
    try:
        assert carries_token(Owner(pid=child.pid), token) is True
        assert carries_token(Owner(pid=child.pid), new_token()) is False
    finally:
        child.communicate(b"")


_PARENT = """
import os, subprocess, sys
env = {k: v for k, v in os.environ.items() if k != sys.argv[1]}
code = "import sys; sys.stdin.read()"
child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, env=env)
print(child.pid, flush=True)
sys.stdin.read()
child.communicate(b"")
"""


def test_a_child_without_the_token_is_known_by_its_parent() -> None:
    """A helper process that lost its copy of the environment still belongs to the client that started it."""
    token = new_token()
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, TOKEN_ENV],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, TOKEN_ENV: token},
    )
    try:
        assert parent.stdout is not None
        child_pid = int(parent.stdout.readline())
        assert carries_token(Owner(pid=child_pid), token) is True
        assert carries_token(Owner(pid=child_pid), new_token()) is False
    finally:
        parent.communicate(b"")


def test_a_process_that_has_exited_is_undecided_not_a_stranger() -> None:
    """A client that sent an alert and exited before it could be looked up is nobody's, not a stray."""
    token = new_token()
    child = subprocess.Popen([sys.executable, "-c", "pass"], env={**os.environ, TOKEN_ENV: token})
    child.wait()
    assert carries_token(Owner(pid=child.pid), token) is None


def test_sockets_that_cannot_be_mapped_take_every_connection() -> None:
    assert carries_token(Owner(pid=None, listed=False), new_token()) is True
    assert carries_token(Owner(pid=None), new_token()) is None
