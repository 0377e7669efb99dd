"""Real STARTTLS servers on loopback for the tests: PostgreSQL, Dovecot (IMAP, POP3), Postfix (SMTP),
OpenLDAP's slapd, Prosody (XMPP), vsftpd (FTP AUTH TLS).

Daemons that cannot bind port 0 get a port found free just before; they are started once per test
module and stopped by their own pid.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

PG_BIN_DIRS = ("/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def find_pg_bin(name: str) -> str | None:
    for d in PG_BIN_DIRS:
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    return shutil.which(name)


@dataclass(frozen=True, slots=True, kw_only=True)
class Listener:
    port: int
    log: Path


@contextlib.contextmanager
def _on_a_free_port(
    name: str, log: Path, start: Callable[[int], subprocess.Popen[bytes]]
) -> Iterator[Listener]:
    """`start(port)` on a port found free a moment ago, again on another if someone took it meanwhile."""
    for _attempt in range(3):
        port = free_port()
        proc = start(port)
        try:
            wait_for_port(port, proc)
        except RuntimeError:
            stop(proc)
            continue
        try:
            yield Listener(port=port, log=log)
        finally:
            stop(proc)
        return
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"{name} did not start: {tail}")


def _shared_tmp(prefix: str, owner: str | None) -> Path:
    """A directory another user (the daemon's) can enter: pytest's tmp_path is private to root."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    d.chmod(0o755)
    if owner is not None and os.geteuid() == 0:
        shutil.chown(d, owner, owner)
    return d


def _run_as() -> str | None:
    return "postgres" if os.geteuid() == 0 else None


@contextlib.contextmanager
def postgres_cluster() -> Iterator[Path]:
    """An initdb'd data directory (initdb refuses to run as root: it runs as `postgres`)."""
    initdb = find_pg_bin("initdb")
    assert initdb is not None
    user = _run_as()
    base = _shared_tmp("tlsaudit-pg-", user)
    try:
        data = base / "data"
        subprocess.run(
            [initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "--no-instructions"],
            check=True,
            capture_output=True,
            timeout=120,
            user=user,
        )
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def postgres_server(
    base: Path, *, ssl: bool, cert_pem: bytes, key_pem: bytes, settings: dict[str, str] | None = None
) -> Iterator[Listener]:
    """`settings`: more `-c NAME=VALUE` (e.g. ssl_min_protocol_version)."""
    postgres = find_pg_bin("postgres")
    assert postgres is not None
    user = _run_as()
    cert, key = base / "server.crt", base / "server.key"
    cert.write_bytes(cert_pem)
    key.write_bytes(key_pem)
    key.chmod(0o600)
    if user is not None:
        for p in (cert, key):
            shutil.chown(p, user, user)
    log = base / "postgres.log"

    def start(port: int) -> subprocess.Popen[bytes]:
        argv = [
            postgres, "-D", str(base / "data"), "-p", str(port), "-k", str(base),
            "-c", "listen_addresses=127.0.0.1", "-c", f"ssl={'on' if ssl else 'off'}",
            "-c", f"ssl_cert_file={cert}", "-c", f"ssl_key_file={key}", "-c", "fsync=off",
        ]  # fmt: skip
        for name, value in (settings or {}).items():
            argv += ["-c", f"{name}={value}"]
        with open(log, "ab") as out:
            return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, user=user)

    with _on_a_free_port("postgres", log, start) as listener:
        yield listener


