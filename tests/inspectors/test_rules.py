"""Every boundary of the runtime rule tables, on facts the parsers produced from recorded outputs: for each
rule one runtime where it fires and one where it does not."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.inspectors.recorded import (
    curl_facts,
    dotnet_core_facts,
    framework,
    java_facts,
    node_facts,
    openssl_facts,
    php_facts,
    probe_output,
    python_facts,
    registry,
)
from tlsaudit.engine import RuleSet, evaluate, load_ruleset
from tlsaudit.inspectors.dotnet import windows_version
from tlsaudit.models import Finding, FindingStatus, Readiness, RuntimeFacts
from tlsaudit.pins.collect import attacher_for

POLICY = Path(__file__).resolve().parents[1] / "data" / "all-rules-policy.toml"
MODERN_DEFAULT = "[TLSv1.3, TLSv1.2]"
MODERN_SUPPORTED = "[TLSv1.3, TLSv1.2, TLSv1.1, TLSv1, SSLv3, SSLv2Hello]"
DEBIAN_OPENSSL_A = (
    Path(__file__).resolve().parents[1] / "data" / "runtimes" / "openssl-3.0.19-debian-version-a.txt"
)


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_ruleset(POLICY)


def judge(ruleset: RuleSet, runtime: RuntimeFacts) -> tuple[dict[str, Finding], Readiness]:
    evaluation = evaluate(ruleset, runtimes=[runtime])
    findings = {f.rule_id: f for f in evaluation.findings if f.subject == runtime.subject}
    return findings, evaluation.readiness[runtime.subject]


def with_windows(rt: RuntimeFacts, registry_name: str) -> RuntimeFacts:
    return RuntimeFacts(
        kind=rt.kind,
        path=rt.path,
        version=rt.version,
        details={**rt.details, "windows_version": windows_version(registry(registry_name))},
    )


def cnf(tmp: Path, body: str) -> Path:
    path = tmp / "openssl.cnf"
    path.write_text(
        f"openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sd\n[sd]\n{body}\n"
    )
    return path


def version_a(text: str) -> Callable[[Path], RuntimeFacts]:
    return lambda tmp: openssl_facts(text, cnf(tmp, "CipherString = DEFAULT@SECLEVEL=2"))


@dataclass(frozen=True)
class Case:
    rule: str
    make: Callable[[Path], RuntimeFacts]
    fires: bool
    label: str


def case(rule: str, fires: bool, label: str, make: Callable[[], RuntimeFacts]) -> Case:
    return Case(rule=rule, make=lambda _tmp: make(), fires=fires, label=label)


PIN_TLS1 = {"JAVA_TOOL_OPTIONS": "-Djdk.tls.client.protocols=TLSv1"}


def service_runtime(
    exec_start: str, base: Callable[[], RuntimeFacts] | None = None
) -> Callable[[Path], RuntimeFacts]:
    """The runtime a unit under a --root tree runs, with the unit's pins (tlsaudit.pins, nothing run):
    `base` (recorded facts) standing for the inspected program, else a runtime object for the path alone."""

    def make(tmp: Path) -> RuntimeFacts:
        root = tmp / "root"
        unit = root / "etc" / "systemd" / "system" / "demo.service"
        unit.parent.mkdir(parents=True, exist_ok=True)
        unit.write_text(f"[Service]\nExecStart={exec_start}\n")
        program = root / exec_start.split(maxsplit=1)[0].lstrip("/")
        program.parent.mkdir(parents=True, exist_ok=True)
        program.write_text("")
        attacher = attacher_for(str(root), services=True, processes=False)
        if base is None:
            return attacher.leftovers()[0]
        return attacher.attach(dataclasses.replace(base(), path=str(program)))

    return make


CASES: list[Case] = [
    # ------------------------------------------------------------------ java
    case("runtime.java.java5-or-older", True, "1.5.0_22", lambda: java_facts("java-1.5.0_22")),
    case("runtime.java.java5-or-older", False, "1.6.0_45", lambda: java_facts("java-1.6.0_45")),
    case("runtime.java.public-java6-no-tls12", True, "1.6.0_45", lambda: java_facts("java-1.6.0_45")),
    case("runtime.java.public-java6-no-tls12", False, "1.6.0_121", lambda: java_facts("java-1.6.0_121")),
    case("runtime.java.public-java6-no-tls12", False, "IBM 6 SR16", lambda: java_facts("ibm-1.6.0-sr16fp60")),
    case("runtime.java.java6-tls11-only", True, "1.6.0_115", lambda: java_facts("java-1.6.0_115")),
    case("runtime.java.java6-tls11-only", False, "1.6.0_121", lambda: java_facts("java-1.6.0_121")),
    case("runtime.java.java6-tls12-explicit", True, "1.6.0_121", lambda: java_facts("java-1.6.0_121")),
    case(
        "runtime.java.java6-tls12-explicit",
        False,
        "1.6.0_121 probe shows TLSv1.2",
        lambda: java_facts(
            "java-1.6.0_121", probe_output("[TLSv1.2, TLSv1.1, TLSv1]", "[TLSv1.2, TLSv1.1, TLSv1]")
        ),
    ),
    case("runtime.java.java6-tls12-explicit", False, "1.7.0_80", lambda: java_facts("java-1.7.0_80")),
    case("runtime.java.ibm-java6-below-sr10", True, "IBM 6 SR9", lambda: java_facts("ibm-1.6.0-sr9fp2")),
    case("runtime.java.ibm-java6-below-sr10", False, "IBM 6 SR16", lambda: java_facts("ibm-1.6.0-sr16fp60")),
    case(
        "runtime.java.ibm-java6-tls12-explicit", True, "IBM 6 SR16", lambda: java_facts("ibm-1.6.0-sr16fp60")
    ),
    case("runtime.java.ibm-java6-tls12-explicit", False, "IBM 6 SR9", lambda: java_facts("ibm-1.6.0-sr9fp2")),
    case(
        "runtime.java.ibm-java6-tls12-explicit",
        False,
        "IBM 6 SR16 overrideDefaultProtocol",
        lambda: java_facts(
            "ibm-1.6.0-sr16fp60", env={"JAVA_TOOL_OPTIONS": "-Dcom.ibm.jsse2.overrideDefaultProtocol=TLSv12"}
        ),
    ),
    case("runtime.java.java7-tls12-off-by-default", True, "1.7.0_80", lambda: java_facts("java-1.7.0_80")),
    case("runtime.java.java7-tls12-off-by-default", False, "1.7.0_95", lambda: java_facts("java-1.7.0_95")),
    case(
        "runtime.java.java7-tls12-off-by-default",
        False,
        "1.7.0_80 probe shows TLSv1.2",
        lambda: java_facts(
            "java-1.7.0_80", probe_output("[TLSv1.2, TLSv1.1, TLSv1]", "[TLSv1.2, TLSv1.1, TLSv1]")
        ),
    ),
    case("runtime.java.java7u95-tls12-off-by-default", True, "1.7.0_95", lambda: java_facts("java-1.7.0_95")),
    case(
        "runtime.java.java7u95-tls12-off-by-default", False, "1.7.0_111", lambda: java_facts("java-1.7.0_111")
    ),
    case(
        "runtime.java.ibm-tls-context-tls10-only",
        True,
        "IBM 8 SR5 FP25",
        lambda: java_facts("ibm-1.8.0_191-sr5fp25-de"),
    ),
    case(
        "runtime.java.ibm-tls-context-tls10-only",
        True,
        "IBM 7 SR10",
        lambda: java_facts("ibm-1.7.0-sr10fp50"),
    ),
    case(
        "runtime.java.ibm-tls-context-tls10-only",
        False,
        "IBM 8 SR6 FP26",
        lambda: java_facts("ibm-1.8.0_281-sr6fp26"),
    ),
    case(
        "runtime.java.ibm-tls-context-tls10-only",
        False,
        "IBM 8 SR5 overrideDefaultTLS",
        lambda: java_facts(
            "ibm-1.8.0_191-sr5fp25-de", env={"_JAVA_OPTIONS": "-Dcom.ibm.jsse2.overrideDefaultTLS=true"}
        ),
    ),
    case("runtime.java.ibm-tls-context-tls10-only", False, "Oracle 8", lambda: java_facts("java-1.8.0_251")),
    case(
        "runtime.java.ibm-tls13-client-off",
        True,
        "IBM 8 SR6 FP26",
        lambda: java_facts("ibm-1.8.0_281-sr6fp26"),
    ),
    case(
        "runtime.java.ibm-tls13-client-off",
        False,
        "IBM 8 SR5 FP25",
        lambda: java_facts("ibm-1.8.0_191-sr5fp25-de"),
    ),
    case(
        "runtime.java.client-protocols-pinned-legacy",
        True,
        "17 JAVA_TOOL_OPTIONS TLSv1",
        lambda: java_facts("debian-17.0.15", env=PIN_TLS1),
    ),
    case(
        "runtime.java.client-protocols-pinned-legacy",
        False,
        "17 no pin",
        lambda: java_facts("debian-17.0.15"),
    ),
    case(
        "runtime.java.client-protocols-pinned-legacy",
        False,
        "17 pin TLSv1.2",
        lambda: java_facts("debian-17.0.15", env={"JDK_JAVA_OPTIONS": "-Djdk.tls.client.protocols=TLSv1.2"}),
    ),
    case(
        "runtime.java.https-protocols-pinned-legacy",
        True,
        "https.protocols=TLSv1",
        lambda: java_facts("java-1.8.0_251", env={"JAVA_TOOL_OPTIONS": "-Dhttps.protocols=TLSv1"}),
    ),
    case(
        "runtime.java.https-protocols-pinned-legacy",
        False,
        "https.protocols=TLSv1.2",
        lambda: java_facts("java-1.8.0_251", env={"JAVA_TOOL_OPTIONS": "-Dhttps.protocols=TLSv1.2"}),
    ),
    case(
        "runtime.java.client-default-no-tls12",
        True,
        "probe: no default protocols",
        lambda: java_facts(
            "debian-17.0.15", probe_output("[]", MODERN_SUPPORTED, jdk_tls_client_protocols="TLSv1")
        ),
    ),
    case(
        "runtime.java.client-default-no-tls12",
        False,
        "probe: modern defaults",
        lambda: java_facts("debian-17.0.15", probe_output(MODERN_DEFAULT, MODERN_SUPPORTED)),
    ),
    case(
        "runtime.java.no-tls12-support",
        True,
        "probe on public Java 6",
        lambda: java_facts("java-1.6.0_45", probe_output("[TLSv1, SSLv3]", "[TLSv1, SSLv3, SSLv2Hello]")),
    ),
    case(
        "runtime.java.no-tls12-support",
        False,
        "probe on 17",
        lambda: java_facts("debian-17.0.15", probe_output(MODERN_DEFAULT, MODERN_SUPPORTED)),
    ),
    case(
        "runtime.java.tls12-disabled-in-java-security",
        True,
        "java.security lists TLSv1.2",
        lambda: java_facts("debian-17.0.15", security_file_value="SSLv3, TLSv1, TLSv1.1, TLSv1.2, RC4"),
    ),
    case(
        "runtime.java.tls12-disabled-in-java-security",
        False,
        "Debian java.security",
        lambda: java_facts("debian-17.0.15", security_file_value="SSLv3, TLSv1, TLSv1.1, DTLSv1.0, RC4"),
    ),
    case(
        "runtime.java.legacy-tls-enabled",
        True,
        "11.0.10 probe",
        lambda: java_facts(
            "adopt-11.0.10", probe_output("[TLSv1.3, TLSv1.2, TLSv1.1, TLSv1]", MODERN_SUPPORTED)
        ),
    ),
    case(
        "runtime.java.legacy-tls-enabled",
        False,
        "21.0.8 probe",
        lambda: java_facts("temurin-21.0.8", probe_output(MODERN_DEFAULT, MODERN_SUPPORTED)),
    ),
    case(
        "runtime.java.java8-tls13-client-off",
        True,
        "Zulu 8u292",
        lambda: java_facts("zulu-1.8.0_292", probe_output("[TLSv1.2]", MODERN_SUPPORTED)),
    ),
    case(
        "runtime.java.java8-tls13-client-off",
        False,
        "Corretto 8u392",
        lambda: java_facts("corretto-1.8.0_392", probe_output(MODERN_DEFAULT, MODERN_SUPPORTED)),
    ),
    # ------------------------------------------------------------------ php
    case("runtime.php.curl-not-loaded", True, "no curl", lambda: php_facts("php-7.0-no-curl.json")),
    case("runtime.php.curl-not-loaded", False, "8.2", lambda: php_facts("php-8.2-debian.json")),
    case(
        "runtime.php.curl-without-tls",
        True,
        "libcurl without TLS",
        lambda: php_facts("php-curl-without-ssl.json"),
    ),
    case("runtime.php.curl-without-tls", False, "8.2", lambda: php_facts("php-8.2-debian.json")),
    case(
        "runtime.php.curl-openssl-below-1.0.1",
        True,
        "0.9.8zh",
        lambda: php_facts("php-5.5-macos-openssl-0.9.8.json"),
    ),
    case("runtime.php.curl-openssl-below-1.0.1", False, "3.0.19", lambda: php_facts("php-8.2-debian.json")),
    case(
        "runtime.php.curl-openssl-1.0.1-early",
        True,
        "1.0.1a",
        lambda: php_facts("php-7.2-openssl-1.0.1a.json"),
    ),
    case("runtime.php.curl-openssl-1.0.1-early", False, "3.0.19", lambda: php_facts("php-8.2-debian.json")),
    case(
        "runtime.php.curl-nss-below-3.15.1",
        True,
        "NSS 3.12",
        lambda: php_facts("php-5.6-rhel7-nss-3.12.json"),
    ),
    case(
        "runtime.php.curl-nss-below-3.15.1", False, "NSS 3.19.1", lambda: php_facts("php-5.3-rhel6-nss.json")
    ),
    case(
        "runtime.php.curl-nss-tls12-not-default",
        True,
        "7.19.7 NSS",
        lambda: php_facts("php-5.3-rhel6-nss.json"),
    ),
    case(
        "runtime.php.curl-nss-tls12-not-default", False, "OpenSSL", lambda: php_facts("php-8.2-debian.json")
    ),
    case(
        "runtime.php.curl-schannel-windows7",
        True,
        "Schannel on 7",
        lambda: with_windows(php_facts("php-7.4-windows-schannel.json"), "win7-net452"),
    ),
    case(
        "runtime.php.curl-schannel-windows7",
        False,
        "Schannel on 10",
        lambda: with_windows(php_facts("php-7.4-windows-schannel.json"), "win10-net48-default"),
    ),
    case(
        "runtime.php.curl-before-7.34-no-tls12-constant",
        True,
        "7.19.7",
        lambda: php_facts("php-5.3-rhel6-nss.json"),
    ),
    case(
        "runtime.php.curl-before-7.34-no-tls12-constant",
        False,
        "7.35.0",
        lambda: php_facts("php-5.5-macos-openssl-0.9.8.json"),
    ),
    case(
        "runtime.php.streams-without-openssl",
        True,
        "no openssl",
        lambda: php_facts("php-curl-without-ssl.json"),
    ),
    case("runtime.php.streams-without-openssl", False, "8.2", lambda: php_facts("php-8.2-debian.json")),
    case(
        "runtime.php.streams-openssl-below-1.0.1",
        True,
        "0.9.8zh",
        lambda: php_facts("php-5.5-macos-openssl-0.9.8.json"),
    ),
    case(
        "runtime.php.streams-openssl-below-1.0.1",
        False,
        "1.0.1e",
        lambda: php_facts("php-5.3-rhel6-nss.json"),
    ),
    case(
        "runtime.php.streams-openssl-below-1.0.1",
        True,
        "0.9.8e from the header",
        lambda: php_facts("php-5.2-no-library-line.json"),
    ),
    case(
        "runtime.php.streams-tls-transport-tls10-only",
        True,
        "5.6.40",
        lambda: php_facts("php-5.6-rhel7-nss-3.12.json"),
    ),
    case(
        "runtime.php.streams-tls-transport-tls10-only",
        False,
        "7.2.34",
        lambda: php_facts("php-7.2-openssl-1.0.1a.json"),
    ),
    case(
        "runtime.php.streams-tls-transport-tls10-only",
        False,
        "5.5.38",
        lambda: php_facts("php-5.5-macos-openssl-0.9.8.json"),
    ),
    case(
        "runtime.php.streams-before-5.6-tls10-only",
        True,
        "5.3.3",
        lambda: php_facts("php-5.3-rhel6-nss.json"),
    ),
    case(
        "runtime.php.streams-before-5.6-tls10-only",
        False,
        "5.6.40",
        lambda: php_facts("php-5.6-rhel7-nss-3.12.json"),
    ),
    # ------------------------------------------------------------------ curl
    case("runtime.curl.without-tls", True, "no SSL", lambda: curl_facts("no-ssl")),
    case("runtime.curl.without-tls", False, "Debian", lambda: curl_facts("debian")),
    case("runtime.curl.openssl-below-1.0.1", True, "0.9.8zh", lambda: curl_facts("macports-openssl-0.9.8zh")),
    case("runtime.curl.openssl-below-1.0.1", False, "Debian", lambda: curl_facts("debian")),
    case("runtime.curl.openssl-1.0.1-early", True, "1.0.1a", lambda: curl_facts("openssl-1.0.1a")),
    case("runtime.curl.openssl-1.0.1-early", False, "Debian", lambda: curl_facts("debian")),
    case("runtime.curl.nss-below-3.15.1", True, "NSS 3.14", lambda: curl_facts("rhel6-nss-3.14")),
    case("runtime.curl.nss-below-3.15.1", False, "NSS 3.27.1", lambda: curl_facts("centos6-nss")),
    case("runtime.curl.nss-tls12-not-default", True, "CentOS 6", lambda: curl_facts("centos6-nss")),
    case("runtime.curl.nss-tls12-not-default", False, "Debian", lambda: curl_facts("debian")),
    case(
        "runtime.curl.schannel-windows7",
        True,
        "WinSSL on 7",
        lambda: with_windows(curl_facts("windows-schannel"), "win7-net452"),
    ),
    case(
        "runtime.curl.schannel-windows7",
        False,
        "WinSSL on 10",
        lambda: with_windows(curl_facts("windows-schannel"), "win10-net48-default"),
    ),
    case("runtime.curl.before-7.34-no-tlsv12-option", True, "7.19.7", lambda: curl_facts("centos6-nss")),
    case(
        "runtime.curl.before-7.34-no-tlsv12-option",
        False,
        "7.43.0",
        lambda: curl_facts("macos-10.11-openssl-0.9.8"),
    ),
    # ------------------------------------------------------------------ python
    case(
        "runtime.python.openssl-below-1.0.1",
        True,
        "macOS 2.7.10",
        lambda: python_facts("python-2.7.10-macos-system.json"),
    ),
    case(
        "runtime.python.openssl-below-1.0.1",
        False,
        "3.11.7",
        lambda: python_facts("python-3.11.7-pyenv.json"),
    ),
    case(
        "runtime.python.openssl-1.0.1-early",
        True,
        "1.0.1",
        lambda: python_facts("python-2.7.3-openssl-1.0.1.json"),
    ),
    case(
        "runtime.python.openssl-1.0.1-early",
        False,
        "1.0.1f",
        lambda: python_facts("python-2.7.6-openssl-1.0.1f.json"),
    ),
    case(
        "runtime.python.no-tls12",
        True,
        "HAS_TLSv1_2 False",
        lambda: python_facts("python-3.9-tls12-disabled.json"),
    ),
    case("runtime.python.no-tls12", False, "3.11.7", lambda: python_facts("python-3.11.7-pyenv.json")),
    case(
        "runtime.python.max-version-below-tls12",
        True,
        "OPENSSL_CONF MaxProtocol",
        lambda: python_facts("python-3.11.2-debian-openssl-conf-max-tls11.json"),
    ),
    case(
        "runtime.python.max-version-below-tls12",
        False,
        "3.11.7",
        lambda: python_facts("python-3.11.7-pyenv.json"),
    ),
    case(
        "runtime.python.no-verification-by-default",
        True,
        "2.7.6",
        lambda: python_facts("python-2.7.6-openssl-1.0.1f.json"),
    ),
    case(
        "runtime.python.no-verification-by-default",
        False,
        "3.11.7",
        lambda: python_facts("python-3.11.7-pyenv.json"),
    ),
    case("runtime.python.ssl-unusable", True, "no _ssl", lambda: python_facts("python-3.6-without-ssl.json")),
    case("runtime.python.ssl-unusable", False, "3.11.7", lambda: python_facts("python-3.11.7-pyenv.json")),
    # ------------------------------------------------------------------ node
    case("runtime.node.before-0.10", True, "0.8.28", lambda: node_facts("node-0.8.28")),
    case("runtime.node.before-0.10", False, "0.10.48", lambda: node_facts("node-0.10.48")),
    case("runtime.node.openssl-below-1.0.1", True, "1.0.0f", lambda: node_facts("node-0.8.28")),
    case("runtime.node.openssl-below-1.0.1", False, "1.0.1u", lambda: node_facts("node-0.10.48")),
    case(
        "runtime.node.max-version-below-tls12",
        True,
        "--tls-max-v1.1",
        lambda: node_facts("node-12-tls-max-11"),
    ),
    case("runtime.node.max-version-below-tls12", False, "20", lambda: node_facts("node-20.20.2")),
    case("runtime.node.min-version-tls13", True, "--tls-min-v1.3", lambda: node_facts("node-20-tls-min-13")),
    case("runtime.node.min-version-tls13", False, "20", lambda: node_facts("node-20.20.2")),
    case("runtime.node.legacy-tls-enabled", True, "10.24.1", lambda: node_facts("node-10.24.1")),
    case("runtime.node.legacy-tls-enabled", False, "20", lambda: node_facts("node-20.20.2")),
    case("runtime.node.without-tls", True, "no crypto", lambda: node_facts("node-18-without-crypto")),
    case("runtime.node.without-tls", False, "20", lambda: node_facts("node-20.20.2")),
    Case(
        "runtime.node.options-refused", service_runtime("/usr/bin/node --tls-max-v1.1 app.js"), True, "unit"
    ),
    case("runtime.node.options-refused", False, "20", lambda: node_facts("node-20.20.2")),
    Case(
        "runtime.tls-settings-pinned",
        service_runtime("/usr/bin/java -Dhttps.protocols=TLSv1 -jar a"),
        True,
        "unit",
    ),
    case("runtime.tls-settings-pinned", False, "20", lambda: node_facts("node-20.20.2")),
    Case(
        "runtime.curl.max-version-below-tls12",
        service_runtime("/usr/bin/curl --tls-max 1.1 https://a", lambda: curl_facts("debian")),
        True,
        "1.1",
    ),
    Case(
        "runtime.curl.max-version-below-tls12",
        service_runtime("/usr/bin/curl --tls-max 1.2 https://a", lambda: curl_facts("debian")),
        False,
        "1.2",
    ),
    # ------------------------------------------------------------------ dotnet
    case("runtime.dotnet.framework-4.0-only", True, "4.0", lambda: framework("win2008-net40")[0]),
    case("runtime.dotnet.framework-4.0-only", False, "4.5.2", lambda: framework("win7-net452")[0]),
    case("runtime.dotnet.framework-3.5-tls12-off", True, "3.5", lambda: framework("win7-net452")[1]),
    case("runtime.dotnet.framework-3.5-tls12-off", False, "4.5.2", lambda: framework("win7-net452")[0]),
    case("runtime.dotnet.framework-4.5-tls12-off", True, "4.5.2", lambda: framework("win7-net452")[0]),
    case("runtime.dotnet.framework-4.5-tls12-off", False, "4.6", lambda: framework("win2012-net46")[0]),
    case(
        "runtime.dotnet.framework-depends-on-app-target", True, "4.6", lambda: framework("win2012-net46")[0]
    ),
    case(
        "runtime.dotnet.framework-depends-on-app-target",
        True,
        "4.8 32-bit view unset",
        lambda: framework("win10-net48-opt-in-64-only")[0],
    ),
    case(
        "runtime.dotnet.framework-depends-on-app-target",
        False,
        "4.8 opted in",
        lambda: framework("win10-net48-opt-in")[0],
    ),
    case(
        "runtime.dotnet.schannel-tls12-client-disabled",
        True,
        "Enabled=0",
        lambda: framework("win10-tls12-client-disabled")[0],
    ),
    case(
        "runtime.dotnet.schannel-tls12-client-disabled",
        False,
        "defaults",
        lambda: framework("win10-net48-opt-in")[0],
    ),
    case(
        "runtime.dotnet.schannel-windows7-tls12-off", True, "Windows 7", lambda: framework("win7-net452")[0]
    ),
    case(
        "runtime.dotnet.schannel-windows7-tls12-off",
        False,
        "Windows 7 keys set",
        lambda: framework("win7-net48-schannel-enabled")[0],
    ),
    case(
        "runtime.dotnet.schannel-vista-no-tls12", True, "Server 2008", lambda: framework("win2008-net40")[0]
    ),
    case("runtime.dotnet.schannel-vista-no-tls12", False, "Windows 7", lambda: framework("win7-net452")[0]),
    case(
        "runtime.dotnet.schannel-vista-no-tls12",
        False,
        "Server 2008 SP2 + KB4019276, enabled",
        lambda: framework("win2008sp2-kb4019276-enabled")[0],
    ),
    case(
        "runtime.dotnet.core-openssl-below-1.0.1", True, "libssl 0.9.8", lambda: dotnet_core_facts("0.9.8")[1]
    ),
    case("runtime.dotnet.core-openssl-below-1.0.1", False, "libssl 3", lambda: dotnet_core_facts("3")[1]),
    # ------------------------------------------------------------------ openssl
    Case(
        "runtime.openssl.below-1.0.1",
        lambda tmp: openssl_facts(
            'OpenSSL 0.9.8zh 14 Jan 2016\nOPENSSLDIR: "/System/Library/OpenSSL"\n', cnf(tmp, "")
        ),
        True,
        "0.9.8zh",
    ),
    Case("runtime.openssl.below-1.0.1", version_a(DEBIAN_OPENSSL_A.read_text()), False, "3.0.19"),
    Case("runtime.openssl.1.0.1-early", version_a("OpenSSL 1.0.1 14 Mar 2012\n"), True, "1.0.1"),
    Case("runtime.openssl.1.0.1-early", version_a("OpenSSL 1.0.1c 10 May 2012\n"), False, "1.0.1c"),
    Case(
        "runtime.openssl.max-protocol-below-tls12",
        lambda tmp: openssl_facts(DEBIAN_OPENSSL_A.read_text(), cnf(tmp, "MaxProtocol = TLSv1.1")),
        True,
        "MaxProtocol = TLSv1.1",
    ),
    Case(
        "runtime.openssl.max-protocol-below-tls12",
        lambda tmp: openssl_facts(DEBIAN_OPENSSL_A.read_text(), cnf(tmp, "MinProtocol = TLSv1.2")),
        False,
        "MinProtocol = TLSv1.2",
    ),
    Case(
        "runtime.openssl.min-protocol-tls13",
        lambda tmp: openssl_facts(DEBIAN_OPENSSL_A.read_text(), cnf(tmp, "MinProtocol = TLSv1.3")),
        True,
        "MinProtocol = TLSv1.3",
    ),
    Case(
        "runtime.openssl.min-protocol-tls13",
        lambda tmp: openssl_facts(DEBIAN_OPENSSL_A.read_text(), cnf(tmp, "MinProtocol = TLSv1.2")),
        False,
        "MinProtocol = TLSv1.2",
    ),
    Case(
        "runtime.openssl.seclevel-0",
        lambda tmp: openssl_facts(
            DEBIAN_OPENSSL_A.read_text(), cnf(tmp, "CipherString = DEFAULT@SECLEVEL=0")
        ),
        True,
        "SECLEVEL=0",
    ),
    Case("runtime.openssl.seclevel-0", version_a(DEBIAN_OPENSSL_A.read_text()), False, "SECLEVEL=2"),
]


def browser_facts(version_text: str) -> RuntimeFacts:
    """A browser as the inspector records it, from what `BINARY --version` printed."""
    from tlsaudit.inspectors.browser import browser_details, parse_browser_version

    parsed = parse_browser_version(version_text)
    assert parsed is not None
    return RuntimeFacts(
        kind="browser", path="/usr/bin/browser", version=parsed[1], details=browser_details(*parsed)
    )


CASES += [
    case("runtime.browser.no-tls12", True, "Chrome 29", lambda: browser_facts("Google Chrome 29.0.1547.76")),
    case("runtime.browser.no-tls12", False, "Firefox 27", lambda: browser_facts("Mozilla Firefox 27.0")),
    case(
        "runtime.browser.tls10-still-offered",
        True,
        "Firefox 68 ESR",
        lambda: browser_facts("Mozilla Firefox 68.12.0esr"),
    ),
    case(
        "runtime.browser.tls10-still-offered",
        False,
        "Chromium 156",
        lambda: browser_facts("Chromium 156.0.8078.129 built on Debian GNU/Linux 12 (bookworm)"),
    ),
]


# Mono, .NET application configs and pq_hybrid_default (kinds and facts added through the descriptors)
from tests.inspectors.rule_cases_added import ADDED  # noqa: E402

CASES += [Case(rule=rule, make=make, fires=fires, label=label) for rule, fires, label, make in ADDED]


@pytest.mark.parametrize(
    "c", CASES, ids=[f"{c.rule}:{'fires' if c.fires else 'quiet'}:{c.label}" for c in CASES]
)
def test_rule_boundary(c: Case, ruleset: RuleSet, tmp_path: Path) -> None:
    runtime = c.make(tmp_path)
    findings, _readiness = judge(ruleset, runtime)
    assert c.rule in findings, f"{c.rule} did not run on {runtime.subject}"
    status = findings[c.rule].status
    [rule] = [r for r in ruleset.all_rules if r.id == c.rule]
    if rule.status == FindingStatus.PASS:
        # information only: firing shows in the message (the rule's message, not its pass_message)
        literal = max(re.split(r"\{[^}]*\}", rule.message), key=len)
        assert status == FindingStatus.PASS, findings[c.rule].message
        assert (literal in findings[c.rule].message) is c.fires, findings[c.rule].message
    elif c.fires:
        assert status in (FindingStatus.FAIL, FindingStatus.WARN), findings[c.rule].message
    else:
        assert status in (FindingStatus.PASS, FindingStatus.SKIPPED), findings[c.rule].message
    errors = [f.rule_id + ": " + f.message for f in findings.values() if f.status == FindingStatus.ERROR]
    assert not errors, errors


def test_every_runtime_rule_has_a_firing_and_a_quiet_case(ruleset: RuleSet) -> None:
    runtime_rules = {r.id for r in ruleset.all_rules if r.applies_to == "runtime"}
    fired = {c.rule for c in CASES if c.fires}
    quiet = {c.rule for c in CASES if not c.fires}
    # runtime.not-assessed, probe-failed, config-missing and min-version-tls13 (python) are exercised live
    live_only = {
        "runtime.not-assessed",
        "runtime.java.probe-failed",
        "runtime.openssl.config-missing",
        "runtime.python.min-version-tls13",
    }
    assert runtime_rules - fired - live_only == set()
    assert runtime_rules - quiet - live_only == set()


@pytest.mark.parametrize(
    ("make", "readiness"),
    [
        (lambda: php_facts("php-8.2-debian.json"), Readiness.READY),
        (lambda: php_facts("php-5.3-rhel6-nss.json"), Readiness.READY_WITH_CONFIG),
        (lambda: php_facts("php-5.5-macos-openssl-0.9.8.json"), Readiness.NEEDS_UPGRADE),
        (lambda: java_facts("java-1.6.0_45"), Readiness.NEEDS_UPGRADE),
        (lambda: java_facts("java-1.7.0_80"), Readiness.READY_WITH_CONFIG),
        (lambda: java_facts("java-1.8.0_251"), Readiness.READY),
        (lambda: java_facts("debian-17.0.15", env=PIN_TLS1), Readiness.READY_WITH_CONFIG),
        (lambda: curl_facts("debian"), Readiness.READY),
        (lambda: curl_facts("macos-libressl"), Readiness.READY),
        (lambda: python_facts("python-3.11.7-pyenv.json"), Readiness.READY),
        (lambda: python_facts("python-2.7.10-macos-system.json"), Readiness.NEEDS_UPGRADE),
        (lambda: framework("win10-net48-opt-in")[0], Readiness.READY),
        (lambda: framework("win7-net48-schannel-enabled")[0], Readiness.READY),
        (lambda: framework("win2008-net40")[0], Readiness.NEEDS_UPGRADE),
        (lambda: node_facts("node-20.20.2"), Readiness.READY),
    ],
)
def test_readiness(make: Callable[[], RuntimeFacts], readiness: Readiness, ruleset: RuleSet) -> None:
    _findings, actual = judge(ruleset, make())
    assert actual == readiness


def test_seed_lines_stay_visible_as_corrections(ruleset: RuleSet) -> None:
    corrects = {r.id: r.corrects for r in ruleset.all_rules if r.corrects}
    text = " ".join(corrects.values())
    for seed in (
        "cURL 7.34.0",
        "Java 8",
        "Java 7",
        "Java 6",
        ".NET 4.6",
        ".NET earlier",
        "Python with OpenSSL >= 1.0.1",
    ):
        assert seed in text, seed


def test_rules_name_remediation_and_references(ruleset: RuleSet) -> None:
    for rule in ruleset.all_rules:
        if rule.applies_to == "runtime" and rule.id.startswith("runtime."):
            assert rule.remediation.strip(), rule.id
            # "could not be inspected" (status error) is about tlsaudit's access, not a standard
            assert rule.references or rule.status == FindingStatus.ERROR, rule.id
