"""Real SSH hosts for the fleet tests: each in a network namespace this test creates (a veth pair with private
10.x addresses, only inside the test's own namespaces), running Debian's sshd with key authentication and its
own environment (PATH with different runtimes first, TLS pins through sshd's SetEnv). A blackholed host has
the namespace and address but every packet to it is dropped. Everything is torn down, even on failure."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SSHD = Path("/usr/sbin/sshd")
SFTP_SERVER = Path("/usr/lib/openssh/sftp-server")


@dataclass(frozen=True, slots=True, kw_only=True)
class SshHost:
    name: str
    address: str
    blackholed: bool = False
    env: Mapping[str, str] = field(default_factory=dict)


def _run(*argv: str) -> None:
    subprocess.run(list(argv), check=True, capture_output=True, timeout=30)


def need_tools() -> None:
    if os.geteuid() != 0:
        pytest.fail("the SSH fleet test needs root (network namespaces)")
    for tool, package in (
        (SSHD, "openssh-server"),
        (SFTP_SERVER, "openssh-sftp-server"),
        (Path("/usr/bin/ssh-keygen"), "openssh-client"),
        (Path("/usr/sbin/ip"), "iproute2"),
    ):
        if not tool.is_file():
            pytest.fail(f"{tool} not installed (apt-get install {package}; .ci/system-deps)")


def _kill_namespace(namespace: str) -> None:
    """Stop what this test started inside its namespace (sshd and its sessions), by process id."""
    listed = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True, check=False)
    for pid in listed.stdout.split():
        with suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)


@contextmanager
def ssh_hosts(workdir: Path, hosts: list[SshHost]) -> Iterator[Path]:
    """Start the hosts; yield an inventory file naming them (key authentication, no host-key prompts)."""
    need_tools()
    workdir.mkdir(parents=True, exist_ok=True)
    key = workdir / "id_ed25519"
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
    host_key = workdir / "host_ed25519"
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key))
    authorized = workdir / "authorized_keys"
    shutil.copy(key.with_suffix(".pub"), authorized)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
    tag = f"{os.getpid() % 10000}{random.randrange(100)}"
    octet = random.randrange(200, 250)
    lines = ["[fleet]"]
    with ExitStack() as cleanup:
        for index, host in enumerate(hosts):
            namespace, outer, inner = f"tlsaudit-{tag}-{index}", f"tf{tag}{index}a", f"tf{tag}{index}b"
            near, far = f"10.{octet}.{index}.1", f"10.{octet}.{index}.2"
            _run("ip", "netns", "add", namespace)
            cleanup.callback(subprocess.run, ["ip", "netns", "del", namespace], check=False)
            cleanup.callback(_kill_namespace, namespace)
            _run("ip", "link", "add", outer, "type", "veth", "peer", "name", inner)
            cleanup.callback(subprocess.run, ["ip", "link", "del", outer], check=False, capture_output=True)
            _run("ip", "link", "set", inner, "netns", namespace)
            _run("ip", "addr", "add", f"{near}/30", "dev", outer)
            _run("ip", "link", "set", outer, "up")
            _run("ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up")
            _run("ip", "netns", "exec", namespace, "ip", "addr", "add", f"{far}/30", "dev", inner)
            _run("ip", "netns", "exec", namespace, "ip", "link", "set", inner, "up")
            address = far
            if host.blackholed:
                _run("ip", "route", "add", "blackhole", f"{far}/32")
                cleanup.callback(
                    subprocess.run, ["ip", "route", "del", "blackhole", f"{far}/32"], check=False
                )
            else:
                config = workdir / f"sshd-{host.name}.conf"
                settings = [
                    f"ListenAddress {far}",
                    "Port 22",
                    f"HostKey {host_key}",
                    f"AuthorizedKeysFile {authorized}",
                    "PermitRootLogin prohibit-password",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    "PidFile none",
                    f"Subsystem sftp {SFTP_SERVER}",
                ]
                if host.env:  # one SetEnv line: sshd keeps the first value of a keyword
                    settings.append("SetEnv " + " ".join(f'"{k}={v}"' for k, v in host.env.items()))
                config.write_text("\n".join(settings) + "\n", encoding="utf-8")
                log = (workdir / f"sshd-{host.name}.log").open("w", encoding="utf-8")
                cleanup.callback(log.close)
                proc = subprocess.Popen(
                    ["ip", "netns", "exec", namespace, str(SSHD), "-D", "-e", "-f", str(config)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                cleanup.callback(proc.wait, 10)
                cleanup.callback(proc.kill)
                _wait_listening(namespace, far, proc)
            lines.append(
                f"{host.name} ansible_host={address} ansible_user=root ansible_ssh_private_key_file={key} "
                "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null' "
                "ansible_ssh_timeout=5"
            )
        inventory = workdir / "hosts.ini"
        inventory.write_text("\n".join(lines) + "\n", encoding="utf-8")
        yield inventory


def _wait_listening(namespace: str, address: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd in {namespace} exited with {proc.returncode}")
        listening = subprocess.run(
            ["ip", "netns", "exec", namespace, "ss", "-Hltn", f"src {address}:22"],
            capture_output=True,
            text=True,
            check=False,
        )
        if listening.stdout.strip():
            return
        time.sleep(0.1)
    raise RuntimeError(f"sshd in {namespace} did not listen on {address}:22")