DOVECOT_CONF = """\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = {ssl}
{ssl_files}
disable_plaintext_auth = no
default_login_user = dovenull
default_internal_user = dovecot
auth_mechanisms = plain
passdb {{
  driver = static
  args = password=unused
}}
userdb {{
  driver = static
  args = uid=dovenull gid=dovenull home={base}/home
}}
mail_location = maildir:{base}/home/Maildir
service imap-login {{
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
{extra}
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class DovecotPorts:
    imap: int
    pop3: int
    log: Path


@contextlib.contextmanager
def dovecot_server(*, ssl: bool, cert_pem: bytes, key_pem: bytes, extra: str = "") -> Iterator[DovecotPorts]:
    """`extra`: more dovecot.conf lines (e.g. `ssl_min_protocol = TLSv1`)."""
    dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
    base = _shared_tmp("tlsaudit-dovecot-", None)
    try:
        (base / "home").mkdir()
        (base / "state").mkdir()
        cert, key = base / "server.crt", base / "server.key"
        cert.write_bytes(cert_pem)
        key.write_bytes(key_pem)
        key.chmod(0o600)
        ssl_files = f"ssl_cert = <{cert}\nssl_key = <{key}" if ssl else ""
        for _attempt in range(3):
            imap_port, pop3_port = free_port(), free_port()
            conf = base / "dovecot.conf"
            conf.write_text(
                DOVECOT_CONF.format(
                    base=base,
                    ssl="yes" if ssl else "no",
                    ssl_files=ssl_files,
                    imap_port=imap_port,
                    pop3_port=pop3_port,
                    extra=extra,
                )
            )
            proc = subprocess.Popen(
                [dovecot, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            try:
                wait_for_port(imap_port, proc)
                wait_for_port(pop3_port, proc)
            except RuntimeError:
                stop(proc)
                continue
            try:
                yield DovecotPorts(imap=imap_port, pop3=pop3_port, log=base / "dovecot.log")
            finally:
                stop(proc)
            return
        log = base / "dovecot.log"
        raise RuntimeError(
            f"dovecot did not start: {log.read_text(errors='replace')[-2000:] if log.exists() else ''}"
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)


SLAPD_CONF = """\
include /etc/ldap/schema/core.schema
pidfile {base}/slapd.pid
argsfile {base}/slapd.args
{tls}
{extra}
"""


def find_slapd() -> str | None:
    return shutil.which("slapd") or ("/usr/sbin/slapd" if os.path.exists("/usr/sbin/slapd") else None)


@contextlib.contextmanager
def slapd_server(*, tls: bool, cert_pem: bytes, key_pem: bytes, extra: str = "") -> Iterator[Listener]:
    """OpenLDAP's slapd with no database at all: enough to answer the StartTLS extended operation.
    `extra`: more slapd.conf lines (e.g. `TLSProtocolMin 3.3`, `TLSCipherSuite ...`)."""
    slapd = find_slapd()
    assert slapd is not None
    base = _shared_tmp("tlsaudit-slapd-", None)
    try:
        cert, key = base / "server.crt", base / "server.key"
        cert.write_bytes(cert_pem)
        key.write_bytes(key_pem)
        key.chmod(0o600)
        tls_lines = f"TLSCertificateFile {cert}\nTLSCertificateKeyFile {key}" if tls else ""
        conf = base / "slapd.conf"
        conf.write_text(SLAPD_CONF.format(base=base, tls=tls_lines, extra=extra))
        log = base / "slapd.log"

        def start(port: int) -> subprocess.Popen[bytes]:
            argv = [slapd, "-d", "0", "-f", str(conf), "-h", f"ldap://127.0.0.1:{port}/"]
            with open(log, "ab") as out:
                return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)

        with _on_a_free_port("slapd", log, start) as listener:
            yield listener
    finally:
        shutil.rmtree(base, ignore_errors=True)


PROSODY_CONF = """\
pidfile = "{base}/prosody.pid"
data_path = "{base}/data"
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {port} }}
s2s_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
c2s_direct_tls_ports = {{ }}
log = {{ {{ levels = {{ min = "warn" }}, to = "file", filename = "{base}/prosody.log" }} }}
modules_enabled = {{ "saslauth", "disco"{with_tls} }}
modules_disabled = {{ "s2s", "posix"{no_tls} }}
authentication = "internal_hashed"
c2s_require_encryption = {require}
{ssl}
VirtualHost "localhost"
"""


def find_prosody() -> str | None:
    return shutil.which("prosody")


@contextlib.contextmanager
def prosody_server(
    *, tls: bool, cert_pem: bytes, key_pem: bytes, ssl_options: str = ""
) -> Iterator[Listener]:
    """Prosody (XMPP) on one client port; it refuses to run as root, so it runs as `prosody`.
    `ssl_options`: more fields of its `ssl` table (e.g. `protocol = "tlsv1_2+"`)."""
    prosody = find_prosody()
    assert prosody is not None
    user = "prosody" if os.geteuid() == 0 else None
    base = _shared_tmp("tlsaudit-prosody-", user)
    try:
        (base / "data").mkdir()
        cert, key = base / "server.crt", base / "server.key"
        cert.write_bytes(cert_pem)
        key.write_bytes(key_pem)
        key.chmod(0o600)
        if user is not None:
            for p in (base / "data", cert, key):
                shutil.chown(p, user, user)
        ssl = f'ssl = {{ certificate = "{cert}", key = "{key}"{ssl_options} }}' if tls else ""
        log = base / "prosody.log"

        def start(port: int) -> subprocess.Popen[bytes]:
            conf = base / "prosody.cfg.lua"
            conf.write_text(
                PROSODY_CONF.format(
                    base=base,
                    port=port,
                    ssl=ssl,
                    require="true" if tls else "false",
                    with_tls=', "tls"' if tls else "",
                    no_tls="" if tls else ', "tls"',  # without mod_tls, STARTTLS is not offered
                )
            )
            return subprocess.Popen(
                [prosody, "-F", "--config", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                user=user,
            )

        with _on_a_free_port("prosody", log, start) as listener:
            yield listener
    finally:
        shutil.rmtree(base, ignore_errors=True)


POSTFIX_MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {base}/queue
data_directory = {base}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = localhost
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
biff = no
smtpd_banner = $myhostname ESMTP
maillog_file = /dev/stdout
smtpd_tls_security_level = {security_level}
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
{extra}
"""

