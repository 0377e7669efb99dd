"""Pins in service configuration: a systemd unit with a drop-in and an env file and a Tomcat setenv.sh
under a temporary --root tree (nothing is run), and a real unit installed under /etc/systemd/system whose
pinned JVM really fails against a TLS 1.2-only loopback server while curl really connects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from tests.inspectors.live import base_env, debian_jdk17, need
from tests.support.servers import VERSION_SETS, tls_server

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "reports" / "report.schema.json").read_text())
HANDSHAKE = """
import javax.net.ssl.*;
import java.security.cert.X509Certificate;
public class Handshake {
    public static void main(String[] a) throws Exception {
        TrustManager[] t = { new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] c, String s) {}
            public void checkServerTrusted(X509Certificate[] c, String s) {}
            public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; } } };
        SSLContext c = SSLContext.getInstance("TLS"); c.init(null, t, null);
        try (SSLSocket s = (SSLSocket) c.getSocketFactory().createSocket(a[0], Integer.parseInt(a[1]))) {
            s.setSoTimeout(5000); s.startHandshake();
            System.out.println("OK " + s.getSession().getProtocol());
        } catch (Exception e) { System.out.println("FAIL " + e); }
        if (a.length > 2) { System.out.flush(); Thread.sleep(Long.parseLong(a[2])); }
    }
}
"""


def tlsaudit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tlsaudit", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )


def write(root: Path, path: str, text: str) -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


@pytest.fixture
def image(tmp_path: Path) -> Path:
    root = tmp_path / "image"
    write(
        root,
        "/etc/systemd/system/billing.service",
        "[Unit]\nDescription=Billing\n\n[Service]\n"
        'Environment="JAVA_HOME=/usr/lib/jvm/jdk8" \\\n  "LANG=C"\n'
        "EnvironmentFile=-/etc/default/billing\n"
        "EnvironmentFile=-/etc/default/absent\n"
        "ExecStart=/usr/lib/jvm/jdk8/bin/java $JAVA_OPTS -jar /opt/billing.jar\n",
    )
    # a drop-in wins over the unit: the https.protocols pin is in the drop-in
    write(
        root,
        "/etc/systemd/system/billing.service.d/tls.conf",
        "[Service]\nEnvironment=JAVA_TOOL_OPTIONS=-Dhttps.protocols=TLSv1\n",
    )
    write(root, "/etc/default/billing", "# options\nJAVA_OPTS='-Xmx1g -Djdk.tls.client.protocols=TLSv1'\n")
    jdk = write(root, "/usr/lib/jvm/jdk8/bin/java", "#!/bin/sh\nexit 1\n")
    jdk.chmod(0o755)
    # Tomcat: setenv.sh appends a pin; the service names CATALINA_BASE
    write(
        root,
        "/etc/systemd/system/tomcat.service",
        "[Service]\nEnvironment=CATALINA_BASE=/opt/tomcat JAVA_HOME=/usr/lib/jvm/jdk8\n"
        "ExecStart=/opt/tomcat/bin/catalina.sh run\n",
    )
    write(root, "/opt/tomcat/bin/catalina.sh", "#!/bin/sh\n")
    write(
        root,
        "/opt/tomcat/bin/setenv.sh",
        '#!/bin/sh\nCATALINA_OPTS="$CATALINA_OPTS -Xss1m"\n'
        'CATALINA_OPTS="$CATALINA_OPTS -Dhttps.protocols=TLSv1.1"\n',
    )
    # node with an option node does not have: the service cannot start
    write(
        root,
        "/lib/systemd/system/api.service",
        "[Service]\nExecStart=/usr/bin/node --tls-max-v1.1 /srv/api.js\n",
    )
    node = write(root, "/usr/bin/node", "#!/bin/sh\n")
    node.chmod(0o755)
    # a security-properties override that disables TLS 1.2, and an OPENSSL_CONF capping Python at TLS 1.1
    write(
        root,
        "/etc/systemd/system/reports.service",
        "[Service]\nExecStart=/usr/lib/jvm/jdk8/bin/java -Djava.security.properties=/etc/reports/tls.security"
        " -jar /opt/reports.jar\n",
    )
    write(root, "/etc/reports/tls.security", "jdk.tls.disabledAlgorithms=SSLv3, TLSv1.2, \\\n    RC4\n")
    write(
        root,
        "/etc/systemd/system/etl.service",
        "[Service]\nEnvironment=OPENSSL_CONF=/etc/ssl/legacy.cnf\nExecStart=/usr/bin/python3 /srv/etl.py\n",
    )
    write(
        root,
        "/etc/ssl/legacy.cnf",
        "openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sd\n"
        "[sd]\nMaxProtocol = TLSv1.1\n",
    )
    write(root, "/usr/bin/python3", "#!/bin/sh\n").chmod(0o755)
    # login sessions: every JVM started from a shell
    write(
        root,
        "/etc/environment",
        'PATH="/usr/bin:/bin"\n_JAVA_OPTIONS=-Djdk.tls.client.protocols=TLSv1.1\noops\n',
    )
    # a symlink pointing out of the root is read inside it (where nothing is)
    outside = tmp_path / "outside.env"
    outside.write_text("JAVA_OPTS=-Djdk.tls.client.protocols=SSLv3\n")
    (root / "etc" / "default" / "leak").symlink_to(outside)
    write(
        root,
        "/etc/systemd/system/leak.service",
        "[Service]\nEnvironmentFile=/etc/default/leak\nExecStart=/usr/lib/jvm/jdk8/bin/java -jar x.jar\n",
    )
    return root


def test_root_tree_pins_are_findings_with_file_and_line(image: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    done = tlsaudit("runtimes", "--root", str(image), "-o", str(out))
    assert done.returncode == 1, done.stderr
    report = json.loads(out.read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["scope"]["root"] == str(image.resolve())
    assert "not read" in report["scope"]["processes"]
    java = next(r for r in report["runtimes"] if r["kind"] == "java")
    assert java["id"] == f"java {image.resolve()}/usr/lib/jvm/jdk8/bin/java"  # subjects keep KIND PATH
    assert java["readiness"] == "ready-with-config"
    sources = {(p["setting"], p["value"], p["source"]) for p in java["details"]["pins"]}
    etc = f"{image.resolve()}/etc"
    assert sources >= {
        ("-Djdk.tls.client.protocols", "TLSv1", f"{etc}/default/billing:2"),
        ("-Dhttps.protocols", "TLSv1", f"{etc}/systemd/system/billing.service.d/tls.conf:2"),
        ("-Dhttps.protocols", "TLSv1.1", f"{image.resolve()}/opt/tomcat/bin/setenv.sh:3"),
    }
    assert not any("SSLv3" in p["value"] for p in java["details"]["pins"])  # the symlink did not escape
    findings = {f["rule_id"]: f for f in report["findings"] if f["subject"] == java["id"]}
    pinned = findings["runtime.java.client-protocols-pinned-legacy"]
    assert pinned["status"] == "fail"
    assert f"{etc}/default/billing:2 (service billing.service)" in pinned["message"]
    assert f"{etc}/environment:2 (/etc/environment (login sessions))" in pinned["message"]
    assert f"{etc}/environment:3: not a VARIABLE=VALUE assignment: oops" in java["errors"]
    https = findings["runtime.java.https-protocols-pinned-legacy"]
    assert (
        https["status"] == "fail"
        and "billing.service.d/tls.conf:2 (service billing.service)" in https["message"]
    )
    summary = findings["runtime.tls-settings-pinned"]["message"]
    assert "setenv.sh:3 (service tomcat.service)" in summary
    disabled = findings["runtime.java.tls12-disabled-in-java-security"]
    assert disabled["status"] == "fail"
    unit = f"{etc}/systemd/system/reports.service:2"
    assert f"{etc}/reports/tls.security, the -Djava.security.properties file of {unit}" in disabled["message"]
    python = next(r for r in report["runtimes"] if r["kind"] == "python")
    capped = next(
        f
        for f in report["findings"]
        if f["subject"] == python["id"] and f["rule_id"] == "runtime.python.max-version-below-tls12"
    )
    assert capped["status"] == "fail"
    assert (
        f"{etc}/ssl/legacy.cnf (OPENSSL_CONF at {etc}/systemd/system/etl.service:2 (service etl.service))"
        in (capped["message"])
    )
    node = next(r for r in report["runtimes"] if r["kind"] == "node")
    refused = next(
        f
        for f in report["findings"]
        if f["subject"] == node["id"] and f["rule_id"] == "runtime.node.options-refused"
    )
    assert refused["status"] == "fail"
    assert "bad option: --tls-max-v1.1" in refused["message"] and "api.service:2" in refused["message"]


def test_real_node_rejects_the_option_the_unit_gives() -> None:
    node = need("node", "apt-get install nodejs")
    done = subprocess.run(
        [str(node), "--tls-max-v1.1", "-e", "1"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0 and "bad option: --tls-max-v1.1" in done.stderr


@pytest.fixture
def installed_unit() -> Iterator[tuple[Path, Path]]:
    """A real unit file under /etc/systemd/system (systemd need not run: tlsaudit reads files)."""
    if os.geteuid() != 0:
        pytest.fail("installing a unit under /etc/systemd/system needs root (CI runs as root)")
    home = debian_jdk17()
    unit = Path("/etc/systemd/system") / f"tlsaudit-test-{uuid.uuid4().hex[:8]}.service"
    unit.parent.mkdir(parents=True, exist_ok=True)
    unit.write_text(
        "[Unit]\nDescription=tlsaudit test unit\n\n[Service]\n"
        f"ExecStart={home}/bin/java -Djdk.tls.client.protocols=TLSv1 -jar /nonexistent/app.jar\n"
    )
    try:
        yield unit, home
    finally:
        unit.unlink(missing_ok=True)


@pytest.mark.slow
def test_pinned_unit_and_pinned_running_jvm_are_both_named(
    installed_unit: tuple[Path, Path], tmp_path: Path
) -> None:
    """Done-when of issue 15: plain `runtimes` (root /) names the unit's file:line and the JVM's pid; the
    pinned JVM really fails against a TLS 1.2-only server, and curl, judged ready, really connects."""
    unit, home = installed_unit
    (tmp_path / "Handshake.java").write_text(HANDSHAKE)
    out = tmp_path / "report.json"
    java = home / "bin" / "java"
    with tls_server(VERSION_SETS["tls12"]) as server:
        argv = [str(java), "-Djdk.tls.client.protocols=TLSv1", str(tmp_path / "Handshake.java")]
        argv += ["127.0.0.1", str(server.port), "120000"]
        running = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=base_env(), cwd=tmp_path)
        try:
            assert running.stdout is not None
            outcome = running.stdout.readline()
            done = tlsaudit("runtimes", "--kind", "java", "--kind", "curl", "-o", str(out))
        finally:
            running.kill()
            running.wait(timeout=30)
        curl_path = next(r["path"] for r in json.loads(out.read_text())["runtimes"] if r["kind"] == "curl")
        curl_done = subprocess.run(
            [
                curl_path,
                "-sk",
                "-o",
                "/dev/null",
                "-w",
                "%{ssl_verify_result}",
                f"https://127.0.0.1:{server.port}/",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert outcome.startswith("FAIL"), outcome  # the pinned JVM really fails
    assert curl_done.returncode != 35, (
        curl_done.stderr
    )  # 35: the TLS handshake failed; anything later is HTTP
    report = json.loads(out.read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["scope"]["service_files"] == "read"
    runtime = next(
        r for r in report["runtimes"] if r["kind"] == "java" and os.path.realpath(r["path"]) == str(java)
    )
    assert (
        f"pid {running.pid}" in runtime["details"]["run_by"]
        and f"service {unit.name}" in runtime["details"]["run_by"]
    )
    assert {
        "setting": "-Djdk.tls.client.protocols",
        "value": "TLSv1",
        "source": f"process {running.pid}",
    } in (runtime["details"]["pins"])
    finding = next(
        f
        for f in report["findings"]
        if f["subject"] == runtime["id"] and f["rule_id"] == "runtime.java.client-protocols-pinned-legacy"
    )
    assert finding["status"] == "fail", done.stderr
    assert f"{unit}:5 (service {unit.name})" in finding["message"]
    assert f"pid {running.pid} `{' '.join(argv)}`" in finding["message"]
    curl = next(r for r in report["runtimes"] if r["kind"] == "curl")
    assert curl["readiness"] == "ready"
