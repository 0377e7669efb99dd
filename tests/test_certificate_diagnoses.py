"""Certificate verdicts through the real CLI against real servers, each cross-checked with real clients
(openssl verify / s_client, Python's ssl, curl): one finding per cause, plain words, right day counts."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.certs import CertFiles, CertSpec, Validity, make_cert
from tests.support.servers import TlsServer, python_tls_server
from tlsaudit.models import TlsVersion
from tlsaudit.report import validate_report

OPENSSL = shutil.which("openssl")
CURL = shutil.which("curl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl not found (Debian package openssl)")
needs_curl = pytest.mark.skipif(CURL is None, reason="curl not found (Debian package curl)")

PROBLEMS = ("fail", "warn", "error")


def scan_json(server: TlsServer, ca: Path) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tlsaudit",
            "scan",
            f"localhost:{server.port}",
            "--ca-file",
            str(ca),
            *("--timeout", "3", "--format", "json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    validate_report(report)
    return result.returncode, report


def problems(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["rule_id"]: f for f in report["findings"] if f["status"] in PROBLEMS}


def python_client(port: int, ca: Path, *, strict: bool = False) -> str:
    """'ok' or the reason Python's ssl gives for refusing the server."""
    context = ssl.create_default_context(cafile=str(ca))
    if strict:
        context.verify_flags |= ssl.VERIFY_X509_STRICT  # the default from Python 3.13 on
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname="localhost"),
        ):
            return "ok"
    except ssl.SSLCertVerificationError as exc:
        return str(exc.verify_message)


def curl_accepts(port: int, ca: Path) -> bool:
    assert CURL is not None
    argv = [CURL, "--silent", "--show-error", "--max-time", "10", "--cacert", str(ca)]
    argv += ["--resolve", f"localhost:{port}:127.0.0.1", f"https://localhost:{port}/"]
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result.returncode == 0


def openssl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, *args], capture_output=True, text=True, cwd=cwd, timeout=60, check=False)


def internal_ca_the_common_way(folder: Path) -> CertFiles:
    """An internal CA made with `openssl req -x509` (no keyUsage extension) and a localhost leaf from it."""
    steps = [
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
         "-days", "3650", "-subj", "/CN=Internal Test Root"],
        ["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr",
         "-subj", "/CN=localhost"],
        ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
         "-days", "365", "-out", "leaf.pem", "-extfile", "leaf.ext"],
    ]  # fmt: skip
    (folder / "leaf.ext").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\nextendedKeyUsage=serverAuth\n"
    )
    for step in steps:
        done = openssl(*step, cwd=folder)
        assert done.returncode == 0, done.stderr
    ca_text = openssl("x509", "-in", "ca.pem", "-noout", "-text", cwd=folder).stdout
    assert "Key Usage" not in ca_text, "the CA must be made without keyUsage, as openssl req -x509 does"
    return CertFiles(
        spec=CertSpec(),
        leaf=folder / "leaf.pem",
        chain=folder / "leaf.pem",
        key=folder / "leaf.key",
        ca=folder / "ca.pem",
        intermediate=None,
    )


@needs_openssl
@needs_curl
def test_internal_ca_without_key_usage_is_trusted_as_real_clients_decide(tmp_path: Path) -> None:
    files = internal_ca_the_common_way(tmp_path)
    # The real clients: OpenSSL, Python's ssl and curl accept the chain; strict mode refuses it.
    assert openssl("verify", "-CAfile", "ca.pem", "leaf.pem", cwd=tmp_path).returncode == 0
    strict = openssl("verify", "-x509_strict", "-CAfile", "ca.pem", "leaf.pem", cwd=tmp_path)
    assert strict.returncode != 0 and "key usage" in (strict.stdout + strict.stderr).lower()
    with python_tls_server({TlsVersion.TLSv1_2, TlsVersion.TLSv1_3}, cert=files) as server:
        assert python_client(server.port, files.ca) == "ok"
        assert python_client(server.port, files.ca, strict=True) != "ok"
        assert curl_accepts(server.port, files.ca)
        code, report = scan_json(server, files.ca)
    certificate = report["endpoints"][0]["certificate"]
    assert certificate["trusted"] is True, certificate
    found = problems(report)
    assert set(found) == {"endpoint.cert-profile-nonconformant"}, found
    warning = found["endpoint.cert-profile-nonconformant"]
    assert warning["status"] == "warn"
    assert "no keyUsage extension" in warning["message"] and "CN=Internal Test Root" in warning["message"]
    assert "Python 3.13" in warning["message"] and "-x509_strict" in warning["message"]
    assert "2.5.29.15" not in json.dumps(report)  # no raw library jargon
    assert code == 0  # a warning does not fail the default gate


def test_expired_leaf_from_a_trusted_ca_is_one_finding_with_the_right_day_count() -> None:
    files = make_cert(CertSpec(validity=Validity.EXPIRED))  # expired 24 hours before it was made
    with python_tls_server({TlsVersion.TLSv1_2}, cert=files) as server:
        assert python_client(server.port, files.ca) == "certificate has expired"
        assert python_client(server.port, make_cert().ca) == "certificate has expired"
        code, report = scan_json(server, files.ca)
    found = problems(report)
    assert set(found) == {"endpoint.cert-expired"}, found
    message = found["endpoint.cert-expired"]["message"]
    assert ", 1 day ago:" in message, message
    assert "days left" not in message and message.count("expired") == 1
    assert report["endpoints"][0]["certificate"]["days_left"] == -1
    assert report["endpoints"][0]["certificate"]["expired"] is True
    assert "--ca-file" not in found["endpoint.cert-expired"].get("remediation", "")
    assert code == 1


def test_not_yet_valid_leaf_is_one_finding() -> None:
    files = make_cert(CertSpec(validity=Validity.NOT_YET_VALID))
    with python_tls_server({TlsVersion.TLSv1_2}, cert=files) as server:
        assert python_client(server.port, files.ca) == "certificate is not yet valid"
        _code, report = scan_json(server, files.ca)
    assert set(problems(report)) == {"endpoint.cert-not-yet-valid"}


@needs_openssl
def test_missing_intermediate_is_only_chain_incomplete_in_plain_words(tmp_path: Path) -> None:
    files = make_cert()
    with python_tls_server({TlsVersion.TLSv1_2}, cert=files, send_intermediate=False) as server:
        assert python_client(server.port, files.ca) == "unable to get local issuer certificate"
        _code, report = scan_json(server, files.ca)
    found = problems(report)
    assert set(found) == {"endpoint.cert-chain-incomplete"}, found
    message = found["endpoint.cert-chain-incomplete"]["message"]
    assert "does not send the intermediate certificate" in message
    assert "Intermediate CA" in message
    text = json.dumps(report)
    assert "candidates exhausted" not in text and "interior errors" not in text
    trust_error = report["endpoints"][0]["certificate"]["trust_error"]
    assert trust_error.startswith("the issuer of CN=localhost was not sent by the server")
    # With the intermediate sent, the same clients accept it: the missing certificate is the one cause.
    with python_tls_server({TlsVersion.TLSv1_2}, cert=files) as server:
        assert python_client(server.port, files.ca) == "ok"
        _code, report = scan_json(server, files.ca)
    assert not problems(report)
