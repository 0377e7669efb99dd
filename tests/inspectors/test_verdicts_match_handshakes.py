"""The verdicts agree with what the runtimes actually do: each client handshakes with a TLS 1.2-only loopback
server, with and without an OPENSSL_CONF that caps the protocol at TLS 1.1 (the knob of fact base 11.3)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.inspectors.live import base_env, need
from tests.support.servers import VERSION_SETS, tls_server
from tlsaudit.engine import evaluate, load_ruleset
from tlsaudit.inspectors import InspectOptions, inspect_runtimes
from tlsaudit.models import Readiness

POLICY = Path(__file__).resolve().parents[1] / "data" / "all-rules-policy.toml"
MAX_TLS11 = (
    "openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sd\n[sd]\nMaxProtocol = TLSv1.1\n"
)

PYTHON_CLIENT = (
    "import socket,ssl,sys\n"
    "c=ssl.create_default_context(); c.check_hostname=False; c.verify_mode=ssl.CERT_NONE\n"
    "s=c.wrap_socket(socket.create_connection(('127.0.0.1',int(sys.argv[1])),timeout=5))\n"
    "print(s.version())\n"
)
PHP_CURL_CLIENT = (
    '$h=curl_init("https://127.0.0.1:".$argv[1]."/"); curl_setopt($h,CURLOPT_SSL_VERIFYPEER,false);'
    "curl_setopt($h,CURLOPT_SSL_VERIFYHOST,0); curl_setopt($h,CURLOPT_RETURNTRANSFER,1);"
    "curl_setopt($h,CURLOPT_TIMEOUT,5); exit(curl_exec($h)===false ? 1 : 0);"
)
NODE_CLIENT = (
    "const t=require('tls');"
    "const s=t.connect({host:'127.0.0.1',port:+process.argv[1],rejectUnauthorized:false},"
    "()=>{console.log(s.getProtocol());s.end();process.exit(0)});s.on('error',()=>process.exit(1));"
    "setTimeout(()=>process.exit(2),5000)"
)


@pytest.mark.parametrize("capped", [False, True], ids=["default", "openssl-conf-max-tls11"])
@pytest.mark.parametrize(
    ("kind", "program", "install", "argv"),
    [
        ("python", "python3.11", "apt-get install python3.11", lambda port: ["-c", PYTHON_CLIENT, port]),
        ("php", "php", "apt-get install php-cli php-curl", lambda port: ["-r", PHP_CURL_CLIENT, port]),
        ("node", "node", "apt-get install nodejs", lambda port: ["-e", NODE_CLIENT, port]),
    ],
)
def test_ready_means_a_tls12_only_server_is_reached(
    kind: str, program: str, install: str, argv: object, capped: bool, tmp_path: Path
) -> None:
    binary = need(program, install)
    env = base_env()
    if capped:
        conf = tmp_path / "max-tls11.cnf"
        conf.write_text(MAX_TLS11)
        env["OPENSSL_CONF"] = str(conf)
    with tls_server(VERSION_SETS["tls12"]) as server:
        assert callable(argv)
        done = subprocess.run(
            [str(binary), *argv(str(server.port))],
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=30,
            cwd=tmp_path,
        )
    connected = done.returncode == 0
    runtimes = inspect_runtimes(
        InspectOptions(kinds=(kind,), extra_paths={kind: [binary]}, search_system=False, environ=env)
    )
    readiness = evaluate(load_ruleset(POLICY), runtimes=runtimes).readiness[runtimes[0].subject]
    assert (readiness == Readiness.READY) is connected, (readiness, done.stdout, done.stderr)
    # the knob breaks Python (it obeys openssl.cnf); libcurl and Node set their own protocol range
    assert connected is not (capped and kind == "python")
