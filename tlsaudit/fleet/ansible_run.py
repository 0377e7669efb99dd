"""Run the fleet playbook through `ansible-playbook` and gather one result per targeted inventory host.

ansible-core is the optional extra `tlsaudit[fleet]`. The playbook saves each host's collector document on
the controller; the `tree` callback leaves each host's last task result beside it, which says why a host
without a document was not assessed (unreachable, or the collector task failed).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from tlsaudit.errors import UsageError
from tlsaudit.fleet.assess import HostResult, HostStatus, load_host_file


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetRun:
    inventory: str
    forks: int = 20
    extra_args: tuple[str, ...] = ()
    keep: Path | None = None  # keep the per-host documents here
    timeout: float = 3600.0
    quiet: bool = False
    playbook: str = "playbook.yml"  # in fleet_dir()


def fleet_dir() -> Path:
    """The installed playbook and collectors (tlsaudit/fleet/)."""
    return Path(str(resources.files("tlsaudit.fleet")))


def ansible_program(name: str) -> str:
    """`ansible-playbook` beside this Python (a venv), else on PATH; UsageError naming the extra if absent."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise UsageError(f"{name} not found: install the fleet extra (pip install 'tlsaudit[fleet]')")
    return found


def targeted_hosts(run: FleetRun, env: dict[str, str]) -> list[str]:
    """The inventory hosts the play targets (--limit and other options applied), as ansible lists them."""
    argv = [
        ansible_program("ansible-playbook"),
        "-i",
        run.inventory,
        str(fleet_dir() / run.playbook),
        "--list-hosts",
        *run.extra_args,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise UsageError(f"ansible-playbook --list-hosts failed: {' '.join(tail) or done.returncode}")
    match = re.search(r"hosts \(\d+\):\n((?:[ \t]+\S.*\n?)*)", done.stdout)
    return [line.strip() for line in match.group(1).splitlines() if line.strip()] if match else []


def ansible_env(out: Path, tree: Path) -> dict[str, str]:
    """A playbook run's environment: results saved under `out`, each host's last task result in `tree`."""
    return {
        **os.environ,
        "TLSAUDIT_FLEET_OUT": str(out.resolve()),
        "ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.tree",
        "ANSIBLE_CALLBACK_TREE_DIR": str(tree),
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_PYTHON_INTERPRETER": os.environ.get("ANSIBLE_PYTHON_INTERPRETER", "auto_silent"),
    }


def run_playbook(run: FleetRun, env: dict[str, str], log: Path, *more_args: str) -> None:
    """`ansible-playbook` over `run.playbook`; its output goes to stderr (to `log` when quiet)."""
    argv = [
        ansible_program("ansible-playbook"),
        "-i",
        run.inventory,
        str(fleet_dir() / run.playbook),
        "--forks",
        str(run.forks),
        *more_args,
        *run.extra_args,
    ]
    with log.open("w", encoding="utf-8") as handle:
        subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=sys.stderr if not run.quiet else handle,
            stderr=subprocess.STDOUT,
            env=env,
            timeout=run.timeout,
            check=False,
        )


def run_fleet(run: FleetRun) -> list[HostResult]:
    """Every targeted host's result: assessed from its document, else unreachable or collector-error."""
    work = Path(tempfile.mkdtemp(prefix="tlsaudit-fleet-"))
    try:
        out = run.keep or work / "facts"
        out.mkdir(parents=True, exist_ok=True)
        tree = work / "tree"
        env = ansible_env(out, tree)
        hosts = targeted_hosts(run, env)
        run_playbook(run, env, work / "ansible.log")
        return [_host_result(name, out, tree) for name in hosts]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _host_result(name: str, out: Path, tree: Path) -> HostResult:
    document = out / f"{name}.json"
    if document.is_file():
        return load_host_file(document, name)
    last = tree / name
    if last.is_file():
        result = load_host_file(last, name)
        if result.status != HostStatus.ASSESSED:
            return result
    return HostResult(
        host=name, status=HostStatus.COLLECTOR_ERROR, reason="no result came back from this host"
    )
