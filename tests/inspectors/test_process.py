"""The one subprocess runner: timeouts, crashes, garbage, size limits, cwd, env and redaction, for real."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from tlsaudit.inspectors.process import find_program, run

PY = sys.executable


def test_runs_with_explicit_env_and_captures_both_streams() -> None:
    result = run(
        [PY, "-c", "import os,sys; print(os.environ.get('ONLY_THIS')); print('err', file=sys.stderr)"],
        env={"ONLY_THIS": "yes"},
    )
    assert result.ok
    assert result.stdout.strip() == "yes"
    assert result.stderr.strip() == "err"
    assert result.evidence.argv[0] == PY and result.evidence.exit_code == 0


def test_environment_is_not_inherited() -> None:
    os.environ["TLSAUDIT_SHOULD_NOT_LEAK"] = "1"
    try:
        result = run([PY, "-c", "import os; print(os.environ.get('TLSAUDIT_SHOULD_NOT_LEAK'))"], env={})
    finally:
        del os.environ["TLSAUDIT_SHOULD_NOT_LEAK"]
    assert result.stdout.strip() == "None"


def test_working_directory_is_a_fresh_empty_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "php.ini").write_text("planted")
    result = run([PY, "-c", "import os; print(os.getcwd()); print(os.listdir('.'))"], env={})
    cwd, listing = result.stdout.splitlines()
    assert Path(cwd) != tmp_path
    assert listing == "[]"
    assert not Path(cwd).exists()  # removed afterwards


def test_relative_program_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="absolute path"):
        run(["php", "-v"], env={"PATH": "."})
    with pytest.raises(ValueError, match="absolute path"):
        run([], env={})


def test_find_program_skips_relative_and_empty_path_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "php"
    fake.write_text("#!/bin/sh\necho planted\n")
    fake.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    assert find_program("php", {"PATH": f".{os.pathsep}{os.pathsep}bin"}) is None
    assert find_program("php", {"PATH": str(tmp_path)}) == fake


def test_timeout_kills_the_process_group() -> None:
    start = time.monotonic()
    result = run(
        [
            PY,
            "-c",
            "import subprocess,sys,time; "
            "subprocess.Popen([sys.executable,'-c','import time; time.sleep(60)']); time.sleep(60)",
        ],
        env={},
        timeout=1,
    )
    assert time.monotonic() - start < 10
    assert result.failure == "timed out after 1s"
    assert result.evidence.exit_code is None
    assert "timed out" in result.evidence.note
    assert not result.ok


def test_crash_by_signal() -> None:
    result = run([PY, "-c", "import os,signal; os.kill(os.getpid(), signal.SIGSEGV)"], env={})
    assert result.failure == "killed by signal SIGSEGV"


def test_nonzero_exit_is_not_a_failure_reason_but_not_ok() -> None:
    result = run([PY, "-c", "import sys; sys.exit(3)"], env={})
    assert result.failure is None and result.evidence.exit_code == 3 and not result.ok


def test_binary_garbage() -> None:
    result = run([PY, "-c", "import os,sys; sys.stdout.buffer.write(os.urandom(4096))"], env={})
    assert result.failure == "printed binary or undecodable output"
    assert "\x00" not in result.stdout


def test_output_is_bounded() -> None:
    result = run([PY, "-c", "import sys; sys.stdout.write('x' * 5_000_000)"], env={}, max_output=1000)
    assert result.ok
    assert len(result.stdout) == 1000
    assert "output truncated at 1000 bytes (stdout)" in result.evidence.note


@pytest.mark.parametrize(
    ("mode", "content", "reason"),
    [(0o644, "#!/bin/sh\n", "not an executable file"), (None, "", "not found")],
)
def test_not_executable(tmp_path: Path, mode: int | None, content: str, reason: str) -> None:
    program = tmp_path / "java"
    if mode is not None:
        program.write_text(content)
        program.chmod(mode)
    result = run([str(program), "-version"], env={})
    assert result.failure == f"{program}: {reason}"
    assert result.evidence.exit_code is None


def test_exec_format_error(tmp_path: Path) -> None:
    program = tmp_path / "php"
    program.write_bytes(b"\x7fELF garbage that is not a program")
    program.chmod(0o755)
    result = run([str(program)], env={})
    assert result.failure is not None and "cannot run" in result.failure


def test_secrets_are_redacted_in_argv_and_output() -> None:
    result = run(
        [
            PY,
            "-c",
            "print('javax.net.ssl.keyStorePassword = hunter2'); print('https://bob:s3cret@host/')",
            "-Djavax.net.ssl.trustStorePassword=changeit",
        ],
        env={},
    )
    assert "hunter2" not in result.stdout and "s3cret" not in result.stdout
    assert "<redacted>" in result.stdout
    assert result.evidence.argv[-1] == "-Djavax.net.ssl.trustStorePassword=<redacted>"
