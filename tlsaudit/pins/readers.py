"""Readers for the configuration files of common services: Tomcat (bin/setenv.sh, conf/catalina.properties),
WildFly/JBoss (bin/standalone.conf), jvm.options files (Elasticsearch, OpenSearch, Kafka style), php-fpm
pools (`env[...]`, `php_admin_value[...]`), Apache envvars, /etc/default, /etc/sysconfig, /etc/environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from tlsaudit.pins.envfile import Assignment, Word, logical_lines, parse
from tlsaudit.pins.rootfs import RootFS
from tlsaudit.pins.settings import JAVA_PROPERTIES, PHP_INI_TLS, FoundPin, java_pins

TOMCAT_HOMES = (
    "/opt/tomcat*",
    "/opt/*/tomcat*",
    "/opt/apache-tomcat*",
    "/usr/share/tomcat*",
    "/var/lib/tomcat*",
    "/usr/local/tomcat*",
    "/srv/tomcat*",
)
WILDFLY_HOMES = ("/opt/wildfly*", "/opt/jboss*", "/opt/*/wildfly*", "/usr/share/wildfly*", "/srv/wildfly*")
JVM_OPTIONS = (
    "/etc/*/jvm.options",
    "/etc/*/jvm*.options",
    "/etc/*/jvm.options.d/*.options",
    "/opt/*/config/jvm.options",
    "/opt/*/config/jvm.options.d/*.options",
    "/usr/share/*/config/jvm.options",
)
FPM_POOLS = (
    "/etc/php/*/fpm/pool.d/*.conf",
    "/etc/php-fpm.d/*.conf",
    "/etc/opt/remi/php*/php-fpm.d/*.conf",
    "/usr/local/etc/php-fpm.d/*.conf",
    "/etc/php*/php-fpm.d/*.conf",
)
APACHE_ENVVARS = ("/etc/apache2/envvars", "/etc/httpd/envvars", "/usr/local/apache2/bin/envvars")


@dataclass(slots=True)
class Found:
    """What one configuration place gives: environment assignments, pins, the folders it belongs to."""

    label: str
    kind: str | None
    program: str | None = None
    env: dict[str, Assignment] = field(default_factory=dict)
    pins: list[FoundPin] = field(default_factory=list)
    anchors: tuple[str, ...] = ()  # folders a service must name to own this (CATALINA_BASE, ...)
    errors: list[str] = field(default_factory=list)


def properties_pins(text: str, path: str) -> list[FoundPin]:
    """TLS system properties set in a Java .properties file (catalina.properties)."""
    out: list[FoundPin] = []
    for number, line in logical_lines(text, comments="#!"):
        stripped = line.strip()
        if not stripped or stripped[0] in "#!":
            continue
        m = re.match(r"([^=:\s]+)\s*[=:\s]\s*(.*)$", stripped)
        if m and m.group(1) in JAVA_PROPERTIES:
            out.append(
                FoundPin(
                    setting=f"-D{m.group(1)}",
                    value=m.group(2).strip(),
                    source=f"{path}:{number}",
                    kinds=("java",),
                )
            )
    return out


def jvm_options_pins(text: str, path: str) -> list[FoundPin]:
    """One JVM option per line; `#` comments; an optional `8:`, `9-:` or `9-13:` JDK-version prefix."""
    words = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        stripped = re.sub(r"^\d+(?:-\d*)?:", "", stripped)
        words.append(Word(stripped, f"{path}:{number}"))
    return java_pins(words)


def shell_env(
    fs: RootFS, path: PurePosixPath, seed: Mapping[str, Assignment] | None = None
) -> tuple[dict[str, Assignment], list[str]]:
    text = fs.read_text(path)
    if text is None:
        return dict(seed or {}), []
    parsed = parse(text, fs.show(path), "shell", seed)
    env = dict(seed or {})
    env.update(parsed.env())
    return env, parsed.errors


def tomcat(fs: RootFS) -> list[Found]:
    out: list[Found] = []
    for home in fs.glob_all(TOMCAT_HOMES):
        setenv = home / "bin" / "setenv.sh"
        props = home / "conf" / "catalina.properties"
        if not (fs.is_file(setenv) or fs.is_file(props) or fs.is_file(home / "bin" / "catalina.sh")):
            continue
        found = Found(label=f"Tomcat {fs.show(home)}", kind="java", anchors=(str(home),))
        found.env, found.errors = shell_env(fs, setenv)
        text = fs.read_text(props)
        if text is not None:
            found.pins.extend(properties_pins(text, fs.show(props)))
        out.append(found)
    return out


def wildfly(fs: RootFS) -> list[Found]:
    out: list[Found] = []
    for home in fs.glob_all(WILDFLY_HOMES):
        conf = home / "bin" / "standalone.conf"
        if not fs.is_file(conf):
            continue
        found = Found(label=f"WildFly {fs.show(home)}", kind="java", anchors=(str(home),))
        found.env, found.errors = shell_env(fs, conf)
        out.append(found)
    return out


def jvm_options(fs: RootFS) -> list[Found]:
    out: list[Found] = []
    for path in fs.glob_all(JVM_OPTIONS):
        text = fs.read_text(path)
        if text is None:
            continue
        pins = jvm_options_pins(text, fs.show(path))
        if pins:
            config_dir = path.parent.parent if path.parent.name.endswith(".d") else path.parent
            out.append(
                Found(
                    label=f"jvm.options {fs.show(path)}", kind="java", pins=pins, anchors=(str(config_dir),)
                )
            )
    return out


def php_fpm(fs: RootFS) -> list[Found]:
    out: list[Found] = []
    for path in fs.glob_all(FPM_POOLS):
        text = fs.read_text(path)
        if text is None:
            continue
        shown = fs.show(path)
        version = re.search(r"/php/(\d+\.\d+)/|php(\d+)", str(path))
        program = None
        if version and version.group(1) and fs.is_file(f"/usr/bin/php{version.group(1)}"):
            program = f"/usr/bin/php{version.group(1)}"
        elif fs.is_file("/usr/bin/php"):
            program = "/usr/bin/php"
        found = Found(
            label=f"php-fpm pool {shown}", kind="php", program=program, anchors=(str(path.parent.parent),)
        )
        for number, line in enumerate(text.splitlines(), 1):
            stripped = line.split(";", 1)[0].strip()
            m = re.match(
                r"^(env|php_admin_value|php_value|php_admin_flag|php_flag)\[([^\]]+)\]\s*=\s*(.*)$", stripped
            )
            if not m:
                continue
            source = f"{shown}:{number}"
            value = m.group(3).strip().strip('"')
            if m.group(1) == "env":
                found.env[m.group(2)] = Assignment(
                    name=m.group(2),
                    value=value,
                    words=tuple(Word(w, source) for w in value.split()),
                    source=source,
                )
            elif PHP_INI_TLS.match(m.group(2)):
                found.pins.append(FoundPin(setting=m.group(2), value=value, source=source, kinds=("php",)))
        out.append(found)
    return out


def apache(fs: RootFS) -> list[Found]:
    out: list[Found] = []
    for path in [PurePosixPath(p) for p in APACHE_ENVVARS]:
        if not fs.is_file(path):
            continue
        program = next((p for p in ("/usr/sbin/apache2", "/usr/sbin/httpd") if fs.is_file(p)), None)
        found = Found(label=f"Apache {fs.show(path)}", kind="openssl", program=program)
        found.env, found.errors = shell_env(fs, path)
        out.append(found)
    return out


def defaults(fs: RootFS, referenced: set[str]) -> list[Found]:
    """/etc/default/* and /etc/sysconfig/* that no unit reads through EnvironmentFile= (init scripts and
    wrapper scripts source them); the service they configure is the one of the same name."""
    out: list[Found] = []
    for path in fs.glob_all(("/etc/default/*", "/etc/sysconfig/*")):
        shown = fs.show(path)
        if shown in referenced or not fs.is_file(path):
            continue
        found = Found(label=f"{shown}", kind=None, anchors=(path.name,))
        found.env, found.errors = shell_env(fs, path)
        out.append(found)
    return out


def etc_environment(fs: RootFS) -> Found | None:
    text = fs.read_text("/etc/environment")
    if text is None:
        return None
    parsed = parse(text, fs.show("/etc/environment"), "environment")
    return Found(label="/etc/environment (login sessions)", kind=None, env=parsed.env(), errors=parsed.errors)
