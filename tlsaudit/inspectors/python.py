"""Python: every interpreter found (2.7 included), its ssl module's OpenSSL and default context limits."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tlsaudit.inspectors.base import (
    Context,
    absolute,
    clean_details,
    dedupe,
    failed,
    glob_all,
    on_path,
    snippet_payload,
    text_or_none,
)
from tlsaudit.inspectors.host import LOCAL, Host
from tlsaudit.inspectors.openssl import config_path, protocol_name, read_config, system_default
from tlsaudit.inspectors.tlslib import openssl_banner
from tlsaudit.models import Evidence, FactValue, RuntimeFacts
from tlsaudit.versions import normalise

KIND = "python"

# Valid Python 2.6+ and 3.x. TLSVersion members print as numbers on 3.11, so names are read explicitly.
SNIPPET = r"""
import sys, json
o = {'python_version': '%d.%d.%d' % tuple(sys.version_info[:3]), 'implementation': sys.version.split()[0]}
try:
    import ssl
except Exception as e:
    o['ssl_error'] = repr(e)
else:
    o['openssl_version'] = getattr(ssl, 'OPENSSL_VERSION', None)
    o['openssl_version_info'] = list(getattr(ssl, 'OPENSSL_VERSION_INFO', ()))
    o['has_tls12'] = getattr(ssl, 'HAS_TLSv1_2', None)
    o['has_tls13'] = getattr(ssl, 'HAS_TLSv1_3', None)
    o['protocol_tlsv1_2'] = hasattr(ssl, 'PROTOCOL_TLSv1_2')
    o['has_sni'] = getattr(ssl, 'HAS_SNI', None)
    try:
        o['openssl_cafile'] = ssl.get_default_verify_paths().openssl_cafile
    except Exception:
        pass
    try:
        c = ssl.create_default_context()
        for k in ('minimum_version', 'maximum_version'):
            v = getattr(c, k, None)
            o[k] = None if v is None else getattr(v, 'name', str(v))
        o['security_level'] = getattr(c, 'security_level', None)
    except Exception as e:
        o['context_error'] = repr(e)
try:
    import sysconfig
    args = sysconfig.get_config_var('CONFIG_ARGS') or ''
    o['default_suites_openssl'] = '--with-ssl-default-suites=openssl' in args
except Exception:
    pass
sys.stdout.write('TLSAUDIT-JSON:' + json.dumps(o) + '\n')
""".strip()

_PYTHON_NAME = re.compile(r"python(\d+(\.\d+)?)?(\.exe)?")
_TLS_NAMES = {
    "SSLv3": "SSLv3",
    "TLSv1": "TLSv1.0",
    "TLSv1_1": "TLSv1.1",
    "TLSv1_2": "TLSv1.2",
    "TLSv1_3": "TLSv1.3",
    "MINIMUM_SUPPORTED": "library-default",
    "MAXIMUM_SUPPORTED": "library-default",
}


def tls_version_name(name: object) -> str | None:
    """`TLSv1_2` -> `TLSv1.2`; MINIMUM_/MAXIMUM_SUPPORTED -> `library-default` (OpenSSL's config decides)."""
    if not isinstance(name, str):
        return None
    return _TLS_NAMES.get(name, name)


def parse_python(payload: Mapping[str, Any]) -> dict[str, FactValue]:
    details: dict[str, FactValue] = {}
    banner = text_or_none(payload.get("openssl_version"))
    if banner:
        library, version = openssl_banner(banner)
        details["tls_library"] = library
        details["tls_library_version"] = version
        details["openssl_version_text"] = banner
    for key in ("has_tls12", "has_tls13", "protocol_tlsv1_2", "has_sni", "default_suites_openssl"):
        value = payload.get(key)
        if isinstance(value, bool):
            details[key] = value
    details["min_version"] = tls_version_name(payload.get("minimum_version"))
    details["max_version"] = tls_version_name(payload.get("maximum_version"))
    level = payload.get("security_level")
    if isinstance(level, int) and not isinstance(level, bool):
        details["security_level"] = level
    details["ssl_error"] = text_or_none(payload.get("ssl_error")) or text_or_none(
        payload.get("context_error")
    )
    return clean_details(details)


def config_limits(
    payload: Mapping[str, Any],
    details: Mapping[str, FactValue],
    env: Mapping[str, str],
    evidence: list[Evidence],
    host: Host = LOCAL,
) -> dict[str, FactValue]:
    """Interpreters without SSLContext.minimum_version (2.7, <= 3.6) still obey MinProtocol/MaxProtocol of the
    openssl.cnf their OpenSSL (1.1.0+) loads: read them there (OPENSSL_CONF, else OPENSSLDIR/openssl.cnf)."""
    library = normalise(str(details.get("tls_library_version") or ""), "openssl")
    cafile = text_or_none(payload.get("openssl_cafile"))
    if library is None or library.release[:2] < (1, 1) or details.get("tls_library") != "OpenSSL":
        return {}
    path, _source = config_path(env, str(Path(cafile).parent) if cafile else None)
    if path is None or not host.is_file(path):
        return {}
    section, chain = system_default(read_config(path, host=host))
    lowered = {k.lower(): v for k, v in (section or {}).items()}
    limits = {
        "min_version": protocol_name(lowered.get("minprotocol")),
        "max_version": protocol_name(lowered.get("maxprotocol")),
    }
    evidence.append(
        Evidence(
            argv=(),
            exit_code=None,
            stdout="\n".join(f"{k} = {v}" for k, v in limits.items() if v),
            note=f"read {path} ({chain}): this interpreter cannot report its context limits itself",
        )
    )
    return {**clean_details(limits), "min_max_source": str(path)}


class PythonInspector:
    kind = KIND

    def discover(self, ctx: Context, extra: Sequence[str | Path]) -> list[Path]:
        found = absolute(extra)
        if ctx.search_system:
            found += on_path(ctx.env, _PYTHON_NAME)
            roots = [ctx.env.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")]
            patterns = [f"{r}/versions/*/bin/python*" for r in roots if r and r.startswith("/")]
            patterns += [
                "/opt/python*/bin/python*",
                "/usr/local/opt/python*/bin/python*",
                "/opt/rh/*/root/usr/bin/python*",
            ]
            found += [p for p in glob_all(patterns) if _PYTHON_NAME.fullmatch(p.name) and p.is_file()]
        return dedupe(found)

    def inspect(self, target: Path, ctx: Context) -> list[RuntimeFacts]:
        result = ctx.run([str(target), "-E", "-s", "-c", SNIPPET])
        payload, reason = snippet_payload(result, "python -c")
        if payload is None:
            return [failed(KIND, target, reason, [result.evidence])]
        version = text_or_none(payload.get("python_version"))
        if version is None:
            return [failed(KIND, target, "python -c: no version in output", [result.evidence])]
        details = parse_python(payload)
        evidence = [result.evidence]
        if "max_version" not in details:
            details.update(config_limits(payload, details, ctx.env, evidence, ctx.host))
        return [
            RuntimeFacts(
                kind=KIND, path=str(target), version=version, details=details, evidence=tuple(evidence)
            )
        ]
