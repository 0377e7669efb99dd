"""PHP: ext/curl (libcurl and its TLS backend) and PHP streams (ext/openssl's runtime library), apart."""

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
    str_tuple,
    text_or_none,
)
from tlsaudit.inspectors.dotnet import windows_version
from tlsaudit.inspectors.tlslib import openssl_banner, split_backend
from tlsaudit.models import FactValue, RuntimeFacts

KIND = "php"
CURL_VERSION_SSL = 4

# Runs on PHP 5.2+ (json_encode); phpinfo() gives the *runtime* OpenSSL, OPENSSL_VERSION_TEXT only the header.
SNIPPET = r"""
$o = array('php_version' => PHP_VERSION, 'sapi' => PHP_SAPI);
$o['curl_loaded'] = extension_loaded('curl');
$o['openssl_loaded'] = extension_loaded('openssl');
$o['curl'] = function_exists('curl_version') ? curl_version() : null;
$o['openssl_header'] = defined('OPENSSL_VERSION_TEXT') ? OPENSSL_VERSION_TEXT : null;
$o['transports'] = stream_get_transports();
$o['php_ini'] = function_exists('php_ini_loaded_file') ? php_ini_loaded_file() : null;
ob_start(); phpinfo(8); $i = ob_get_clean();
if (preg_match('/^OpenSSL Library Version => (.*)$/m', $i, $m)) { $o['openssl_library'] = trim($m[1]); }
elseif (preg_match('/^OpenSSL Version => (.*)$/m', $i, $m)) { $o['openssl_library'] = trim($m[1]); }
if (preg_match('/^OpenSSL Header Version => (.*)$/m', $i, $m)) { $o['openssl_header_info'] = trim($m[1]); }
echo "TLSAUDIT-JSON:", json_encode($o), "\n";
""".strip()

_PHP_NAME = re.compile(r"php(\d+(\.\d+)?)?(\.exe)?")


def parse_php(payload: Mapping[str, Any]) -> dict[str, FactValue]:
    """Details from the snippet's JSON (or a recorded one)."""
    details: dict[str, FactValue] = {}
    details["php_sapi"] = text_or_none(payload.get("sapi"))
    details["php_ini"] = text_or_none(payload.get("php_ini"))
    details["curl_loaded"] = bool(payload.get("curl_loaded"))
    details["openssl_loaded"] = bool(payload.get("openssl_loaded"))
    curl = payload.get("curl")
    if isinstance(curl, dict):
        details["curl_version"] = text_or_none(curl.get("version"))
        features = curl.get("features")
        ssl_text = text_or_none(curl.get("ssl_version"))
        if isinstance(features, int):
            details["curl_has_ssl"] = bool(features & CURL_VERSION_SSL) and ssl_text is not None
        elif ssl_text is None:
            details["curl_has_ssl"] = False
        if ssl_text:
            # MultiSSL builds list alternates in parentheses; the one without is in use.
            tokens = [t for t in re.findall(r"\(?[\w.\-]+(?:/[^\s()]+(?:\s+Basic ECC)?)?\)?", ssl_text)]
            active = next((t for t in tokens if not t.startswith("(")), tokens[0] if tokens else ssl_text)
            backend, version = split_backend(active)
            details["curl_ssl_backend"] = backend
            details["curl_ssl_version"] = version
            details["curl_ssl_version_text"] = ssl_text
            details["tls_library"] = backend
            details["tls_library_version"] = version
    library_text = text_or_none(payload.get("openssl_library"))
    header_text = text_or_none(payload.get("openssl_header")) or text_or_none(
        payload.get("openssl_header_info")
    )
    if library_text:
        name, version = openssl_banner(library_text)
        details["openssl_runtime_library"] = name
        details["openssl_runtime_version"] = version
        details["openssl_runtime_version_source"] = "phpinfo"
    if header_text:
        header_name, header_version = openssl_banner(header_text)
        details["openssl_header_version"] = header_version
        if not library_text and payload.get("openssl_loaded"):
            # Old builds print no library line; the header is of the same ABI series as the library.
            details["openssl_runtime_library"] = header_name
            details["openssl_runtime_version"] = header_version
            details["openssl_runtime_version_source"] = "OPENSSL_VERSION_TEXT (header)"
    transports = str_tuple(payload.get("transports"))
    if transports is not None:
        details["stream_transports"] = transports
    return clean_details(details)


class PhpInspector:
    kind = KIND

    def discover(self, ctx: Context, extra: Sequence[str | Path]) -> list[Path]:
        found = absolute(extra)
        if ctx.search_system:
            found += on_path(ctx.env, _PHP_NAME)
            found += [
                p
                for p in glob_all(
                    [
                        "/opt/remi/php*/root/usr/bin/php",
                        "/opt/cpanel/ea-php*/root/usr/bin/php",
                        "/opt/alt/php*/usr/bin/php",
                        "/usr/local/php*/bin/php",
                        "/opt/homebrew/opt/php*/bin/php",
                        "/usr/local/opt/php*/bin/php",
                    ]
                )
                if p.is_file()
            ]
        return dedupe(found)

    def inspect(self, target: Path, ctx: Context) -> list[RuntimeFacts]:
        result = ctx.run([str(target), "-r", SNIPPET])
        payload, reason = snippet_payload(result, "php -r")
        if payload is None:
            return [failed(KIND, target, reason, [result.evidence])]
        version = text_or_none(payload.get("php_version"))
        if version is None:
            return [failed(KIND, target, "php -r: no PHP_VERSION in output", [result.evidence])]
        details = parse_php(payload)
        if ctx.registry is not None:
            details["windows_version"] = windows_version(ctx.registry)
        return [
            RuntimeFacts(
                kind=KIND,
                path=str(target),
                version=version,
                details=clean_details(details),
                evidence=(result.evidence,),
            )
        ]
