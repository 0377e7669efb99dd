"""The service configuration readers on a --root tree: WildFly standalone.conf, an Elasticsearch-style
jvm.options owned by its unit, a php-fpm pool, Apache envvars; and the root never leaks."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from tests.pins.test_services import write
from tlsaudit.inspectors import InspectOptions, inspect_runtimes
from tlsaudit.models import RuntimeFacts
from tlsaudit.pins.rootfs import RootFS


def runtimes_under(root: Path) -> dict[str, RuntimeFacts]:
    found = inspect_runtimes(InspectOptions(root=str(root), services=True, processes=True))
    return {rt.path.removeprefix(str(root.resolve())): rt for rt in found}


def sources(rt: RuntimeFacts, root: Path) -> set[tuple[str, str, str]]:
    return {(p.setting, p.value, p.source.removeprefix(str(root.resolve()))) for p in rt.pins}


def test_wildfly_jvm_options_php_fpm_and_apache(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write(root, "/usr/bin/java", "").chmod(0o755)
    write(root, "/usr/bin/php8.2", "").chmod(0o755)
    write(root, "/usr/sbin/apache2", "").chmod(0o755)
    write(
        root,
        "/opt/wildfly/bin/standalone.conf",
        'if [ "x$JAVA_OPTS" = "x" ]; then\n   JAVA_OPTS="-Xms64m -Dhttps.protocols=TLSv1"\nfi\n',
    )
    write(
        root,
        "/lib/systemd/system/elasticsearch.service",
        "[Service]\nEnvironment=ES_PATH_CONF=/etc/elasticsearch\nExecStart=/usr/share/es/bin/systemd-entrypoint\n",
    )
    write(
        root, "/etc/elasticsearch/jvm.options", "-Xms1g\n## comment\n17-:-Djdk.tls.client.protocols=TLSv1.1\n"
    )
    write(
        root,
        "/etc/php/8.2/fpm/pool.d/www.conf",
        "[www]\nuser = www-data\nenv[OPENSSL_CONF] = /etc/ssl/old.cnf ; legacy\n"
        "php_admin_value[openssl.cafile] = /etc/ca.pem\n",
    )
    write(
        root,
        "/etc/apache2/envvars",
        "export APACHE_RUN_USER=www-data\nexport OPENSSL_CONF=/etc/ssl/apache.cnf\n",
    )
    found = runtimes_under(root)
    java = found["/usr/bin/java"]
    assert sources(java, root) >= {
        ("-Dhttps.protocols", "TLSv1", "/opt/wildfly/bin/standalone.conf:2"),
        ("-Djdk.tls.client.protocols", "TLSv1.1", "/etc/elasticsearch/jvm.options:3"),
    }
    assert java.details["run_by"] == (
        f"WildFly {root.resolve()}/opt/wildfly",
        "service elasticsearch.service",
    )
    assert java.details["pinned_client_protocols"] == ("TLSv1.1",)
    php = found["/usr/bin/php8.2"]
    assert sources(php, root) == {
        ("OPENSSL_CONF", "/etc/ssl/old.cnf", "/etc/php/8.2/fpm/pool.d/www.conf:3"),
        ("openssl.cafile", "/etc/ca.pem", "/etc/php/8.2/fpm/pool.d/www.conf:4"),
    }
    apache = found["/usr/sbin/apache2"]
    assert apache.kind == "openssl"
    assert sources(apache, root) == {("OPENSSL_CONF", "/etc/ssl/apache.cnf", "/etc/apache2/envvars:2")}


def test_rootfs_never_leaves_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    secret = tmp_path / "secret"
    secret.write_text("outside")
    (root / "etc" / "abs").symlink_to(secret)  # absolute: read as ROOT/<that path>, which is absent
    (root / "etc" / "rel").symlink_to("../../../secret")  # `..` stops at the root
    (root / "etc" / "loop").symlink_to("loop")
    (root / "etc" / "inside").symlink_to("/etc/real")
    (root / "etc" / "real").write_text("inside")
    fs = RootFS(root)
    assert fs.read_text("/etc/abs") is None
    assert fs.read_text("/etc/rel") is None
    (root / "secret").write_text("the image's own")
    assert fs.resolve("/etc/rel") == PurePosixPath("/secret")
    assert fs.read_text("/etc/rel") == "the image's own"
    assert fs.read_text("/etc/loop") is None
    assert fs.read_text("/etc/inside") == "inside"
    assert fs.read_text("/../../etc/real") == "inside"
    assert RootFS("/").read_text(str(secret)) == "outside" and os.path.isabs(str(secret))
