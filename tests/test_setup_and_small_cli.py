"""Small things a new user meets first: the set-up order in the README, what `make system-deps` may change,
and the header of `tlsaudit rules list`."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_readme_installs_python3_venv_before_the_first_command_that_needs_it() -> None:
    setup = (REPO / "README.md").read_text(encoding="utf-8").split("## Usage", 1)[0]
    block = re.search(r"```sh\n(.*?)```", setup, re.S)
    assert block is not None
    commands = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    venv_line = next(i for i, c in enumerate(commands) if "python3-venv" in c)
    first_venv_user = next(i for i, c in enumerate(commands) if re.match(r"make (demo|test|venv)\b", c))
    assert venv_line < first_venv_user, commands


def test_system_deps_never_upgrades_installed_packages() -> None:
    script = (REPO / ".ci" / "system-deps").read_text(encoding="utf-8")
    assert subprocess.run(["bash", "-n", str(REPO / ".ci" / "system-deps")], check=False).returncode == 0
    joined = script.replace("\\\n", " ")
    installs = [line for line in joined.splitlines() if re.search(r"\bapt-get\b.*\binstall\b", line)]
    assert installs
    for line in installs:
        words = shlex.split(line.split("#", 1)[0])
        if "--no-install-recommends" in words and "make" not in words:  # the package install proper
            assert "--no-upgrade" in words, line
    assert "upgrade" not in [w for line in installs for w in shlex.split(line.split("#", 1)[0])]


def test_rules_list_has_a_header() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tlsaudit", "rules", "list"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["RULE", "STATUS", "SEVERITY", "TITLE"]
    assert lines[1].split()[0] == lines[1].split()[0].lower()  # then the rules, one per line
    # Each column starts under its heading.
    assert lines[1].index(lines[1].split()[1]) == lines[0].index("STATUS")