POSTFIX_MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
anvil unix - - n - 1 anvil
tlsmgr unix - - n 1000? 1 tlsmgr
proxymap unix - - n - - proxymap
postlog unix-dgram n - n - 1 postlogd
"""

POSTFIX_MASTER = "/usr/lib/postfix/sbin/master"


def find_postfix_master() -> str | None:
    return POSTFIX_MASTER if os.path.exists(POSTFIX_MASTER) else None


@contextlib.contextmanager
def postfix_server(
    *, cert_pem: bytes, key_pem: bytes, tls: bool = True, extra: str = ""
) -> Iterator[Listener]:
    """A private Postfix instance: its own config, queue and data directories in a temporary directory,
    the master in the foreground (`master -c DIR -d -s`, logging to its stdout through postlogd) with one
    smtpd on 127.0.0.1 and only the services smtpd needs before a mail transaction (anvil, tlsmgr,
    proxymap, postlogd). `extra`: more main.cf lines (e.g. `smtpd_tls_protocols = >=TLSv1.2`).
    Runs as root (the master drops to `postfix` for its children); stopped with SIGTERM to the master,
    which stops its children."""
    master = find_postfix_master()
    assert master is not None
    base = _shared_tmp("tlsaudit-postfix-", None)
    try:
        conf, queue, data = base / "conf", base / "queue", base / "data"
        for d in (conf, queue, data, queue / "pid", queue / "private", queue / "public"):
            d.mkdir()
        if os.geteuid() == 0:
            shutil.chown(data, "postfix")
            shutil.chown(queue / "private", "postfix")
            shutil.chown(queue / "public", "postfix", "postdrop")
        (queue / "private").chmod(0o700)
        (queue / "public").chmod(0o710)
        cert, key = base / "server.crt", base / "server.key"
        cert.write_bytes(cert_pem)
        key.write_bytes(key_pem)
        key.chmod(0o600)
        (conf / "main.cf").write_text(
            POSTFIX_MAIN_CF.format(
                base=base, cert=cert, key=key, security_level="may" if tls else "none", extra=extra
            )
        )
        log = base / "postfix.log"

        def start(port: int) -> subprocess.Popen[bytes]:
            (conf / "master.cf").write_text(POSTFIX_MASTER_CF.format(port=port))
            for stale in (queue / "pid" / "master.pid", data / "master.lock"):
                stale.unlink(missing_ok=True)
            with open(log, "ab") as out:
                return subprocess.Popen(
                    [master, "-c", str(conf), "-d", "-s"],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "MAIL_CONFIG": str(conf)},
                )

        with _on_a_free_port("postfix", log, start) as listener:
            yield listener
    finally:
        shutil.rmtree(base, ignore_errors=True)


VSFTPD_CONF = """\
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port={port}
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=NO
pasv_enable=NO
port_enable=NO
secure_chroot_dir={base}/empty
nopriv_user=nobody
xferlog_enable=NO
vsftpd_log_file={base}/vsftpd.log
ftpd_banner=tlsaudit test FTP
seccomp_sandbox=NO
ssl_enable={ssl}
rsa_cert_file={cert}
rsa_private_key_file={key}
require_ssl_reuse=NO
{extra}
"""


def find_vsftpd() -> str | None:
    return shutil.which("vsftpd") or ("/usr/sbin/vsftpd" if os.path.exists("/usr/sbin/vsftpd") else None)


@contextlib.contextmanager
def vsftpd_server(
    *, cert_pem: bytes, key_pem: bytes, ssl: bool = True, extra: str = ""
) -> Iterator[Listener]:
    """vsftpd in standalone mode on 127.0.0.1 (FTP AUTH TLS, RFC 4217), in the foreground, with no login
    at all: enough for AUTH TLS. `extra`: more vsftpd.conf lines (e.g. `ssl_tlsv1=YES`, `ssl_ciphers=...`)."""
    vsftpd = find_vsftpd()
    assert vsftpd is not None
    base = _shared_tmp("tlsaudit-vsftpd-", None)
    try:
        (base / "empty").mkdir()
        (base / "empty").chmod(0o555)
        cert, key = base / "server.crt", base / "server.key"
        cert.write_bytes(cert_pem)
        key.write_bytes(key_pem)
        key.chmod(0o600)
        log = base / "vsftpd.log"

        def start(port: int) -> subprocess.Popen[bytes]:
            conf = base / "vsftpd.conf"
            conf.write_text(
                VSFTPD_CONF.format(
                    base=base, port=port, cert=cert, key=key, ssl="YES" if ssl else "NO", extra=extra
                )
            )
            conf.chmod(0o600)
            with open(log, "ab") as out:
                return subprocess.Popen([vsftpd, str(conf)], stdout=out, stderr=subprocess.STDOUT)

        with _on_a_free_port("vsftpd", log, start) as listener:
            yield listener
    finally:
        shutil.rmtree(base, ignore_errors=True)
