"""Which settings change a TLS client, and how to find them in a command line or an environment.

The same settings the runtime inspectors recognise (java.py, node.py, openssl.py, ...), as data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tlsaudit.pins.envfile import Assignment, Word

# JVM system properties that change TLS clients (jdk.tls.disabledAlgorithms is a security property: it is
# changed through -Djava.security.properties, read by the caller).
JAVA_PROPERTIES: tuple[str, ...] = (
    "jdk.tls.client.protocols",
    "https.protocols",
    "java.security.properties",
    "jdk.tls.client.cipherSuites",
    "https.cipherSuites",
    "jdk.tls.namedGroups",
    "com.ibm.jsse2.overrideDefaultTLS",
    "com.ibm.jsse2.overrideDefaultProtocol",
    "com.sun.net.ssl.enableECC",
    "jdk.tls.disabledAlgorithms",
)
# variables whose value is a list of JVM options (the launcher reads the first three; scripts the rest)
JAVA_OPTION_VARIABLES: tuple[str, ...] = (
    "JAVA_TOOL_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "_JAVA_OPTIONS",
    "JAVA_OPTS",
    "CATALINA_OPTS",
    "JAVA_ARGS",
    "JVM_OPTS",
    "ES_JAVA_OPTS",
    "OPENSEARCH_JAVA_OPTS",
    "KAFKA_OPTS",
    "KAFKA_HEAP_OPTS",
    "HADOOP_OPTS",
    "MAVEN_OPTS",
    "GRADLE_OPTS",
    "JENKINS_JAVA_OPTIONS",
    "SERVER_JVMFLAGS",
)
# Node options that change TLS (the command line and NODE_OPTIONS)
NODE_TLS_OPTION = re.compile(
    r"^--(tls-(?:max|min)-v\d(?:\.\d)?|tls-cipher-list(?:=.*)?|openssl-config(?:=.*)?"
    r"|openssl-legacy-provider|openssl-shared-config|use-openssl-ca|use-bundled-ca)$"
)
# environment variables that change a TLS client, per kind (None: every kind)
TLS_VARIABLES: dict[str, tuple[str, ...] | None] = {
    "OPENSSL_CONF": ("python", "openssl", "php", "node", "dotnet", "curl", "mono"),
    "OPENSSL_MODULES": ("python", "openssl", "php", "node", "dotnet", "curl"),
    "SSL_CERT_FILE": None,
    "SSL_CERT_DIR": None,
    "NODE_OPTIONS": ("node",),
    "NODE_TLS_REJECT_UNAUTHORIZED": ("node",),
    "NODE_EXTRA_CA_CERTS": ("node",),
    "MONO_TLS_PROVIDER": ("mono", "dotnet"),
    "CURL_SSL_BACKEND": ("curl", "php"),
    "CURL_CA_BUNDLE": ("curl", "php"),
    "PYTHONHTTPSVERIFY": ("python",),
    "REQUESTS_CA_BUNDLE": ("python",),
    "DOTNET_SYSTEM_NET_HTTP_USESOCKETSHTTPHANDLER": ("dotnet",),
    "DOTNET_OPENSSL_VERSION_OVERRIDE": ("dotnet",),
    "CLR_OPENSSL_VERSION_OVERRIDE": ("dotnet",),
    **dict.fromkeys(JAVA_OPTION_VARIABLES, ("java",)),
    "JAVA_HOME": ("java",),
    "JRE_HOME": ("java",),
}
# curl command-line options that pin versions
CURL_TLS_OPTION = re.compile(r"^(--tls-max|--tlsv1(?:\.[0-3])?|--sslv[23]|-[123]|--ciphers|--ssl-no-revoke)$")
PHP_INI_TLS = re.compile(r"^(openssl\.|curl\.cainfo|default_socket_timeout$)")


@dataclass(frozen=True, slots=True, kw_only=True)
class FoundPin:
    """A TLS setting and where it was made."""

    setting: str  # -Djdk.tls.client.protocols, NODE_OPTIONS, OPENSSL_CONF, --tls-min-v1.3, ...
    value: str
    source: str  # FILE:LINE or "process PID"
    kinds: tuple[str, ...] | None = None  # runtime kinds it affects (None: any)


def java_pins(words: Sequence[Word]) -> list[FoundPin]:
    """`-Dprop=value` words that change TLS (the last one of a property wins, as in the JVM)."""
    out: list[FoundPin] = []
    for word in words:
        if word.text.startswith("-D"):
            prop, sep, value = word.text[2:].partition("=")
            if prop in JAVA_PROPERTIES:
                out.append(
                    FoundPin(
                        setting=f"-D{prop}", value=value if sep else "", source=word.source, kinds=("java",)
                    )
                )
    return out


def node_pins(words: Sequence[Word]) -> list[FoundPin]:
    """TLS options node reads: those before the script (`-e`/`-p` code, or the first non-option word)."""
    out: list[FoundPin] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        text = word.text
        if text in ("-e", "--eval", "-p", "--print", "-r", "--require", "--import", "--loader"):
            if text in ("-e", "--eval", "-p", "--print"):
                break
            skip = True
            continue
        if text == "--" or not text.startswith("-"):
            break
        if NODE_TLS_OPTION.match(text) or text.startswith("--tls-"):
            name, _, value = text.partition("=")
            out.append(FoundPin(setting=name, value=value or "set", source=word.source, kinds=("node",)))
    return out


def curl_pins(words: Sequence[Word]) -> list[FoundPin]:
    out: list[FoundPin] = []
    for i, word in enumerate(words):
        if CURL_TLS_OPTION.match(word.text):
            takes_value = word.text in ("--tls-max", "--ciphers")
            value = words[i + 1].text if takes_value and i + 1 < len(words) else "set"
            out.append(FoundPin(setting=word.text, value=value, source=word.source, kinds=("curl",)))
    return out


def php_pins(words: Sequence[Word]) -> list[FoundPin]:
    """`-d openssl.cafile=...` style ini settings on a php command line."""
    out: list[FoundPin] = []
    for i, word in enumerate(words):
        setting = None
        if word.text == "-d" and i + 1 < len(words):
            setting, source = words[i + 1].text, words[i + 1].source
        elif word.text.startswith("-d") and len(word.text) > 2:
            setting, source = word.text[2:], word.source
        if setting:
            name, _, value = setting.partition("=")
            if PHP_INI_TLS.match(name):
                out.append(FoundPin(setting=name, value=value, source=source, kinds=("php",)))
    return out


def command_pins(kind: str | None, words: Sequence[Word]) -> list[FoundPin]:
    """Pins on the command line of a runtime of `kind` (argv[0] included)."""
    args = list(words[1:])
    if kind == "java":
        return java_pins(_java_options(args))
    if kind == "node":
        return node_pins(args)
    if kind == "curl":
        return curl_pins(args)
    if kind == "php":
        return php_pins(args)
    return []


def _java_options(args: Sequence[Word]) -> list[Word]:
    """JVM options: the words before the main class, `-jar FILE` or `-m MODULE`."""
    out: list[Word] = []
    skip = False
    for word in args:
        if skip:
            skip = False
            continue
        if word.text in ("-cp", "-classpath", "--class-path", "-p", "--module-path", "--add-modules"):
            skip = True
            continue
        if word.text in ("-jar", "-m", "--module") or not word.text.startswith("-"):
            break
        out.append(word)
    return out


def environment_pins(env: Mapping[str, Assignment]) -> list[FoundPin]:
    """TLS variables of an environment, and the -D options inside JVM option variables."""
    out: list[FoundPin] = []
    for name, assignment in env.items():
        if name not in TLS_VARIABLES or name in ("JAVA_HOME", "JRE_HOME"):
            continue
        if name in JAVA_OPTION_VARIABLES:
            out.extend(java_pins(assignment.words))
            continue
        if name == "NODE_OPTIONS":
            out.append(
                FoundPin(setting=name, value=assignment.value, source=assignment.source, kinds=("node",))
            )
            continue
        out.append(
            FoundPin(
                setting=name, value=assignment.value, source=assignment.source, kinds=TLS_VARIABLES[name]
            )
        )
    return out


def process_environment(environ: Mapping[str, str], source: str) -> dict[str, Assignment]:
    """A process's environment as assignments made at `source` (e.g. `process 1234`)."""
    return {
        name: Assignment(
            name=name, value=value, words=tuple(Word(w, source) for w in value.split()), source=source
        )
        for name, value in environ.items()
    }
